import type autocannon from 'autocannon';
import OpenAI from 'openai';

// What `npm run bench` asks of each system: the GraphQL documents, how each scenario's requests are
// built, and which systems serve it. "direct" is the load generator straight at the upstream's REST
// API (autocannon, or the openai SDK for a run): what this machine and generator reach without any
// gateway in between.

export const GATEWAY = 'gateway';
export const BASELINE = 'baseline';
export const CEILING = 'ceiling';
export const BARE = 'bare reads';
export const DIRECT = 'direct';

export type Counter = { errors: number };

/** What a scenario's load is: autocannon requests at the system's URL, or a unit of work run in loops. */
export type Load = { kind: 'requests'; requests: autocannon.Request[] } | { kind: 'flow'; once: () => Promise<void> };

/** What the upstream seeded, and how to reach it. */
export interface Fixture {
  /** Threads with messages (the reads). */
  ids: string[];
  /** Threads with one user message each, for runs (a run reads its whole thread, so these stay short). */
  runThreads: string[];
  /** An assistant on the upstream whose model is `echo`. */
  assistantId: string;
  upstreamUrl: string;
  apiKey: string;
}

export interface System {
  name: string;
  /** The GraphQL endpoint; for `direct`, the upstream's REST base (`…/v1`). */
  url: string;
}

export interface Scenario {
  name: string;
  /** The systems that serve it. */
  systems: readonly string[];
  /** Once per system, before its first round (threads put on the caller's list). */
  prepare?: (system: System, fixture: Fixture) => Promise<void>;
  /** A fresh load for one round (its own counters and choosers). */
  load: (system: System, counter: Counter, fixture: Fixture) => Load;
}

const READ = 'query Read($id: ID!) { thread(id: $id) { id createdAt metadata } }';
const READ_MANY = 'query ReadMany($ids: [ID!]!) { threads(ids: $ids) { id createdAt metadata } }';
const READ_MESSAGES =
  'query ReadMessages($id: ID!) { thread(id: $id) { id messages(first: 20) { edges { cursor node { id role text createdAt } } pageInfo { hasNextPage endCursor } } } }';
const SIDEBAR = 'query Sidebar { viewer { threads(first: 20) { nodes { id metadata } } } }';
const SIDEBAR_IDS = 'query SidebarIds($ids: [ID!]!) { threads(ids: $ids) { id metadata } }';
const CREATE_RUN =
  'mutation CreateRun($threadId: ID!, $input: RunInput!) { createRun(threadId: $threadId, input: $input) { id status } }';
const READ_RUN = 'query ReadRun($threadId: ID!, $id: ID!) { run(threadId: $threadId, id: $id) { id status } }';
const ADOPT = 'mutation Adopt($id: ID!) { adoptThread(id: $id) { id } }';

const GRAPHQL_SYSTEMS = [GATEWAY, BASELINE, CEILING] as const;
/** The sidebar's page and its ids: the first 20 seeded threads. */
const SIDEBAR_SIZE = 20;

const body = (query: string, variables: Record<string, unknown>) => JSON.stringify({ query, variables });

function check(counter: Counter, errorMark = '"errors"') {
  return (status: number, text: string) => {
    if (status !== 200 || text.includes(errorMark)) counter.errors++;
  };
}

const pick = (ids: string[]) => ids[Math.floor(Math.random() * ids.length)] as string;

/**
 * Round robin over `ids`, skipping any still in flight: no two requests in flight share an id, so
 * nothing can be coalesced (what a working set larger than the concurrency looks like).
 */
export function distinctIds(ids: readonly string[]) {
  const inFlight = new Set<string>();
  let next = 0;
  return {
    take(): string {
      for (let tries = 0; tries < ids.length; tries++) {
        const id = ids[next] as string;
        next = (next + 1) % ids.length;
        if (!inFlight.has(id)) {
          inFlight.add(id);
          return id;
        }
      }
      throw new Error('More requests in flight than ids: give the scenario more threads.');
    },
    release(id: string | undefined): void {
      if (id !== undefined) inFlight.delete(id);
    },
  };
}

type WithId = { id?: string };

