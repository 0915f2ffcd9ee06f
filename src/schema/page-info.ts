import { builder } from './builder.ts';

/** Where one page of a connection sits; every connection of the graph shares Relay's one PageInfo. */
export interface PageInfoShape {
  hasNextPage: boolean;
  hasPreviousPage: boolean;
  startCursor: string | null;
  endCursor: string | null;
}

export const PageInfoRef = builder.objectRef<PageInfoShape>('PageInfo').implement({
  description: 'Relay’s page information for a connection.',
  fields: (t) => ({
    hasNextPage: t.exposeBoolean('hasNextPage', {
      description:
        'Paging forward (`first`/`after`): whether more entries follow this page. False when paging backward.',
    }),
    hasPreviousPage: t.exposeBoolean('hasPreviousPage', {
      description:
        'Paging backward (`last`/`before`): whether more entries precede this page. False when paging forward.',
    }),
    startCursor: t.exposeString('startCursor', {
      nullable: true,
      description: 'The cursor of the first entry of this page; null when the page is empty.',
    }),
    endCursor: t.exposeString('endCursor', {
      nullable: true,
      description: 'The cursor of the last entry of this page; null when the page is empty.',
    }),
  }),
});
