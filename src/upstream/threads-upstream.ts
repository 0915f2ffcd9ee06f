import OpenAI from 'openai';
import type {
  Thread,
  ThreadCreateParams,
  ThreadDeleted,
  ThreadUpdateParams,
} from 'openai/resources/beta/threads/threads';
import { ErrorCode, GatewayError } from '../errors.ts';
import { classifyFault, type UpstreamFault, UpstreamShapeError, upstreamError } from './errors.ts';
import type { RequestBudget } from './request-budget.ts';
import { type CallSafety, createMayHaveHappened, isRetryable, retryDelayMs } from './retry-policy.ts';

export type { Thread, ThreadCreateParams, ThreadDeleted, ThreadUpdateParams };

/** The SDK's per-call options (timeout, headers, retries). */
type RequestOptions = NonNullable<Parameters<OpenAI['beta']['threads']['retrieve']>[1]>;

/** The fetch the SDK uses: the lean undici transport, or the local backend in-process. */
export type UpstreamFetch = (url: string | URL | Request, init?: RequestInit) => Promise<Response>;

export interface ThreadsUpstreamOptions {
  baseURL: string;
  /** The server's key. Absent in pass-through mode, where each session carries the caller's key. */
  apiKey?: string;
  fetch: UpstreamFetch;
  timeoutMs: number;
  maxRetries: number;
}

/** One finished upstream attempt, for metrics and logs. */
export interface UpstreamCallRecord {
  method: 'GET' | 'POST' | 'DELETE';
  route: '/threads' | '/threads/{id}';
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

/** The four Threads calls as the rest of the gateway uses them; `ThreadsUpstream` is the real one. */
export interface ThreadsApi {
  retrieve(session: UpstreamSession, id: string): Promise<Thread | null>;
  create(session: UpstreamSession, body: ThreadCreateParams, idempotencyKey?: string): Promise<Thread>;
  update(session: UpstreamSession, id: string, body: ThreadUpdateParams): Promise<Thread>;
  delete(session: UpstreamSession, id: string): Promise<ThreadDeleted>;
}

interface CallSpec<T> {
  method: UpstreamCallRecord['method'];
  route: UpstreamCallRecord['route'];
  safety: CallSafety;
  /** A 404 on a retry of a delete means an earlier attempt already deleted it. */
  on404AfterRetry?: () => T;
  send: (options: RequestOptions) => Promise<T>;
}

/** Refusals that belong to the request that made the call, not to one that joined it. */
function isCallerRefusal(error: unknown): boolean {
  return (
    error instanceof GatewayError &&
    (error.code === ErrorCode.UPSTREAM_CALL_LIMIT || error.code === ErrorCode.RATE_LIMITED)
  );
}

/** Reads are shared only between callers with the same upstream credential (one client per base URL). */
function readKey(session: UpstreamSession, id: string): string {
  return `${session.credential ?? ''}\u0000${id}`;
}

export function isThread(value: unknown): value is Thread {
  if (!value || typeof value !== 'object') return false;
  const thread = value as Record<string, unknown>;
  return typeof thread.id === 'string' && typeof thread.created_at === 'number';
}

function assertThread(value: unknown): Thread {
  if (!isThread(value)) throw new UpstreamShapeError('not a thread object');
  return value;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref?.());
}

function faultStatus(fault: UpstreamFault): UpstreamCallRecord['status'] {
  if (fault.kind === 'status') return fault.status ?? 0;
  return fault.kind === 'malformed' ? 200 : fault.kind;
}

/**
 * The Threads calls, through one long-lived `openai` client per upstream. It owns the retry policy
 * and the deadline, and coalesces identical in-flight reads of callers that share a credential.
 */
export class ThreadsUpstream implements ThreadsApi {
  readonly baseURL: string;
  readonly #client: OpenAI;
  readonly #timeoutMs: number;
  readonly #maxRetries: number;
  readonly #passThrough: boolean;
  /** In-flight GETs by credential and id; entries live only while their GET runs. */
  readonly #inFlightReads = new Map<string, Promise<Thread | null>>();