/** One GraphQL request per read, the id drawn by `choose` and given back by `release` when answered. */
function reads(query: string, counter: Counter, choose: () => string, release = (_id?: string) => {}): Load {
  return {
    kind: 'requests',
    requests: [
      {
        method: 'POST',
        setupRequest: (request, context) => {
          const id = choose();
          (context as WithId).id = id;
          return { ...request, body: body(query, { id }) };
        },
        onResponse: (status, text, context) => {
          release((context as WithId).id);
          check(counter)(status, text);
        },
      },
    ],
  };
}

/** `GET /threads/{id}` straight at the upstream, as the SDK sends it. */
function directReads(fixture: Fixture, counter: Counter, choose: () => string, release = (_id?: string) => {}): Load {
  const base = new URL(fixture.upstreamUrl).pathname;
  const headers = {
    authorization: `Bearer ${fixture.apiKey}`,
    'openai-beta': 'assistants=v2',
    accept: 'application/json',
  };
  return {
    kind: 'requests',
    requests: [
      {
        method: 'GET',
        setupRequest: (request, context) => {
          const id = choose();
          (context as WithId).id = id;
          return { ...request, path: `${base}/threads/${id}`, headers };
        },
        onResponse: (status, text, context) => {
          release((context as WithId).id);
          check(counter, '"error"')(status, text);
        },
      },
    ],
  };
}

/** Ids drawn at random: concurrent requests sometimes share one (and its upstream read). */
export const uniform: Scenario = {
  name: 'thread(id), uniform',
  systems: [...GRAPHQL_SYSTEMS, BARE],
  load: (system, counter, { ids, ...fixture }) =>
    system.name === DIRECT
      ? directReads({ ids, ...fixture }, counter, () => pick(ids))
      : reads(READ, counter, () => pick(ids)),
};

export const distinct: Scenario = {
  name: 'thread(id), distinct ids',
  systems: [...GRAPHQL_SYSTEMS, BARE],
  load: (_system, counter, { ids }) => {
    const chooser = distinctIds(ids);
    return reads(READ, counter, chooser.take, chooser.release);
  },
};

const hot: Scenario = {
  name: 'thread(id), one hot id',
  systems: GRAPHQL_SYSTEMS,
  load: (_system, counter, { ids }) => ({
    kind: 'requests',
    requests: [{ method: 'POST', body: body(READ, { id: ids[0] }), onResponse: check(counter) }],
  }),
};

const many: Scenario = {
  name: 'threads(ids:) with 20 ids',
  systems: GRAPHQL_SYSTEMS,
  load: (_system, counter, { ids }) => ({
    kind: 'requests',
    requests: [
      {
        method: 'POST',
        setupRequest: (request) => ({
          ...request,
          body: body(READ_MANY, { ids: [...ids].sort(() => Math.random() - 0.5).slice(0, 20) }),
        }),
        onResponse: check(counter),
      },
    ],
  }),
};

const messages: Scenario = {
  name: 'thread(id) { messages(first: 20) }',
  systems: GRAPHQL_SYSTEMS,
  load: (_system, counter, { ids }) => reads(READ_MESSAGES, counter, () => pick(ids)),
};

const mutations: Scenario = {
  name: 'mutations: create, update, delete',
  systems: GRAPHQL_SYSTEMS,
  load: (_system, counter) => ({
    kind: 'requests',
    requests: [
      {
        method: 'POST',
        body: body('mutation Create { createThread(input: { metadata: { bench: "1" } }) { id } }', {}),
        onResponse: (status, text, context) => {
          check(counter)(status, text);
          (context as WithId).id = /"id":"([^"]+)"/.exec(text)?.[1];
        },
      },
      {
        method: 'POST',
        setupRequest: (request, context) => ({
          ...request,
          body: body(
            'mutation Update($id: ID!) { updateThread(id: $id, input: { metadata: { bench: "2" } }) { id } }',
            { id: (context as WithId).id },
          ),
        }),
        onResponse: check(counter),
      },
      {
        method: 'POST',
        setupRequest: (request, context) => ({
          ...request,
          body: body('mutation Delete($id: ID!) { deleteThread(id: $id) { deleted } }', {
            id: (context as WithId).id,
          }),
        }),
        onResponse: check(counter),
      },
    ],
  }),
};

