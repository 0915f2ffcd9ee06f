import { setTimeout as sleep } from 'node:timers/promises';
import type OpenAI from 'openai';
import { ErrorCode, GatewayError } from '../../errors.ts';
import { classifyFault, type UpstreamFault, upstreamError } from './faults.ts';
import type { RequestBudget } from './request-budget.ts';
import { type CallSafety, createMayHaveHappened, isRetryable, retryDelayMs } from './retry-policy.ts';

/** The SDK's per-call options (timeout, headers, retries). */
export type RequestOptions = NonNullable<Parameters<OpenAI['beta']['threads']['retrieve']>[1]>;

/** The fetch the SDK uses: the lean undici transport, or the local backend in-process. */
export type UpstreamFetch = (url: string | URL | Request, init?: RequestInit) => Promise<Response>;

/** One finished upstream attempt, for metrics and logs. */
export interface UpstreamCallRecord {
  method: 'GET' | 'POST' | 'DELETE';
  /** The route's shape, ids replaced by `{id}` (a bounded metrics label). */
  route: string;
  /** HTTP status, or the transport fault when there was none. */
  status: number | 'timeout' | 'refused' | 'connection' | 'aborted';
  outcome: 'success' | 'not_found' | 'error';
  durationMs: number;
}

/** Everything one GraphQL request brings to its upstream calls. */
export interface UpstreamSession {
  /** The caller's own key (pass-through mode); undefined uses the server's key. */
  readonly credential: string | undefined;
  /** Epoch ms after which no upstream work of this request may run. */
  readonly deadline: number;
  readonly budget: RequestBudget;
  readonly onCall?: (record: UpstreamCallRecord) => void;
}

/** One logical upstream call: what to send, and how safe it is to send again. */
export interface CallSpec<T> {
  method: UpstreamCallRecord['method'];
  route: string;
  /** What the call is about, as errors name it ("thread", "message"). */
  resource: string;
  safety: CallSafety;
  /** A 404 on a retry of a delete means an earlier attempt already deleted it. */
  on404AfterRetry?: () => T;
  /**
   * Sends one attempt with the SDK. Resolve null for "not found" (recorded as a 404); throw the
   * SDK's error, or `UpstreamShapeError` for a 2xx that is not what the API documents.
   */
  send: (options: RequestOptions) => Promise<T>;
}

export interface UpstreamCallsOptions {
  timeoutMs: number;
  maxRetries: number;
  /** No server key: every call carries the session's own credential, or is refused. */
  passThrough: boolean;
  /** How errors name the upstream, e.g. "Threads API". */
  apiName: string;
}

/** The SDK options with the create's Idempotency-Key header, when the caller gave one. */
export function withIdempotencyKey(options: RequestOptions, key: string | undefined): RequestOptions {
  return key ? { ...options, headers: { ...options.headers, 'Idempotency-Key': key } } : options;
}

/**
 * Starts an upstream call now. A call that throws at once still fails as a rejected promise, as it
 * would from an async function, without an async frame of its own (the forwarders' fast path).
 */
export function callNow<T>(call: () => Promise<T>): Promise<T> {
  try {
    return call();
  } catch (error) {
    return Promise.reject(error);
  }
}

function faultStatus(fault: UpstreamFault): UpstreamCallRecord['status'] {
  if (fault.kind === 'status') return fault.status ?? 0;
  return fault.kind === 'malformed' ? 200 : fault.kind;
}

/**
 * The per-call machinery every adapter shares, for one upstream (one base URL): the retry policy,
 * the request's deadline and budget, the per-attempt records, the create-outcome rule, and the
 * coalescing of identical in-flight reads with the eviction of what a write changes.
 *
 * Read keys are the adapter's name for the full read, path-shaped (`threads/{id}`,
 * `threads/{id}/messages?limit=…`), so a write can forget a resource and everything under it.
 * Reads are shared only between sessions with the same credential.
 */
export class UpstreamCalls {
  readonly #options: UpstreamCallsOptions;
  /** In-flight reads by credential and read key; entries live only while their read runs. */
  readonly #inFlightReads = new Map<string, Promise<unknown>>();

  constructor(options: UpstreamCallsOptions) {
    this.#options = options;
  }

