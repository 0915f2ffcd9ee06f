import type { IdempotentCreates } from '../features/idempotency/idempotent-creates.ts';
import type { MessageLoaders } from '../loaders/message-loaders.ts';
import type { RunLoaders } from '../loaders/run-loaders.ts';
import type { ThreadLoader } from '../loaders/thread-loader.ts';
import type { RequestUpstream } from '../upstream/request-scoped-api.ts';

/** What every resolver gets: made fresh for each GraphQL request, never shared. */
export interface GatewayContext {
  readonly requestId: string;
  /** Who is calling, for scoping idempotency keys: a fingerprint, never a key. */
  readonly callerId: string;
  /** The upstream API (whichever adapter), bound to this request's session. */
  readonly upstream: RequestUpstream;
  readonly loaders: {
    readonly thread: ThreadLoader;
    readonly messages: MessageLoaders;
    /** Runs and assistants. */
    readonly runs: RunLoaders;
  };
  readonly idempotentCreates: IdempotentCreates;
}
