import { Agent, request } from 'undici';
import type { UpstreamFetch } from './threads-upstream.ts';

export interface TransportOptions {
  /** Sockets kept per upstream origin. */
  connections?: number;
  keepAliveTimeoutMs?: number;
}

function toHeaderRecord(headers: HeadersInit | undefined): Record<string, string> {
  const record: Record<string, string> = {};
  if (!headers) return record;
  new Headers(headers).forEach((value, name) => {
    record[name] = value;
  });
  return record;
}

/**
 * A lean `fetch` for the SDK on a keep-alive undici Agent. The SDK only sends small JSON bodies and
 * reads small JSON answers, so this skips the WHATWG fetch machinery (body streams, CORS, redirect
 * bookkeeping) that dominated the SDK path's per-request cost.
 */
export function createUpstreamTransport(options: TransportOptions = {}): {
  fetch: UpstreamFetch;
  close(): Promise<void>;
} {
  const agent = new Agent({
    connections: options.connections ?? 128,
    keepAliveTimeout: options.keepAliveTimeoutMs ?? 30_000,
    pipelining: 1,
  });
  const fetch: UpstreamFetch = async (input, init = {}) => {
    const url = typeof input === 'string' || input instanceof URL ? input : input.url;
    const body = init.body;
    if (body != null && typeof body !== 'string') {
      throw new TypeError('The upstream transport sends only string bodies');
    }
    const answer = await request(url, {
      method: (init.method ?? 'GET') as 'GET',
      headers: toHeaderRecord(init.headers),
      body: body ?? undefined,
      signal: init.signal ?? undefined,
      dispatcher: agent,
    });
    const text = await answer.body.text();
    const headers = new Headers();
    for (const [name, value] of Object.entries(answer.headers)) {
      if (Array.isArray(value)) for (const item of value) headers.append(name, item);
      else if (value !== undefined) headers.set(name, value);
    }
    const status = answer.statusCode;
    const empty = status === 204 || status === 304;
    return new Response(empty ? null : text, { status, headers });
  };
  return { fetch, close: () => agent.close() };
}
