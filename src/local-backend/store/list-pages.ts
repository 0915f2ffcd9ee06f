// The API's list pages, for every store. `after` and `before` follow the list's order; a `before`
// page is the previous page: the `limit` entries nearest the cursor, still in the list's order, with
// `has_more` saying whether more lie beyond them (further from the cursor).

interface PageQuery {
  limit: number;
  order: 'asc' | 'desc';
  after?: string | undefined;
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
function pageOfWindow<T>(window: T[], query: PageQuery): { data: T[]; has_more: boolean } {
  const data = query.before === undefined ? window.slice(0, query.limit) : window.slice(-query.limit);
  return { data, has_more: window.length > query.limit };
}

/** In memory: the page of `items` (in creation order) between the query's cursors, in its order. */
export function pageBetween<T extends { id: string }>(
  items: readonly T[],
  query: PageQuery,
): { data: T[]; has_more: boolean } {
  const ordered = query.order === 'desc' ? [...items].reverse() : [...items];
  const start = query.after === undefined ? 0 : ordered.findIndex((item) => item.id === query.after) + 1;
  const end = query.before === undefined ? ordered.length : ordered.findIndex((item) => item.id === query.before);
  return pageOfWindow(ordered.slice(start, Math.max(start, end)), query);
}
