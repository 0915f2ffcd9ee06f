import OpenAI, { APIError } from 'openai';
import { classifyFault } from './errors.ts';
import { normaliseThread } from './normalise.ts';
import type { UpstreamFetch } from './upstream-calls.ts';

/**
 * Tells whether an upstream serves the Threads API, without creating anything there.
 *
 * It reads a thread that cannot exist, then a route under it that no Threads server has. A Threads
 * server answers the first with its "no such thread" reply and the second with its "no such route"
 * reply, which differ; a server that does not serve threads (a wrong OPENAI_BASE_URL, or a host
 * whose Assistants API was shut down) answers both the same way. Only statuses and the sameness of
 * the two bodies count, never their wording, so any Threads server's error texts will do.
 */
export type ProbeVerdict =
  | { ok: true; detail: string }
  | { ok: false; reason: 'unreachable' | 'not-threads-api' | 'credentials' | 'failing'; detail: string };

const PROBE_ID = 'thread_gatewayreadinessprobe000';
const CONTROL_SUFFIX = 'gateway-readiness-probe';

interface Seen {
  status: number;
  body: string;
}

function normalise(body: string): string {
  return body
    .replaceAll(PROBE_ID, '')
    .replaceAll(CONTROL_SUFFIX, '')
    .replace(/req_[A-Za-z0-9]+/g, '')
    .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi, '')
    .replace(/\d{6,}/g, '')
    .replace(/\/+/g, '/');
}

function looksLikeThread(body: string): boolean {
  try {
    normaliseThread(JSON.parse(body));
    return true;
  } catch {
    return false;
  }
}

export async function probeThreadsApi(options: {
  baseURL: string;
  fetch: UpstreamFetch;
  apiKey?: string;
  timeoutMs: number;
}): Promise<ProbeVerdict> {
  let captured: Seen | undefined;
  const client = new OpenAI({
    apiKey: options.apiKey ?? 'no-key-for-the-readiness-probe',
    baseURL: options.baseURL,
    organization: null,
    project: null,
    maxRetries: 0,
    timeout: options.timeoutMs,
    fetch: async (url, init) => {
      const response = await options.fetch(url, init);
      captured = { status: response.status, body: await response.clone().text() };
      return response;
    },
  });
  const headers = { 'OpenAI-Beta': 'assistants=v2' };

  async function see(path: string): Promise<Seen | ProbeVerdict> {
    captured = undefined;
    try {
      await client.get(path, { headers });
    } catch (error) {
      if (!(error instanceof APIError) || error.status === undefined) {
        const kind = classifyFault(error)?.kind;
        return {
          ok: false,
          reason: 'unreachable',
          detail: kind === 'timeout' ? 'the upstream did not answer in time' : 'the upstream could not be reached',
        };
      }
    }
    return captured ?? { ok: false, reason: 'unreachable', detail: 'no answer' };
  }

  const thread = await see(`/threads/${PROBE_ID}`);
  if ('ok' in thread) return thread;
  if (thread.status >= 200 && thread.status < 300) {
    return looksLikeThread(thread.body)
      ? { ok: true, detail: 'the upstream serves the Threads API' }
      : {
          ok: false,
          reason: 'not-threads-api',
          detail: `GET /threads/{id} answered ${thread.status} with a non-thread body`,
        };
  }
  if (thread.status === 401 || thread.status === 403) {
    return options.apiKey === undefined
      ? { ok: true, detail: "the upstream answers and wants each caller's key (pass-through)" }
      : { ok: false, reason: 'credentials', detail: `the upstream refused OPENAI_API_KEY (HTTP ${thread.status})` };
  }
  if (thread.status >= 500) {
    return { ok: false, reason: 'failing', detail: `the upstream failed with HTTP ${thread.status}` };
  }
  if (thread.status !== 404) {
    return {
      ok: false,
      reason: 'not-threads-api',
      detail: `GET /threads/{id} answered HTTP ${thread.status} where a Threads server answers 404 for a missing thread`,
    };
  }
  const control = await see(`/threads/${PROBE_ID}/${CONTROL_SUFFIX}`);
  if ('ok' in control) return control;
  if (control.status === thread.status && normalise(control.body) === normalise(thread.body)) {
    return {
      ok: false,
      reason: 'not-threads-api',
      detail: 'GET /threads/{id} is answered like an unknown route: this URL does not serve the Threads API',
    };
  }
  return { ok: true, detail: 'the upstream serves the Threads API' };
}
