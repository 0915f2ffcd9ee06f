import { randomUUID } from 'node:crypto';
import type { Config } from '../config/config.ts';
import { type Caller, createAuthenticator } from './auth.ts';

/** What a request learned on the way in, for its context and its log line. */
export interface RequestState {
  requestId: string;
  caller: Caller;
  started: number;
  /** Upstream calls the request made (its budget's count, set once its context exists). */
  upstreamCalls?: () => number;
  operationName?: string;
  hadErrors?: boolean;
}

/** A request's own request id, or a fresh one when it sent none that is safe to log and echo. */
function requestIdOf(request: Request): string {
  const incoming = request.headers.get('x-request-id');
  return incoming && /^[A-Za-z0-9._-]{1,128}$/.test(incoming) ? incoming : randomUUID();
}

/**
 * The state of every request in flight, made once per request (by whichever part of the door asks
 * first) and gone with the request object.
 */
export class RequestStates {
  readonly #states = new WeakMap<Request, RequestState>();
  readonly #authenticate: (request: Request) => Caller;

  constructor(config: Config) {
    this.#authenticate = createAuthenticator(config);
  }

  of(request: Request): RequestState {
    let state = this.#states.get(request);
    if (!state) {
      state = { requestId: requestIdOf(request), caller: this.#authenticate(request), started: performance.now() };
      this.#states.set(request, state);
    }
    return state;
  }

  /** The state, only if the request already has one (log and metrics hooks never make one). */
  peek(request: Request): RequestState | undefined {
    return this.#states.get(request);
  }
}