  /** A read that joins an identical one already in flight for the same credential. */
  read<T>(session: UpstreamSession, readKey: string, spec: CallSpec<T>): Promise<T> {
    const key = this.#key(session, readKey);
    const joined = this.#inFlightReads.get(key) as Promise<T> | undefined;
    if (joined) {
      // The owner's own call budget and rate limit are not this request's: if they stopped it, read for ourselves.
      return joined.catch((error: unknown) => {
        if (
          error instanceof GatewayError &&
          (error.code === ErrorCode.UPSTREAM_CALL_LIMIT || error.code === ErrorCode.RATE_LIMITED)
        ) {
          return this.#ownRead(session, key, spec);
        }
        throw error;
      });
    }
    return this.#ownRead(session, key, spec);
  }

  #ownRead<T>(session: UpstreamSession, key: string, spec: CallSpec<T>): Promise<T> {
    const read = this.call(session, spec).finally(() => {
      if (this.#inFlightReads.get(key) === read) this.#inFlightReads.delete(key);
    });
    this.#inFlightReads.set(key, read);
    return read;
  }

  /**
   * A write must not let a later read join a read that started before it: forgets the in-flight
   * read `readKey` and, with `under`, every read below it (`readKey/…`, `readKey?…`).
   */
  forget(session: UpstreamSession, readKey: string, { under = false }: { under?: boolean } = {}): void {
    const key = this.#key(session, readKey);
    this.#inFlightReads.delete(key);
    if (!under) return;
    for (const inFlight of [...this.#inFlightReads.keys()]) {
      if (inFlight.startsWith(`${key}/`) || inFlight.startsWith(`${key}?`)) this.#inFlightReads.delete(inFlight);
    }
  }

  #key(session: UpstreamSession, readKey: string): string {
    return `${session.credential ?? ''}\u0000${readKey}`;
  }

  #requestOptions(session: UpstreamSession, timeout: number): RequestOptions {
    const options: RequestOptions = { timeout, maxRetries: 0 };
    if (this.#options.passThrough) {
      if (!session.credential) {
        throw new GatewayError(
          ErrorCode.UNAUTHENTICATED,
          `Send your ${this.#options.apiName} key as Authorization: Bearer <key>.`,
        );
      }
      options.headers = { Authorization: `Bearer ${session.credential}` };
    }
    return options;
  }

  /** One logical call: attempts under the retry policy, the deadline and the budget. */
  async call<T>(session: UpstreamSession, spec: CallSpec<T>): Promise<T> {
    const { maxRetries, timeoutMs, apiName } = this.#options;
    let last: UpstreamFault | undefined;
    for (let attempt = 0; attempt <= maxRetries; attempt++) {
      if (session.deadline - Date.now() <= 0) break;
      await session.budget.acquire();
      // Measured after the wait for a slot: time spent queued counts against the deadline.
      const remaining = session.deadline - Date.now();
      if (remaining <= 0) {
        session.budget.release();
        break;
      }
      const started = performance.now();
      let fault: UpstreamFault | undefined;
      try {
        const result = await spec.send(this.#requestOptions(session, Math.min(timeoutMs, remaining)));
        session.onCall?.({
          method: spec.method,
          route: spec.route,
          status: result === null ? 404 : 200,
          outcome: result === null ? 'not_found' : 'success',
          durationMs: performance.now() - started,
        });
        return result;
      } catch (error) {
        fault = classifyFault(error);
        if (!fault) throw error;
        session.onCall?.({
          method: spec.method,
          route: spec.route,
          status: faultStatus(fault),
          outcome: fault.kind === 'status' && fault.status === 404 ? 'not_found' : 'error',
          durationMs: performance.now() - started,
        });
      } finally {
        session.budget.release();
      }
      if (attempt > 0 && spec.on404AfterRetry && fault.kind === 'status' && fault.status === 404) {
        return spec.on404AfterRetry();
      }
      last = fault;
      if (attempt === maxRetries || !isRetryable(fault, spec.safety)) break;
      const wait = retryDelayMs(fault, attempt);
      // A wait that would run past the request's deadline is not worth starting.
      if (Date.now() + wait >= session.deadline) break;
      await sleep(wait, undefined, { ref: false });
    }
    const fault = last ?? { kind: 'timeout' };
    const context = { apiName, resource: spec.resource };
    if (spec.safety === 'create') {
      throw upstreamError(fault, { ...context, outcome: createMayHaveHappened(fault) ? 'unknown' : 'not_created' });
    }
    throw upstreamError(fault, context);
  }
}
