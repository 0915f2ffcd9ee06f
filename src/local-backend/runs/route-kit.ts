import { THREAD_ID_PATTERN } from '../../domain/thread-rules.ts';
import { type BackendAnswer, fail, json, listBody } from '../http/answer.ts';
import type { RememberedCreate } from '../http/idempotency.ts';
import type { ListQuery, ListResult } from '../store/run-store.ts';
import type { Store } from '../store/store.ts';
import type { RunDriver } from './run-driver.ts';
import type { RunEvents } from './run-events.ts';

/** What the runs and assistants handlers share: the store, the run driver and its events, the Idempotency-Key mechanism. */
export interface RunRouteContext {
  store: Store;
  driver: RunDriver;
  /** What streamed requests follow (the driver publishes to it). */
  events: RunEvents;
  remembered: RememberedCreate;
  /** LOCAL_BACKEND_RUN_TIMEOUT_S, in milliseconds. */
  runTimeoutMs: number;
}

export function threadNotFound(id: string): BackendAnswer {
  return fail(404, { message: `No thread found with id '${id}'.`, code: 'thread_not_found' });
}

export function runNotFound(id: string): BackendAnswer {
  return fail(404, { message: `No run found with id '${id}'.`, code: 'run_not_found' });
}

export function assistantNotFound(id: string): BackendAnswer {
  return fail(404, { message: `No assistant found with id '${id}'.`, code: 'assistant_not_found' });
}

/** `limit`, `order`, `after`, `before`, as the runs and assistants lists read them. */
export function parseListQuery(search: string): ListQuery | BackendAnswer {
  const params = new URLSearchParams(search);
  const query: ListQuery = { limit: 20, order: 'desc' };
  for (const [name, value] of params) {
    if (name === 'limit') {
      if (!/^\d{1,3}$/.test(value) || Number(value) < 1 || Number(value) > 100) {
        return fail(400, { message: 'limit: must be an integer from 1 to 100.', param: 'limit' });
      }
      query.limit = Number(value);
    } else if (name === 'order') {
      if (value !== 'asc' && value !== 'desc') {
        return fail(400, { message: "order: must be 'asc' or 'desc'.", param: 'order' });
      }
      query.order = value;
    } else if (name === 'after' || name === 'before') {
      if (!THREAD_ID_PATTERN.test(value)) return fail(400, { message: `${name}: must be an id.`, param: name });
      query[name] = value;
    } else {
      return fail(400, { message: `Unrecognized request argument supplied: ${name}`, param: name });
    }
  }
  return query;
}

/** A list page as the API answers it, or the 400 for a cursor that names nothing in the list. */
export function listAnswer<T extends { id: string }>(
  result: Exclude<ListResult<T>, { kind: 'no-thread' }>,
): BackendAnswer {
  if (result.kind === 'bad-cursor') {
    return fail(400, { message: `${result.param}: no object with this id in the list.`, param: result.param });
  }
  return json(200, listBody(result.data, result.has_more));
}
