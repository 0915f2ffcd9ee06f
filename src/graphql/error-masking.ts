import { GraphQLError } from 'graphql';
import { createGraphQLError, type YogaServerOptions } from 'graphql-yoga';
import { GatewayError } from '../errors.ts';
import type { Logger } from '../logger.ts';

type MaskError = NonNullable<
  Exclude<YogaServerOptions<object, object>['maskedErrors'], boolean | undefined>['maskError']
>;

/**
 * The single place where errors become GraphQL errors. A `GatewayError` keeps its own message and
 * `extensions.code`; a GraphQL error raised on purpose (parse, validation, limits) keeps its text
 * and gets a code; anything else is masked as INTERNAL_SERVER_ERROR and logged, never shown.
 */
function isGraphQLError(error: unknown): error is GraphQLError {
  return error instanceof GraphQLError;
}

export function createMaskError(logger: Logger): MaskError {
  return (error: unknown, message: string) => {
    const original = isGraphQLError(error) ? error.originalError : error;
    const located = isGraphQLError(error) ? error : undefined;
    if (original instanceof GatewayError) {
      return createGraphQLError(original.message, {
        nodes: located?.nodes,
        source: located?.source,
        positions: located?.positions,
        path: located?.path,
        extensions: {
          ...original.extensions,
          ...(original.httpStatus ? { http: { status: original.httpStatus } } : {}),
        },
      });
    }
    // Raised on purpose (parse, validation, coercion, limits): keep the located error's own text.
    if (located && (!original || original instanceof GraphQLError)) return withCode(located);
    if (original instanceof GraphQLError) return withCode(original);
    logger.error('unexpected error', {
      error: original instanceof Error ? original.name : typeof original,
      path: located?.path?.join('.'),
    });
    return createGraphQLError(message, {
      nodes: located?.nodes,
      path: located?.path,
      extensions: { code: 'INTERNAL_SERVER_ERROR' },
    });
  };
}

const HTTP_CODES: Record<number, string> = {
  400: 'BAD_REQUEST',
  401: 'UNAUTHENTICATED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  405: 'METHOD_NOT_ALLOWED',
  406: 'NOT_ACCEPTABLE',
  413: 'PAYLOAD_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
};

/** graphql-js's wording when a variable's value does not fit its type: bad input, not a bad document. */
const VARIABLE_VALUE_ERROR = /^Variable "\$[^"]+" (got invalid value|of required type .* was not provided)/;

/**
 * The code a GraphQL error should carry: its own, unless Yoga's catch-all BAD_REQUEST hides a more
 * precise HTTP status (405, 415…) or graphql-js reports a variable's bad value; else derived from
 * the HTTP status or the kind of error (parse, validation).
 */
export function codeFor(error: GraphQLError): string {
  if (VARIABLE_VALUE_ERROR.test(error.message)) return 'BAD_USER_INPUT';
  const status = (error.extensions?.http as { status?: number } | undefined)?.status;
  const byStatus = status === undefined ? undefined : HTTP_CODES[status];
  const current = error.extensions?.code;
  if (typeof current === 'string' && !(current === 'BAD_REQUEST' && byStatus)) return current;
  if (byStatus) return byStatus;
  if (error.message.startsWith('Syntax Error')) return 'GRAPHQL_PARSE_FAILED';
  return 'GRAPHQL_VALIDATION_FAILED';
}

export function withCode(error: GraphQLError): GraphQLError {
  const code = codeFor(error);
  if (code === error.extensions?.code) return error;
  return createGraphQLError(error.message, {
    nodes: error.nodes,
    source: error.source,
    positions: error.positions,
    path: error.path,
    originalError: error.originalError ?? undefined,
    extensions: { ...error.extensions, code },
  });
}
