import OpenAI, { APIConnectionError, APIConnectionTimeoutError, type ClientOptions, OpenAIError } from 'openai';
import { VERSION } from 'openai/version';
import { isPlainObject } from '../../domain/thread-rules.ts';
import { toError } from '../../errors.ts';
import { isTransportFetch, type TransportFetch } from './transport.ts';

/**
 * The `openai` client with two of its public hooks made cheap for the calls the gateway makes.
 * Everything else is the SDK's own: `makeRequest`, its error classes, `APIPromise`, the parsing.
 *
 * - `buildRequest`: the SDK merges six header sources through WHATWG `Headers` and parses the URL
 *   on every call. For a call it recognises as plain (a JSON or no body, a plain path, string
 *   headers, none of the client features the gateway does not use), this builds the same request
 *   with a plain header object and string concatenation; anything else goes to the SDK's method.
 * - `fetchWithTimeout`: with the gateway's transport as `fetch`, which times attempts itself, the SDK's
 *   timer is skipped, and the timeout counts from the moment a socket takes the request, not from
 *   when it joined the pool's queue. The SDK's per-call controller still ends a streamed answer
 *   (its stream aborts it when its reader stops early).
 *
 * The requests are the SDK's minus its `x-stainless-*` telemetry (the transport drops those
 * anyway). test/upstream/lean-openai.test.ts pins both against the SDK: same URL, method, headers
 * and body for every call the adapters make, and it fails if the SDK stops calling these hooks.
 */
type BuildOptions = Parameters<OpenAI['buildRequest']>[0];
type Built = Awaited<ReturnType<OpenAI['buildRequest']>>;

/** A GET's per-call options, as the SDK's `get` takes them (timeout, retries, headers, query). */
export type ReadOptions = Exclude<NonNullable<Parameters<OpenAI['get']>[1]>, Promise<unknown>>;

