import { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } from 'openai';
import { ErrorCode, GatewayError } from '../../errors.ts';

/**
 * Upstream failures, classified by status and transport fault only: never by the upstream's
 * message text, which differs between Threads servers and, from OpenAI, held part of the key.
 */
export type FaultKind = 'status' | 'timeout' | 'refused' | 'connection' | 'aborted' | 'malformed';

export interface UpstreamFault {
  kind: FaultKind;
  status?: number;
  headers?: Headers;
  requestId?: string;
  /** The API's `error.param` when it is a plain field name: safe to show, useful to the caller. */
  param?: string;
  /** A `malformed` answer that was cut off at UPSTREAM_MAX_RESPONSE_BYTES. */
  tooLarge?: boolean;
}

/** An upstream `x-request-id` as OpenAI and its look-alikes spell one. */
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
/**
 * What the logger redacts as a key (`sk-…`, `rk-…`, `pk-…`, `sess-…`): an upstream that echoes the
 * caller's key in `x-request-id` must not have it passed on as `upstreamRequestId`.
 */
const KEY_SHAPED = /^(?:sk|rk|pk|sess)[-_]/i;

/** Whether an upstream's `x-request-id` may be shown to callers. */
function isRequestId(value: string): boolean {
  return REQUEST_ID.test(value) && !KEY_SHAPED.test(value);
}

/** Connection errors that prove the request never left this process. */
const NOT_SENT_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'UND_ERR_CONNECT_TIMEOUT',
  // The transport gave up waiting for a free socket (see transport.ts).
  'UPSTREAM_POOL_WAIT',
]);

/** undici's code for an answer past the transport's `maxResponseSize`. */
const TOO_LARGE_CODE = 'UND_ERR_RES_EXCEEDED_MAX_SIZE';

/** The `code`s of an error, its causes and the errors it aggregates. */
export function causeCodes(error: unknown): string[] {
  const codes: string[] = [];
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current && typeof current === 'object'; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') codes.push(code);
    const errors = (current as { errors?: unknown }).errors;
    if (Array.isArray(errors)) codes.push(...errors.flatMap((inner) => causeCodes(inner)));
    current = (current as { cause?: unknown }).cause;
  }
  return codes;
}

/** The `code` of the error the transport fails calls with once the gateway has aborted upstream work. */
export const UPSTREAM_ABORTED_CODE = 'GATEWAY_UPSTREAM_ABORTED';

/**
 * A connection failure, worded by us. The SDK decides "timeout or not" by testing an error's text
 * (and its cause's) for "timed out", and undici's texts carry the upstream's host name: a host
 * called `timeout-proxy` would make every refused connection a timeout, and a create's outcome
 * "unknown" instead of "not created". So the transport fails with this fixed text; the codes of
 * the original error (and of the errors it aggregates) stay readable where `classifyFault` looks
 * for them, and the original is kept as `original` for logs. Only `AttemptTimeoutError` says
 * "timed out".
 */
export class ConnectionFault extends Error {
  override name = 'ConnectionFault';
  readonly code: string | undefined;
  readonly errors: Array<{ code: string }>;
  readonly original: Error;
  constructor(original: Error) {
    super('The upstream connection failed');
    const codes = causeCodes(original);
    this.code = codes[0];
    this.errors = codes.slice(1).map((code) => ({ code }));
    this.original = original;
  }
}

/** A connection failure by the codes of its causes. */
function connectionFault(codes: string[]): UpstreamFault {
  // The gateway itself ended the call (shutdown's deadline): not a fault to retry.
  if (codes.includes(UPSTREAM_ABORTED_CODE)) return { kind: 'aborted' };
  // The upstream did answer, with more than the cap: its answer is at fault, not the connection.
  if (codes.includes(TOO_LARGE_CODE)) return { kind: 'malformed', tooLarge: true };
  return { kind: codes.some((code) => NOT_SENT_CODES.has(code)) ? 'refused' : 'connection' };
}

export function classifyFault(error: unknown): UpstreamFault | undefined {
  if (error instanceof APIUserAbortError) return { kind: 'aborted' };
  if (error instanceof APIConnectionTimeoutError) return { kind: 'timeout' };
  if (error instanceof APIConnectionError) return connectionFault(causeCodes(error.cause));
  // A streamed answer's body that broke mid-way reaches its reader as the transport's own fault.
  if (error instanceof ConnectionFault) return connectionFault(causeCodes(error));
  if (error instanceof APIError && typeof error.status === 'number') {
    const fault: UpstreamFault = { kind: 'status', status: error.status };
    if (error.headers) fault.headers = error.headers;
    // Shown to callers: only what has the shape of a request id, never free upstream text.
    if (error.requestID && isRequestId(error.requestID)) fault.requestId = error.requestID;
    const param = (error.error as { param?: unknown } | undefined)?.param;
    if (typeof param === 'string' && /^[A-Za-z0-9_.[\]]{1,64}$/.test(param)) fault.param = param;
    return fault;
  }
  if (error instanceof UpstreamShapeError) return { kind: 'malformed' };
  return undefined;
}

/** The upstream answered 2xx with something that is not the object the API documents. */
export class UpstreamShapeError extends Error {
  override name = 'UpstreamShapeError';
}

function notTheDocumentedAnswer(cause: Error): UpstreamShapeError {
  return new UpstreamShapeError('the answer is not the JSON object the API documents', { cause });
}