/** One GraphQL request; throws on any error in the answer. */
async function graphql<T>(url: string, query: string, variables: Record<string, unknown>): Promise<T> {
  const answer = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: body(query, variables),
  });
  const result = (await answer.json()) as { data?: T; errors?: unknown };
  if (!answer.ok || result.errors || !result.data) throw new Error(JSON.stringify(result.errors ?? answer.status));
  return result.data;
}

const TERMINAL = new Set(['CANCELLED', 'FAILED', 'INCOMPLETE', 'EXPIRED', 'REQUIRES_ACTION']);

/**
 * A run to completion: `createRun` with the `echo` model, then `run` read again at once until it is
 * COMPLETED (no wait between reads: the time a client learns of the answer). Through the gateway,
 * or the same REST calls straight at the upstream with the openai SDK. One unit is one run.
 */
export const runToCompletion: Scenario = {
  name: 'run to completion (echo), runs/s',
  systems: [GATEWAY, DIRECT],
  load: (system, _counter, fixture) => {
    const chooser = distinctIds(fixture.runThreads);
    const settings = { assistant_id: fixture.assistantId, model: 'echo' };
    if (system.name === DIRECT) {
      const client = new OpenAI({ apiKey: fixture.apiKey, baseURL: fixture.upstreamUrl, maxRetries: 0 });
      return {
        kind: 'flow',
        once: async () => {
          const threadId = chooser.take();
          try {
            let run = await client.beta.threads.runs.create(threadId, settings);
            while (run.status !== 'completed') {
              if (TERMINAL.has(run.status.toUpperCase())) throw new Error(run.status);
              run = await client.beta.threads.runs.retrieve(run.id, { thread_id: threadId });
            }
          } finally {
            chooser.release(threadId);
          }
        },
      };
    }
    const input = { assistantId: settings.assistant_id, model: settings.model };
    type RunAnswer = { id: string; status: string };
    return {
      kind: 'flow',
      once: async () => {
        const threadId = chooser.take();
        try {
          let run = (await graphql<{ createRun: RunAnswer }>(system.url, CREATE_RUN, { threadId, input })).createRun;
          while (run.status !== 'COMPLETED') {
            if (TERMINAL.has(run.status)) throw new Error(run.status);
            run = (await graphql<{ run: RunAnswer }>(system.url, READ_RUN, { threadId, id: run.id })).run;
          }
        } finally {
          chooser.release(threadId);
        }
      },
    };
  },
};

/** The caller's sidebar: the newest 20 threads on its list, each read upstream for its metadata. */
export const sidebar: Scenario = {
  name: 'sidebar: viewer { threads(first: 20) }',
  systems: [GATEWAY, CEILING],
  prepare: async (system, { ids }) => {
    for (const id of ids.slice(0, SIDEBAR_SIZE)) await graphql(system.url, ADOPT, { id });
  },
  load: (_system, counter) => ({
    kind: 'requests',
    requests: [{ method: 'POST', body: body(SIDEBAR, {}), onResponse: check(counter) }],
  }),
};

/** The same 20 threads by id: what the sidebar costs without the list. */
export const sidebarIds: Scenario = {
  name: 'sidebar’s 20 ids: threads(ids:)',
  systems: GRAPHQL_SYSTEMS,
  load: (_system, counter, { ids }) => ({
    kind: 'requests',
    requests: [
      { method: 'POST', body: body(SIDEBAR_IDS, { ids: ids.slice(0, SIDEBAR_SIZE) }), onResponse: check(counter) },
    ],
  }),
};

/** Where users are: uniform reads, with the generator straight at the upstream beside the systems. */
export const slowUniform: Scenario = { ...uniform, systems: [...uniform.systems, DIRECT] };

export const fastScenarios: Scenario[] = [
  uniform,
  distinct,
  hot,
  many,
  messages,
  mutations,
  runToCompletion,
  sidebar,
  sidebarIds,
];
