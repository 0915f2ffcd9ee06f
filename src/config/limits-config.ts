import { type Env, readVariable } from './variables.ts';

/** The operation and answer limits (gateway-variables.ts declares each; docs/hardening.md explains them). */
export interface Limits {
  /** MAX_ALIASES: aliases in one operation. */
  readonly aliases: number;
  /** MAX_TOKENS: lexical tokens in one document. */
  readonly tokens: number;
  /** MAX_DEPTH: selection depth (introspection is exempt). */
  readonly depth: number;
  /** MAX_DIRECTIVES: directives in one operation. */
  readonly directives: number;
  /** MAX_UPSTREAM_CALLS: upstream calls one GraphQL request may make. */
  readonly upstreamCalls: number;
  /**
   * MAX_RESULT_NODES: fields one answer may hold, estimated from the document and its variables
   * before execution (lists at their bounds); past it, RESULT_TOO_LARGE.
   */
  readonly resultNodes: number;
  /** MAX_RESPONSE_BYTES: bytes of one answer's JSON; past it, RESPONSE_TOO_LARGE instead. */
  readonly responseBytes: number;
  /** MAX_ANSWER_BYTES_IN_FLIGHT: bytes of large answers being written at once; past it, SERVER_BUSY. */
  readonly answerBytesInFlight: number;
  /** ANSWER_STALL_MS: a large answer none of which is read for this long is cut off. */
  readonly answerStallMs: number;
  /** MAX_BODY_BYTES: request body size, larger gets 413; also the upstream write payloads of one request. */
  readonly bodyBytes: number;
  /** MAX_JSON_DEPTH: nesting of any JSON value in variables or JSON arguments. */
  readonly jsonDepth: number;
}

export function loadLimits(env: Env): Limits {
  return Object.freeze({
    aliases: readVariable(env, 'MAX_ALIASES'),
    tokens: readVariable(env, 'MAX_TOKENS'),
    depth: readVariable(env, 'MAX_DEPTH'),
    directives: readVariable(env, 'MAX_DIRECTIVES'),
    upstreamCalls: readVariable(env, 'MAX_UPSTREAM_CALLS'),
    resultNodes: readVariable(env, 'MAX_RESULT_NODES'),
    responseBytes: readVariable(env, 'MAX_RESPONSE_BYTES'),
    answerBytesInFlight: readVariable(env, 'MAX_ANSWER_BYTES_IN_FLIGHT'),
    answerStallMs: readVariable(env, 'ANSWER_STALL_MS'),
    bodyBytes: readVariable(env, 'MAX_BODY_BYTES'),
    jsonDepth: readVariable(env, 'MAX_JSON_DEPTH'),
  });
}