/**
 * An SDK call's answer. The SDK parses a 2xx body before we can look at it: a body that is not
 * JSON, or not the list object its page class expects, surfaces as a SyntaxError / TypeError from
 * inside the SDK call. Those are the upstream's fault, not ours.
 */
export async function sdk<T>(call: Promise<T>): Promise<T> {
  try {
    return await call;
  } catch (error) {
    if (error instanceof SyntaxError || error instanceof TypeError) throw notTheDocumentedAnswer(error);
    throw error;
  }
}

/**
 * A read through the SDK, its answer checked by `check`; null when the upstream answers 404. What
 * `sdk` does to a failure, done in the same frame (reads are the hot path: one promise fewer).
 */
export async function sdkRead<T, R>(call: Promise<T>, check: (answer: T) => R): Promise<R | null> {
  let answer: T;
  try {
    answer = await call;
  } catch (error) {
    if (error instanceof SyntaxError || error instanceof TypeError) throw notTheDocumentedAnswer(error);
    const fault = classifyFault(error);
    if (fault?.kind === 'status' && fault.status === 404) return null;
    throw error;
  }
  return check(answer);
}

/** A list page's items, checked: a list object holding at most `limit` entries. */
export function listPage(
  page: { data: unknown; has_more: unknown },
  limit: number,
  what: string,
): { data: unknown[]; hasMore: boolean } {
  if (!Array.isArray(page.data) || typeof page.has_more !== 'boolean') {
    throw new UpstreamShapeError(`not a list of ${what}`);
  }
  if (page.data.length > limit) throw new UpstreamShapeError('a longer page than asked for');
  return { data: page.data, hasMore: page.has_more };
}

const STATUS_CODES: Record<number, { code: ErrorCode; message: (api: string, resource: string) => string }> = {
  400: { code: ErrorCode.BAD_USER_INPUT, message: (api) => `The ${api} rejected the request as invalid.` },
  401: { code: ErrorCode.UNAUTHENTICATED, message: (api) => `The ${api} did not accept the credentials.` },
  403: { code: ErrorCode.FORBIDDEN, message: (api) => `The ${api} refused access to this resource.` },
  404: { code: ErrorCode.NOT_FOUND, message: (_api, resource) => `The ${resource} was not found.` },
  408: { code: ErrorCode.UPSTREAM_TIMEOUT, message: (api) => `The ${api} timed out.` },
  422: { code: ErrorCode.BAD_USER_INPUT, message: (api) => `The ${api} rejected the request as invalid.` },
  429: { code: ErrorCode.RATE_LIMITED, message: (api) => `The ${api} is rate limiting requests; retry later.` },
  503: { code: ErrorCode.UPSTREAM_UNAVAILABLE, message: (api) => `The ${api} is unavailable right now.` },
};

export type CreateOutcome = 'unknown' | 'not_created';

export interface UpstreamErrorContext {
  outcome?: CreateOutcome;
  /** How the message names the upstream; default "Threads API". */
  apiName?: string;
  /** What was asked for ("thread", "message"); default "thread". */
  resource?: string;
}

/** The gateway's error for a failed upstream call: its own message, a code, never upstream text. */
export function upstreamError(fault: UpstreamFault, context: UpstreamErrorContext = {}): GatewayError {
  const api = context.apiName ?? 'Threads API';
  const resource = context.resource ?? 'thread';
  const extensions: Record<string, unknown> = {};
  if (fault.requestId) extensions.upstreamRequestId = fault.requestId;
  if (fault.status !== undefined) extensions.upstreamStatus = fault.status;
  if (fault.param) extensions.upstreamParam = fault.param;
  if (fault.kind === 'status' && fault.status === 429) {
    // The upstream's own wait, in whole seconds, for clients that back off (the gateway did not wait it out).
    const seconds = Number.parseFloat(fault.headers?.get('retry-after') ?? '');
    if (Number.isFinite(seconds) && seconds >= 0) extensions.retryAfter = Math.ceil(seconds);
  }
  if (context.outcome) extensions.outcome = context.outcome;
  const unknownNote =
    context.outcome === 'unknown'
      ? ` The ${resource} may have been created; retry with the same idempotencyKey to avoid a duplicate.`
      : '';
  switch (fault.kind) {
    case 'timeout':
      return new GatewayError(ErrorCode.UPSTREAM_TIMEOUT, `The ${api} did not answer in time.${unknownNote}`, {
        extensions,
      });
    case 'refused':
    case 'connection':
    case 'aborted':
      return new GatewayError(ErrorCode.UPSTREAM_UNAVAILABLE, `The ${api} could not be reached.${unknownNote}`, {
        extensions,
      });
    case 'malformed':
      return new GatewayError(
        ErrorCode.UPSTREAM_ERROR,
        fault.tooLarge
          ? `The ${api} answered with more than UPSTREAM_MAX_RESPONSE_BYTES; the answer was not read.${unknownNote}`
          : `The ${api} answered with something that is not the ${resource} asked for.${unknownNote}`,
        { extensions },
      );
    case 'status': {
      const status = fault.status ?? 500;
      const known = STATUS_CODES[status];
      if (known) return new GatewayError(known.code, `${known.message(api, resource)}${unknownNote}`, { extensions });
      return new GatewayError(ErrorCode.UPSTREAM_ERROR, `The ${api} failed with HTTP ${status}.${unknownNote}`, {
        extensions,
      });
    }
  }
}
