import { GraphQLError, Kind, parse, type ValidationRule } from 'graphql';
import { createGraphQLError, type Plugin } from 'graphql-yoga';
import { ErrorCode } from '../errors.ts';
import { documentHash, parseDocumentId } from '../features/persisted-documents/document-hash.ts';
import type { PersistedQueries } from '../features/persisted-documents/persisted-queries.ts';
import type { TrustedManifest } from '../features/persisted-documents/trusted-manifest.ts';

export interface PersistedDocumentsOptions {
  /** TRUSTED_DOCUMENTS: when set, only these documents execute. */
  trusted: TrustedManifest | undefined;
  /** The APQ registry; undefined when APQ is off (APQ_MAX_ENTRIES=0). Never used with `trusted`. */
  registry: PersistedQueries | undefined;
  /** ALLOW_INTROSPECTION: off, `__schema` and `__type` are refused (INTROSPECTION_DISABLED). */
  allowIntrospection: boolean;
  /** MAX_TOKENS: the one document parsed here (an introspection query in trusted mode) is held to it. */
  maxTokens: number;
}

/** Apollo's persisted query protocol: its clients match the message as well as the code. */
const NOT_FOUND_MESSAGE = 'PersistedQueryNotFound';
/** A CDN must never keep a not-found: the same URL executes once the document is registered. */
const NO_STORE = { 'cache-control': 'private, no-cache, must-revalidate' };

function refusal(status: number, code: string, message: string, headers?: Record<string, string>): GraphQLError {
  return createGraphQLError(message, { extensions: { code, http: { status, ...(headers ? { headers } : {}) } } });
}

/**
 * Documents by hash: Apollo's automatic persisted queries (`extensions.persistedQuery`) and
 * persisted documents (`documentId`, in a POST body or a GET query string), and with TRUSTED_DOCUMENTS
 * the rule that only the manifest's documents execute. It runs on the request's parameters, before
 * the document is parsed: a refused document is never parsed, and an accepted one is handed on as
 * its text, so the operation limits (tokens, depth, aliases, cost) judge it on every execution.
 */
export function usePersistedDocuments(options: PersistedDocumentsOptions): Plugin {
  const { trusted, registry, allowIntrospection, maxTokens } = options;
  /** Documents sent with their hash, remembered once they have parsed and validated (in onExecute). */
  const toRegister = new WeakMap<Request, { hash: string; text: string }>();
  /** The document a request sent in full with its hash, to remember once it is known to run (once). */
  const takePending = (contextValue: unknown) => {
    const request = (contextValue as { request?: Request }).request;
    const pending = request && toRegister.get(request);
    if (request) toRegister.delete(request);
    return pending;
  };
  return {
    async onParams({ params, request, setParams }) {
      const body = params as Record<string, unknown>;
      const persisted = persistedQueryOf(body.extensions);
      const rawId = request.method === 'GET' ? new URL(request.url).searchParams.get('documentId') : body.documentId;
      if (persisted === undefined && (rawId === undefined || rawId === null) && !trusted) {
        return;
      }
      if (persisted !== undefined && !registry && !trusted) {
        throw refusal(200, ErrorCode.PERSISTED_QUERY_NOT_SUPPORTED, 'PersistedQueryNotSupported', NO_STORE);
      }
      const hash = requestedHash(persisted, rawId);
      // An empty query beside a hash is no document: graphql-ws clients must send a query string.
      const query = body.query === '' && hash !== undefined ? undefined : body.query;
      let text: string;
      if (query !== undefined && query !== null) {
        if (typeof query !== 'string') throw refusal(400, 'BAD_REQUEST', 'The "query" parameter must be a string.');
        text = query;
        const actual = documentHash(text);
        if (hash !== undefined && hash !== actual) {
          throw refusal(
            400,
            ErrorCode.PERSISTED_QUERY_HASH_MISMATCH,
            'The hash sent is not the sha256 of the document sent (hash the exact text, whitespace included).',
          );
        }
        if (trusted) {
          if (!trusted.has(actual) && !(allowIntrospection && introspectionOnly(text, maxTokens))) {
            throw refusal(
              403,
              ErrorCode.TRUSTED_DOCUMENT_REQUIRED,
              'Only the documents of this gateway’s manifest execute here (TRUSTED_DOCUMENTS): send one by its hash.',
            );
          }
        } else if (persisted !== undefined && hash !== undefined && registry) {
          toRegister.set(request, { hash, text });
        }
      } else if (hash !== undefined) {
        const known = trusted ? trusted.get(hash) : await registry?.get(hash);
        if (known === undefined) {
          throw refusal(200, ErrorCode.PERSISTED_QUERY_NOT_FOUND, NOT_FOUND_MESSAGE, NO_STORE);
        }
        text = known;
      } else {
        // No document and no hash: Yoga refuses it ("Must provide query string") without parsing.
        return;
      }
      // `documentId` is not a parameter Yoga knows: hand on the standard ones only.
      const next: Record<string, unknown> = { query: text };
      for (const [key, value] of Object.entries(body)) if (key !== 'documentId' && key !== 'query') next[key] = value;
      setParams(next);
    },
    onExecute({ args }) {
      const pending = takePending(args.contextValue);
      if (!pending) return;
      // Only documents that parse, pass validation and pass the limits take room in the store: the
      // limits that read variables (input bounds, the upstream-call and result-size estimates) run
      // in later plugins' onExecute, so the verdict is known only once execution is done.
      return {
        async onExecuteDone({ result }) {
          if (refusedByALimit(result)) return;
          await registry?.register(pending.hash, pending.text);
        },
      };
    },
    onSubscribe({ args }) {
      const pending = takePending(args.contextValue);
      if (!pending) return;
      // A subscription that opened (its result a stream of events) passed every limit.
      return {
        onSubscribeResult({ result }) {
          if (refusedByALimit(result)) return;
          void registry?.register(pending.hash, pending.text).catch(() => undefined);
        },
      };
    },
    onValidate({ addValidationRule }) {
      if (!allowIntrospection) addValidationRule(noIntrospection);
    },
  };
}