  constructor(options: ThreadsUpstreamOptions) {
    this.baseURL = options.baseURL;
    this.#timeoutMs = options.timeoutMs;
    this.#maxRetries = options.maxRetries;
    this.#passThrough = options.apiKey === undefined;
    this.#client = new OpenAI({
      // In pass-through mode every call sets its own Authorization header, see #options().
      apiKey: options.apiKey ?? 'pass-through-key-is-set-per-request',
      baseURL: options.baseURL,
      organization: null,
      project: null,
      maxRetries: 0,
      timeout: options.timeoutMs,
      fetch: options.fetch,
    });
  }

  /** The thread, or null when the upstream answers 404. */
  retrieve(session: UpstreamSession, id: string): Promise<Thread | null> {
    const joined = this.#inFlightReads.get(readKey(session, id));
    if (joined) {
      // The owner's own call budget and rate limit are not this request's: if they stopped it, read for ourselves.
      return joined.catch((error: unknown) => {
        if (isCallerRefusal(error)) return this.#read(session, id);
        throw error;
      });
    }
    return this.#read(session, id);
  }

  #read(session: UpstreamSession, id: string): Promise<Thread | null> {
    const key = readKey(session, id);
    const read = this.#call<Thread | null>(session, {
      method: 'GET',
      route: '/threads/{id}',
      safety: 'idempotent',
      send: async (options) => {
        try {
          return assertThread(await this.#client.beta.threads.retrieve(id, options));
        } catch (error) {
          const fault = classifyFault(error);
          if (fault?.kind === 'status' && fault.status === 404) return null;
          throw error;
        }
      },
    }).finally(() => {
      if (this.#inFlightReads.get(key) === read) this.#inFlightReads.delete(key);
    });
    this.#inFlightReads.set(key, read);
    return read;
  }

  create(session: UpstreamSession, body: ThreadCreateParams, idempotencyKey?: string): Promise<Thread> {
    return this.#call(session, {
      method: 'POST',
      route: '/threads',
      safety: 'create',
      send: async (options) => {
        const headers = idempotencyKey ? { ...options.headers, 'Idempotency-Key': idempotencyKey } : options.headers;
        return assertThread(await this.#client.beta.threads.create(body, { ...options, headers }));
      },
    });
  }

  update(session: UpstreamSession, id: string, body: ThreadUpdateParams): Promise<Thread> {
    this.#forgetRead(session, id);
    return this.#call(session, {
      method: 'POST',
      route: '/threads/{id}',
      safety: 'idempotent',
      send: async (options) => assertThread(await this.#client.beta.threads.update(id, body, options)),
    });
  }

  delete(session: UpstreamSession, id: string): Promise<ThreadDeleted> {
    this.#forgetRead(session, id);
    return this.#call<ThreadDeleted>(session, {
      method: 'DELETE',
      route: '/threads/{id}',
      safety: 'idempotent',
      on404AfterRetry: () => ({ id, object: 'thread.deleted', deleted: true }),
      send: async (options) => {
        const deleted = await this.#client.beta.threads.delete(id, options);
        if (!deleted || typeof deleted !== 'object' || typeof deleted.deleted !== 'boolean') {
          throw new UpstreamShapeError('not a deletion object');
        }
        return deleted;
      },
    });
  }

  /** A write must not let a later read join a GET that started before it. */
  #forgetRead(session: UpstreamSession, id: string): void {
    this.#inFlightReads.delete(readKey(session, id));
  }

  #options(session: UpstreamSession, timeout: number): RequestOptions {
    const options: RequestOptions = { timeout, maxRetries: 0 };
    if (this.#passThrough) {
      if (!session.credential) {
        throw new GatewayError(ErrorCode.UNAUTHENTICATED, 'Send your Threads API key as Authorization: Bearer <key>.');
      }
      options.headers = { Authorization: `Bearer ${session.credential}` };
    }
    return options;
  }

  async #call<T>(session: UpstreamSession, spec: CallSpec<T>): Promise<T> {
    let last: UpstreamFault | undefined;
    for (let attempt = 0; attempt <= this.#maxRetries; attempt++) {
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
        const result = await spec.send(this.#options(session, Math.min(this.#timeoutMs, remaining)));
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
      if (attempt === this.#maxRetries || !isRetryable(fault, spec.safety)) break;
      const wait = retryDelayMs(fault, attempt);
      // A wait that would run past the request's deadline is not worth starting.
      if (Date.now() + wait >= session.deadline) break;
      await sleep(wait);
    }
    const fault = last ?? { kind: 'timeout' };
    if (spec.safety === 'create') {
      throw upstreamError(fault, { outcome: createMayHaveHappened(fault) ? 'unknown' : 'not_created' });
    }
    throw upstreamError(fault);
  }
}
