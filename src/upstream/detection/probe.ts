import OpenAI, { APIError } from 'openai';
import { isPlainObject } from '../../domain/thread-rules.ts';
import { normaliseThread } from '../answer-checks.ts';
import type { UpstreamFetch } from '../calls/call-session.ts';
import { classifyFault } from '../calls/faults.ts';
import type { UpstreamApiKind } from '../upstream-api.ts';

/**
 * Tells whether an upstream serves the Threads API or the Conversations API, without creating
 * anything there.
 *
 * For each API it reads a resource that cannot exist (a thread, a conversation), then a route under
 * it that no server of that API has. A server of that API answers the first with its "no such
 * thread / conversation" reply and the second with its "no such route" reply, which differ; a server
 * that does not serve it (a wrong OPENAI_BASE_URL, or a host whose Assistants API was shut down)
 * answers both the same way. Only statuses and the sameness of the two bodies count, never their
 * wording, so any server's error texts will do.
 */
export type ProbeVerdict =
  | {
      ok: true;
      detail: string;
      /** The API the upstream was found to serve; absent when it cannot tell yet (pass-through 401). */
      api?: UpstreamApiKind;
    }
  | {
      ok: false;
      reason: 'unreachable' | 'not-threads-api' | 'not-conversations-api' | 'no-known-api' | 'credentials' | 'failing';
      detail: string;
    };

/** The reasons that mean "this URL does not serve the API", as opposed to "not right now". */
export const WRONG_API_REASONS: ReadonlySet<string> = new Set([
  'not-threads-api',
  'not-conversations-api',
  'no-known-api',
]);

export interface ProbeOptions {
  baseURL: string;
  fetch: UpstreamFetch;
  /** The server's key; absent in pass-through mode (then a 401 means "each caller brings one"). */
  apiKey?: string;
  timeoutMs: number;
}

/** What differs between the two APIs' probes: the impossible read, and how an answer is recognised. */
interface ApiProbe {
  name: string;
  /** The path of a resource that cannot exist (ids contain "gatewayreadinessprobe"). */
  path: string;
  /** Statuses a server of this API answers for a missing resource. */
  missing: ReadonlySet<number>;
  headers: Record<string, string>;
  wrongApi: 'not-threads-api' | 'not-conversations-api';
  recognise(body: unknown): boolean;
}

const CONTROL_SUFFIX = 'gateway-readiness-probe';

const PROBES: Record<UpstreamApiKind, ApiProbe> = {
  threads: {
    name: 'the Threads API',
    path: '/threads/thread_gatewayreadinessprobe000',
    // 400 / 422: servers whose ids are ObjectIds refuse the probe's id as malformed instead of missing;
    // the control route still tells them from a server that answers everything alike.
    missing: new Set([400, 404, 422]),
    headers: { 'OpenAI-Beta': 'assistants=v2' },
    wrongApi: 'not-threads-api',
    recognise: (body) => {
      try {
        normaliseThread(body);
        return true;
      } catch {
        return false;
      }
    },
  },
  conversations: {
    name: 'the Conversations API',
    path: '/conversations/conv_gatewayreadinessprobe000',
    // A server may refuse an id it could never have issued (400) rather than look it up (404).
    missing: new Set([400, 404]),
    headers: {},
    wrongApi: 'not-conversations-api',
    recognise: (body) =>
      isPlainObject(body) && body.object === 'conversation' && typeof body.id === 'string' && 'created_at' in body,
  },
};

interface Seen {
  status: number;
  body: string;
}

function normalise(body: string, probeId: string): string {
  return body
    .replaceAll(probeId, '')
    .replaceAll(CONTROL_SUFFIX, '')
    .replace(/req_[A-Za-z0-9]+/g, '')
    .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi, '')
    .replace(/\d{6,}/g, '')
    .replace(/\/+/g, '/');
}

function parsed(body: string): unknown {
  try {
    return JSON.parse(body);
  } catch {
    return undefined;
  }
}

/** Whether the upstream serves one API (Threads or Conversations). */
export async function probeApi(kind: UpstreamApiKind, options: ProbeOptions): Promise<ProbeVerdict> {
  const probe = PROBES[kind];
  const probeId = probe.path.slice(probe.path.lastIndexOf('/') + 1);
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
  const { headers } = probe;

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

  const route = kind === 'threads' ? 'GET /threads/{id}' : 'GET /conversations/{id}';
  const missing = await see(probe.path);
  if ('ok' in missing) return missing;
  if (missing.status >= 200 && missing.status < 300) {
    return probe.recognise(parsed(missing.body))
      ? { ok: true, api: kind, detail: `the upstream serves ${probe.name}` }
      : {
          ok: false,
          reason: probe.wrongApi,
          detail: `${route} answered ${missing.status} with a body of another kind`,
        };
  }
  if (missing.status === 401 || missing.status === 403) {
    return options.apiKey === undefined
      ? { ok: true, detail: "the upstream answers and wants each caller's key (pass-through)" }
      : { ok: false, reason: 'credentials', detail: `the upstream refused the key (HTTP ${missing.status})` };
  }
  if (missing.status === 501) {
    // "Not implemented": some servers answer every route they lack so.
    return {
      ok: false,
      reason: probe.wrongApi,
      detail: `${route} answered 501: this URL does not serve ${probe.name}`,
    };
  }
  if (missing.status >= 500) {
    return { ok: false, reason: 'failing', detail: `the upstream failed with HTTP ${missing.status}` };
  }
  if (!probe.missing.has(missing.status)) {
    return {
      ok: false,
      reason: probe.wrongApi,
      detail: `${route} answered HTTP ${missing.status} where ${probe.name} answers ${[...probe.missing].join(' or ')} for a missing one`,
    };
  }
  const control = await see(`${probe.path}/${CONTROL_SUFFIX}`);
  if ('ok' in control) return control;
  if (control.status === missing.status && normalise(control.body, probeId) === normalise(missing.body, probeId)) {
    return {
      ok: false,
      reason: probe.wrongApi,
      detail: `${route} is answered like an unknown route: this URL does not serve ${probe.name}`,
    };
  }
  return { ok: true, api: kind, detail: `the upstream serves ${probe.name}` };
}

/**
 * Which API the upstream serves, by probing both (reads only). A server that serves both is used
 * as a Threads server, which carries every field of the graph. Until one is recognised, the verdict
 * says why not: a refused key or a failing, unreachable upstream is "not yet", and answering like
 * neither API is "not usable".
 */
export async function detectUpstreamApi(options: ProbeOptions): Promise<ProbeVerdict> {
  const [threads, conversations] = await Promise.all([
    probeApi('threads', options),
    probeApi('conversations', options),
  ]);
  if (threads.ok && threads.api) return threads;
  if (conversations.ok && conversations.api) return conversations;
  if (threads.ok || conversations.ok) {
    // Both want each caller's key: which API it serves is found with the first caller's key.
    return { ok: true, detail: "the upstream answers and wants each caller's key (pass-through); API not known yet" };
  }
  for (const reason of ['credentials', 'failing', 'unreachable'] as const) {
    const found = [threads, conversations].find((verdict) => !verdict.ok && verdict.reason === reason);
    if (found) return found;
  }
  return {
    ok: false,
    reason: 'no-known-api',
    detail: 'the upstream answers like neither the Threads API nor the Conversations API: this URL is not usable',
  };
}
