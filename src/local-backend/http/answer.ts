import { randomBytes } from 'node:crypto';

/** One HTTP request, as the backend needs it: no stream, no WHATWG objects. */
export interface BackendRequest {
  method: string;
  /** The path without the query string. */
  path: string;
  /** The query string without its `?` (list parameters); absent or "" when there is none. */
  search?: string;
  header(name: string): string | null | undefined;
  text(): Promise<string>;
}

/** One answer; `body` is the JSON text (empty for a streamed answer). */
export interface BackendAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
  /** A streamed answer's body (server-sent events), written piece by piece as the client reads. */
  stream?: AnswerStream;
}

/**
 * The body of a streamed answer. Pieces are asked for one at a time, when the client has taken the
 * last one, so a client that stops reading holds the stream back instead of growing a buffer.
 */
export interface AnswerStream {
  /** The next piece of the body; undefined once the body is complete. */
  next(): Promise<string | undefined>;
  /** The client went away (or the body is complete): releases what the stream holds. Idempotent. */
  close(): void;
}

/** The API's error body (`{error: {message, type, param, code}}`). */
export interface ApiErrorBody {
  message: string;
  type: 'invalid_request_error' | 'authentication_error';
  param: string | null;
  code: string | null;
}

/** What a route names of an error; the rest defaults (`invalid_request_error`, no param, no code). */
export type ErrorFields = Partial<ApiErrorBody> & { message: string };

function requestId(): string {
  return `req_${randomBytes(16).toString('hex')}`;
}

/** An answer with the API's headers: the JSON content type and a fresh `x-request-id`. */
export function json(status: number, body: unknown): BackendAnswer {
  return {
    status,
    headers: { 'content-type': 'application/json', 'x-request-id': requestId() },
    body: JSON.stringify(body),
  };
}

/** A `text/event-stream` answer, headers as the API sends them (no caching, no proxy buffering). */
export function eventStream(stream: AnswerStream): BackendAnswer {
  return {
    status: 200,
    headers: {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      'x-accel-buffering': 'no',
      'x-request-id': requestId(),
    },
    body: '',
    stream,
  };
}

/** One server-sent event; `data` is JSON text (never a raw line break) or `[DONE]`. */
export function sseEvent(event: string, data: string): string {
  return `event: ${event}\ndata: ${data}\n\n`;
}

/** An error answer, in the body every route family of the API uses. */
export function fail(status: number, error: ErrorFields): BackendAnswer {
  return json(status, { error: { type: 'invalid_request_error', param: null, code: null, ...error } });
}

export function notAllowed(method: string): BackendAnswer {
  return fail(405, { message: `Method ${method} is not allowed on this route.` });
}

/** The Threads-style 413 both the HTTP server and the in-process path answer past the body limit. */
export function bodyTooLarge(limit: number): BackendAnswer {
  return fail(413, { message: `The request body is larger than ${limit} bytes.`, code: 'request_too_large' });
}

/** A list page as every list route answers it. */
export function listBody(data: ReadonlyArray<{ id: string }>, hasMore: boolean) {
  return {
    object: 'list',
    data,
    first_id: data[0]?.id ?? null,
    last_id: data.at(-1)?.id ?? null,
    has_more: hasMore,
  };
}
