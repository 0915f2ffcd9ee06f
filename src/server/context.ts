import type { ThreadLoader } from '../loaders/thread-loader.ts';
import type { RequestThreads } from '../upstream/request-threads.ts';
import type { IdempotentCreates } from './idempotency.ts';

/** What every resolver gets: made fresh for each GraphQL request, never shared. */
export interface GatewayContext {
  readonly requestId: string;
  /** Who is calling, for scoping idempotency keys: a fingerprint, never a key. */
  readonly callerId: string;
  readonly threads: RequestThreads;
  readonly loaders: { readonly thread: ThreadLoader };
  readonly idempotentCreates: IdempotentCreates;
}
