import { type BackendAnswer, fail } from '../http/answer.ts';
import { type Authenticate, assistantsApiGuard } from '../http/auth.ts';
import type { RememberedCreate } from '../http/idempotency.ts';
import { decodedId } from '../http/ids.ts';
import type { RouteSection } from '../http/route-table.ts';
import type { Store } from '../store/store.ts';

/** What the Threads routes (threads and their messages) are given by the backend. */
export interface ThreadRouteDeps {
  store: Store;
  authenticate: Authenticate;
  remembered: RememberedCreate;
  /**
   * Asked before a message is added to a thread (`POST …/messages`): the runs routes refuse one
   * while a run is active, as the API does. Undefined lets the message through.
   */
  beforeMessageCreate?(threadId: string): Promise<BackendAnswer | undefined>;
}

export function threadNotFound(id: string): BackendAnswer {
  return fail(404, { message: `No thread found with id '${id}'.`, code: 'thread_not_found' });
}

export function messageNotFound(id: string): BackendAnswer {
  return fail(404, { message: `No message found with id '${id}'.`, code: 'message_not_found' });
}

/** `/v1/threads/{thread_id}/messages/{message_id}`: a key, the beta header, then the ids. */
export function threadsSection(deps: ThreadRouteDeps): RouteSection {
  return {
    guard: assistantsApiGuard(deps.authenticate),
    ids: [decodedId(threadNotFound), decodedId(messageNotFound)],
  };
}
