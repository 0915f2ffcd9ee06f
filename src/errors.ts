/**
 * The gateway's expected errors. Anything thrown that is not a `GatewayError` is unexpected and is
 * masked by `graphql/error-masking.ts`, the single place where errors become GraphQL errors.
 */
export const ErrorCode = {
  BAD_USER_INPUT: 'BAD_USER_INPUT',
  UNAUTHENTICATED: 'UNAUTHENTICATED',
  FORBIDDEN: 'FORBIDDEN',
  NOT_FOUND: 'NOT_FOUND',
  RATE_LIMITED: 'RATE_LIMITED',
  UPSTREAM_ERROR: 'UPSTREAM_ERROR',
  UPSTREAM_TIMEOUT: 'UPSTREAM_TIMEOUT',
  UPSTREAM_UNAVAILABLE: 'UPSTREAM_UNAVAILABLE',
  UPSTREAM_CALL_LIMIT: 'UPSTREAM_CALL_LIMIT',
  /** The answer's estimated size (MAX_RESULT_NODES) is over the limit; refused before execution. */
  RESULT_TOO_LARGE: 'RESULT_TOO_LARGE',
  /** The answer, once built, is longer than MAX_RESPONSE_BYTES; it is dropped, never sent. */
  RESPONSE_TOO_LARGE: 'RESPONSE_TOO_LARGE',
  /** Large answers being written hold MAX_ANSWER_BYTES_IN_FLIGHT already: retry shortly. */
  SERVER_BUSY: 'SERVER_BUSY',
  IDEMPOTENCY_CONFLICT: 'IDEMPOTENCY_CONFLICT',
  /** The configured upstream API has no equivalent for a field or operation; refused before any call. */
  UNSUPPORTED_BY_UPSTREAM: 'UNSUPPORTED_BY_UPSTREAM',
  INTERNAL_SERVER_ERROR: 'INTERNAL_SERVER_ERROR',
  /** Persisted documents (graphql/persisted-documents.ts): a hash the gateway does not know; send the document. */
  PERSISTED_QUERY_NOT_FOUND: 'PERSISTED_QUERY_NOT_FOUND',
  PERSISTED_QUERY_NOT_SUPPORTED: 'PERSISTED_QUERY_NOT_SUPPORTED',
  PERSISTED_QUERY_HASH_MISMATCH: 'PERSISTED_QUERY_HASH_MISMATCH',
  /** TRUSTED_DOCUMENTS: the document is not in the manifest; refused before parsing. */
  TRUSTED_DOCUMENT_REQUIRED: 'TRUSTED_DOCUMENT_REQUIRED',
  INTROSPECTION_DISABLED: 'INTROSPECTION_DISABLED',
  /** Subscriptions (docs/live.md): too many open, for the caller or the connection. */
  SUBSCRIPTION_LIMIT: 'SUBSCRIPTION_LIMIT',
  /** A threadEvents client read slower than events came, past SUBSCRIPTION_BUFFER_EVENTS: subscribe again. */
  SUBSCRIPTION_OVERFLOW: 'SUBSCRIPTION_OVERFLOW',
  /** The instance is stopping; `extensions.cursor` (runEvents) resumes on another. */
  SHUTTING_DOWN: 'SHUTTING_DOWN',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export class GatewayError extends Error {
  override name = 'GatewayError';
  readonly code: ErrorCode;
  readonly extensions: Readonly<Record<string, unknown>>;
  /** The HTTP status when this error refuses the whole request (e.g. 401), not a single field. */
  readonly httpStatus: number | undefined;

  constructor(
    code: ErrorCode,
    message: string,
    options: { extensions?: Record<string, unknown>; httpStatus?: number; cause?: unknown } = {},
  ) {
    super(message, { cause: options.cause });
    this.code = code;
    this.extensions = { ...options.extensions, code };
    this.httpStatus = options.httpStatus;
  }
}

export function badUserInput(message: string, argument?: string): GatewayError {
  return new GatewayError(ErrorCode.BAD_USER_INPUT, message, {
    extensions: argument === undefined ? {} : { argument },
  });
}

/** Anything thrown, as an Error (a non-Error throw becomes one with its text). */
export function toError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}