/** `extensions.persistedQuery` when there is one (null counts as none, as Apollo Server has it). */
function persistedQueryOf(extensions: unknown): unknown {
  if (!extensions || typeof extensions !== 'object') return undefined;
  const value = (extensions as Record<string, unknown>).persistedQuery;
  return value === null ? undefined : value;
}

/** The one hash a request names (APQ's `sha256Hash`, `documentId`, or both, then the same). */
function requestedHash(persisted: unknown, rawId: unknown): string | undefined {
  let fromApq: string | undefined;
  if (persisted !== undefined) {
    const { version, sha256Hash } = (persisted && typeof persisted === 'object' ? persisted : {}) as {
      version?: unknown;
      sha256Hash?: unknown;
    };
    if (version !== 1) throw refusal(400, ErrorCode.BAD_USER_INPUT, 'Unsupported persisted query version (only 1 is).');
    fromApq = parseDocumentId(sha256Hash);
    if (fromApq === undefined) {
      throw refusal(400, ErrorCode.BAD_USER_INPUT, 'persistedQuery.sha256Hash must be 64 lower-case hex digits.');
    }
  }
  if (rawId === undefined || rawId === null) return fromApq;
  const fromId = parseDocumentId(rawId);
  if (fromId === undefined) {
    throw refusal(
      400,
      ErrorCode.BAD_USER_INPUT,
      'documentId must be 64 lower-case hex digits, with or without a "sha256:" prefix.',
    );
  }
  if (fromApq !== undefined && fromApq !== fromId) {
    throw refusal(400, ErrorCode.BAD_USER_INPUT, 'documentId and persistedQuery.sha256Hash name different documents.');
  }
  return fromId;
}

const INTROSPECTION_FIELDS = new Set(['__schema', '__type', '__typename']);

/**
 * Whether a document only introspects (GraphiQL, codegen and IDEs loading the schema): queries whose
 * root selections are all `__schema`, `__type` or `__typename` fields. Below those, validation keeps
 * every selection on the introspection types, so nothing else can be reached from there.
 */
function introspectionOnly(text: string, maxTokens: number): boolean {
  let document: ReturnType<typeof parse>;
  try {
    document = parse(text, { noLocation: true, maxTokens });
  } catch {
    return false;
  }
  let operations = 0;
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) continue;
    if (definition.kind !== Kind.OPERATION_DEFINITION || definition.operation !== 'query') return false;
    operations++;
    for (const selection of definition.selectionSet.selections) {
      if (selection.kind !== Kind.FIELD || !INTROSPECTION_FIELDS.has(selection.name.value)) return false;
    }
  }
  return operations > 0;
}

const noIntrospection: ValidationRule = (context) => ({
  Field(node) {
    if (node.name.value !== '__schema' && node.name.value !== '__type') return;
    context.reportError(
      new GraphQLError('Introspection is off on this gateway (ALLOW_INTROSPECTION).', {
        nodes: [node],
        extensions: { code: ErrorCode.INTROSPECTION_DISABLED },
      }),
    );
  },
});

/** Codes with which a limit refuses an operation before it runs (graphql/operation-limits.ts, input-bounds.ts). */
const LIMIT_CODES: ReadonlySet<unknown> = new Set([
  ErrorCode.UPSTREAM_CALL_LIMIT,
  ErrorCode.RESULT_TOO_LARGE,
  ErrorCode.BAD_USER_INPUT,
]);

function refusedByALimit(result: unknown): boolean {
  if (!result || typeof result !== 'object' || !('errors' in result)) return false;
  const errors = (result as { errors?: ReadonlyArray<{ extensions?: { code?: unknown } }> }).errors ?? [];
  return errors.some((error) => LIMIT_CODES.has(error.extensions?.code));
}
