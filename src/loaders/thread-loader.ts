import DataLoader from 'dataloader';
import { toError } from '../errors.ts';
import type { RequestUpstream } from '../upstream/request-scoped-api.ts';
import type { Thread } from '../upstream/upstream-api.ts';

export type ThreadLoader = DataLoader<string, Thread | null>;

/**
 * One per GraphQL request: every read of a thread in that request goes through it, so repeated ids
 * cost one GET and distinct ids are fetched together (the request's budget bounds how many at once).
 * A 404 loads as null; any other failure is that id's own error.
 */
export function createThreadLoader(upstream: RequestUpstream, onBatch?: (size: number) => void): ThreadLoader {
  return new DataLoader<string, Thread | null>(
    (ids) => {
      onBatch?.(ids.length);
      return Promise.all(ids.map((id) => upstream.retrieveThread(id).catch((error: unknown) => toError(error))));
    },
    { name: 'thread' },
  );
}