/** What the SDK percent-encodes in a path parameter: everything but RFC 3986's pchar. */
const NOT_PCHAR = /[^A-Za-z0-9\-._~!$&'()*+,;=:@]+/g;

/**
 * A path with its parameters encoded as the SDK's resource methods encode them, refusing `.` and
 * `..` (which would name another resource) with the SDK's error class, as the SDK does.
 */
export function sdkPath(statics: TemplateStringsArray, ...params: string[]): string {
  let path = statics[0] ?? '';
  params.forEach((param, index) => {
    const encoded = String(param).replace(NOT_PCHAR, encodeURIComponent);
    if (encoded === '.' || encoded === '..') {
      throw new OpenAIError(`Value "${encoded}" can't be safely passed as a path parameter`);
    }
    path += encoded + (statics[index + 1] ?? '');
  });
  return path;
}

/** The characters `encodeURIPath` leaves as they are, and percent escapes: kept as is by `new URL`. */
const PLAIN_PATH = /^(?:\/(?:[A-Za-z0-9\-._~!$&'()*+,;=:@]|%[0-9A-Fa-f]{2})*)+$/;
/** `.` and `..` segments, which `new URL` would resolve away. */
const DOT_SEGMENT = /(?:^|\/)(?:\.|%2e){1,2}(?:\/|$)/i;
/** A query string `new URL` keeps byte for byte (the SDK's `qs` output percent-encodes the rest). */
const PLAIN_QUERY = /^[A-Za-z0-9\-._~%=&]*$/;

/** What every fast-path request shares, settled once per client. */
interface PlainSetup {
  base: string;
  userAgent: string;
  authorization: string;
}

interface NullableHeadersShape {
  values: Headers;
  nulls: Set<string>;
}

function isNullableHeaders(headers: object): headers is NullableHeadersShape {
  const shape = headers as Partial<NullableHeadersShape>;
  return shape.values instanceof Headers && shape.nulls instanceof Set;
}

/**
 * Applies a call's own headers over `target` as the SDK's `buildHeaders` does (names lower-cased,
 * `null` removes, `undefined` is ignored). False when they come in a form the fast path leaves to
 * the SDK (arrays of values, a `Headers` object, anything else).
 */
function applyHeaders(target: Record<string, string>, headers: unknown): boolean {
  if (headers === undefined || headers === null) return true;
  if (typeof headers !== 'object') return false;
  if (isNullableHeaders(headers)) {
    headers.values.forEach((value, name) => {
      target[name] = value;
    });
    for (const name of headers.nulls) delete target[name];
    return true;
  }
  if (!isPlainObject(headers)) return false;
  for (const name in headers) {
    const value = headers[name];
    if (value === undefined) continue;
    const lower = name.toLowerCase();
    if (value === null) delete target[lower];
    else if (typeof value === 'string') target[lower] = value;
    else return false;
  }
  return true;
}

export class LeanOpenAI extends OpenAI {
  readonly #transport: TransportFetch | undefined;
  /** Base URL, user agent and auth header, when the client's setup allows the fast path at all. */
  readonly #plain: PlainSetup | undefined;

  /** The same options as the SDK's client; a `fetch` from `createUpstreamTransport` also times attempts. */
  constructor(options: ClientOptions = {}) {
    super(options);
    this.#transport = options.fetch && isTransportFetch(options.fetch) ? options.fetch : undefined;
    this.#plain = this.#plainSetup();
  }

  /** Client-wide conditions: no provider, workload identity, key function, default headers or query. */
  #plainSetup(): PlainSetup | undefined {
    const setup = this._options;
    if (setup.provider || setup.workloadIdentity || typeof setup.apiKey !== 'string') return undefined;
    if (setup.defaultHeaders || setup.defaultQuery || this.fetchOptions || this.idempotencyHeader) return undefined;
    if (this.adminAPIKey || this.organization || this.project) return undefined;
    const base = this.baseURL;
    let canonical: string;
    try {
      canonical = new URL(`${base}/probe`).href;
    } catch {
      return undefined;
    }
    if (canonical !== `${base}/probe` || base.endsWith('/')) return undefined;
    return { base, userAgent: `${this.constructor.name}/JS ${VERSION}`, authorization: `Bearer ${setup.apiKey}` };
  }

  override async buildRequest(options: BuildOptions, context: { retryCount?: number } = {}): Promise<Built> {
    return this.#leanRequest(options) ?? super.buildRequest(options, context);
  }

  #leanRequest(options: BuildOptions): Built | undefined {
    const plain = this.#plain;
    if (!plain) return undefined;
    const { method, path, query, body } = options;
    if (method !== 'get' && method !== 'post' && method !== 'delete') return undefined;
    if (options.defaultBaseURL || options.fetchOptions || options.__binaryResponse) return undefined;
    if (options.__security && (options.__security.bearerAuth !== true || options.__security.adminAPIKeyAuth))
      return undefined;
    if ('timeout' in options && !(Number.isInteger(options.timeout) && (options.timeout ?? 0) >= 0)) return undefined;
    if (!PLAIN_PATH.test(path) || DOT_SEGMENT.test(path)) return undefined;

    let url = plain.base + path;
    if (query !== undefined && query !== null) {
      if (!isPlainObject(query)) return undefined;
      const search = this.stringifyQuery(query);
      if (!PLAIN_QUERY.test(search)) return undefined;
      if (search) url += `?${search}`;
    }

    const headers: Record<string, string> = {
      accept: 'application/json',
      'user-agent': plain.userAgent,
      authorization: plain.authorization,
    };
    let text: string | undefined;
    if (body !== undefined && body !== null) {
      if (!isPlainObject(body)) return undefined;
      headers['content-type'] = 'application/json';
      text = JSON.stringify(body);
    } else if ('body' in options) {
      // The SDK sends a content type with no body for an omitted optional body: rare, its own way.
      return undefined;
    }
    if (!applyHeaders(headers, options.headers)) return undefined;
    // The SDK refuses a request left with no credentials; let it say so in its own words.
    if (headers.authorization === undefined && headers['api-key'] === undefined) return undefined;

    const req: RequestInit = { method, headers };
    if (options.signal) req.signal = options.signal;
    if (text !== undefined) req.body = text;
    // The SDK types its headers as `Headers`; every reader of them (the debug-log formatter, our
    // transport) takes a plain object, and the readers that need `Headers` run only on setups
    // `#plainSetup` sends to the SDK's own method.
    return { req: req as Built['req'], url, timeout: options.timeout ?? this.timeout };
  }

  /**
   * The lean read path (issue 12, option 2): a GET built exactly as `buildRequest` builds it for the
   * SDK, sent on the gateway's transport without the rest of `makeRequest` (its log-line formatting
   * three times per call, `APIPromise`, the per-call log id and timers). The answer is parsed by the
   * SDK's rules (JSON by content type, `_request_id` attached, text otherwise) and every failure is
   * the SDK's own error object: `makeStatusError` (`APIError.generate`) for a status, and
   * `APIConnectionTimeoutError` / `APIConnectionError` for a transport fault, decided as
   * `makeRequest` decides them. So the retry policy and the error mapping see exactly what they see
   * from the SDK. Without the transport, or for a request the fast path does not build, it is the
   * SDK's own `get`. test/upstream/lean-read.test.ts runs every read both ways and compares.
   */
  async read<T>(path: string, options: ReadOptions = {}): Promise<T> {
    const transport = this.#transport;
    const call = { ...options, method: 'get' as const, path, __security: { bearerAuth: true } };
    // The SDK's own retries (the gateway sets none: its retry policy owns them) stay the SDK's.
    const sdkRetries = (options.maxRetries ?? this.maxRetries) > 0;
    const built = transport && !options.signal && !sdkRetries ? this.#leanRequest(call) : undefined;
    if (!transport || !built) return (await this.get(path, call)) as T;
    let response: Response;
    try {
      response = await transport(built.url, built.req as RequestInit, built.timeout);
    } catch (error) {
      throw connectionFailure(error);
    }
    if (!response.ok) {
      const text = await response.text().catch((error: unknown) => toError(error).message);
      const json = parseOrUndefined(text);
      throw this.makeStatusError(response.status, json as object, json ? undefined : text, response.headers);
    }
    return (await parseAnswer(response)) as T;
  }

  override async fetchWithTimeout(
    url: RequestInfo,
    init: RequestInit | undefined,
    ms: number,
    controller: AbortController,
  ): Promise<Response> {
    if (!this.#transport) return super.fetchWithTimeout(url, init, ms, controller);
    return this.#transport(url, init, ms, controller.signal);
  }
}

function parseOrUndefined(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** A transport failure as `makeRequest` words it: a timeout (an abort, or "timed out"), else a connection error. */
function connectionFailure(thrown: unknown): Error {
  const error = toError(thrown);
  const cause = 'cause' in error ? String(error.cause) : '';
  const aborted = error.name === 'AbortError' || error.message.includes('FetchRequestCanceledException');
  if (aborted || /timed? ?out/i.test(String(error) + cause)) return new APIConnectionTimeoutError();
  return new APIConnectionError({ message: undefined, cause: error });
}

/** A 2xx answer by the SDK's parsing rules: JSON by media type (with `_request_id`), else its text. */
async function parseAnswer(response: Response): Promise<unknown> {
  if (response.status === 204) return null;
  const mediaType = response.headers.get('content-type')?.split(';')[0]?.trim();
  if (mediaType?.includes('application/json') || mediaType?.endsWith('+json')) {
    if (response.headers.get('content-length') === '0') return undefined;
    const json: unknown = await response.json();
    if (!json || typeof json !== 'object' || Array.isArray(json)) return json;
    return Object.defineProperty(json, '_request_id', {
      value: response.headers.get('x-request-id'),
      enumerable: false,
    });
  }
  return response.text();
}

// The SDK names its user agent after the client's class: the upstream keeps seeing `OpenAI/JS`.
Object.defineProperty(LeanOpenAI, 'name', { value: 'OpenAI' });
