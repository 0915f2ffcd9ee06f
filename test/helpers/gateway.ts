import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { type DocumentNode, print } from 'graphql';
import { createGateway, type Gateway, type GatewayOptions } from '../../src/app.ts';
import { loadConfig } from '../../src/config/config.ts';
import type { StoredMessage } from '../../src/local-backend/store/store.ts';
import type { Logger } from '../../src/logger.ts';

export const silentLogger: Logger = { error() {}, warn() {}, info() {}, debug() {} };

/**
 * A gateway built from an environment, as `npm start` would build it, but never listening. Its
 * local backend keeps data in memory unless `env` names another store (the store tests do). One
 * Redis command may take 5 s, not 500 ms: the suite shares two cores with a shared Redis, and a
 * command that waited its turn there is not what these tests test (the outage tests set their own).
 */
export function testGateway(env: Record<string, string> = {}, options: GatewayOptions = {}): Gateway {
  const defaults = { LOG_LEVEL: 'silent', LOCAL_BACKEND_STORE: 'memory', REDIS_TIMEOUT_MS: '5000' };
  return createGateway(loadConfig({ ...defaults, ...env }), {
    logger: silentLogger,
    ...options,
  });
}

export interface GraphQLResponse<TData = Record<string, unknown>> {
  status: number;
  headers: Headers;
  data?: TData | null;
  errors?: Array<{ message: string; path?: Array<string | number>; extensions?: Record<string, unknown> }>;
}

/** POSTs one operation to the gateway in-process, through `yoga.fetch`. */
export async function execute<TData, TVariables>(
  gateway: Gateway,
  document: TypedDocumentNode<TData, TVariables> | DocumentNode | string,
  variables?: TVariables,
  headers: Record<string, string> = {},
): Promise<GraphQLResponse<TData>> {
  const query = typeof document === 'string' ? document : print(document);
  const response = await gateway.yoga.fetch('http://gateway.test/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json', ...headers },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as Omit<GraphQLResponse<TData>, 'status' | 'headers'>;
  return { status: response.status, headers: response.headers, ...body };
}

/** The one error code of a response, for terse assertions. */
export function codes(response: GraphQLResponse<unknown>): unknown[] {
  return (response.errors ?? []).map((error) => error.extensions?.code);
}

/** The messages the gateway's embedded backend holds for a thread, oldest first. */
export async function storedMessages(gateway: Gateway, threadId: string): Promise<StoredMessage[]> {
  const result = await gateway.localBackend?.store.listMessages(threadId, { limit: 100, order: 'asc' });
  return result?.kind === 'ok' ? result.data : [];
}
