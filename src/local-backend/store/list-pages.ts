// The API's list pages, for every store. `after` and `before` follow the list's order; a `before`
// page is the previous page: the `limit` entries nearest the cursor, still in the list's order, with
// `has_more` saying whether more lie beyond them (further from the cursor).

interface PageQuery {
  limit: number;
  order: 'asc' | 'desc';
  before?: string | undefined;
}

/** The order a store reads a page in: a `before` page from its cursor outwards. */
export function readOrder(query: PageQuery): 'asc' | 'desc' {
  if (query.before === undefined) return query.order;
  return query.order === 'asc' ? 'desc' : 'asc';
}

/** A page from up to `limit + 1` entries read in `readOrder`. */
export function pageFromRead<T>(read: T[], query: PageQuery): { data: T[]; has_more: boolean } {
  const data = read.slice(0, query.limit);
  if (query.before !== undefined) data.reverse();
  return { data, has_more: read.length > query.limit };
}

/** A page from the whole window between the cursors, in the list's order. */
export function pageOfWindow<T>(window: T[], query: PageQuery): { data: T[]; has_more: boolean } {
  const data = query.before === undefined ? window.slice(0, query.limit) : window.slice(-query.limit);
  return { data, has_more: window.length > query.limit };
}
