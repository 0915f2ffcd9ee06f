import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Concurrent writes through a gateway over HTTP that keep count of what was acknowledged, for the
 * tests (and the soak) that restart the gateway's database or Redis underneath it: each worker
 * creates a thread with a message, then adds a second message to it, and carries on until stopped.
 */

const CREATE_THREAD = `mutation CreateThread($input: CreateThreadInput) { createThread(input: $input) { id } }`;
const CREATE_MESSAGE = `mutation CreateMessage($threadId: ID!, $input: ThreadMessageInput!, $key: String) {
  createMessage(threadId: $threadId, input: $input, idempotencyKey: $key) { id }
}`;
const READ_THREADS = `query ReadThreads($ids: [ID!]!) { threads(ids: $ids) { id metadata } }`;
const READ_MESSAGES = `query ReadMessages($id: ID!) {
  thread(id: $id) { messages(first: 10, order: ASC) { nodes { id content { ... on TextContent { text } } } } }
}`;

/** No answer within this long counts as unanswered: the gateway bounds every request well below it. */
const REQUEST_TIMEOUT_MS = 30_000;

interface GraphQLAnswer {
  status: number;
  data?: Record<string, unknown> | null;
  errors?: Array<{ message: string; extensions?: Record<string, unknown> }>;
}

export async function postGraphQL(
  url: string,
  query: string,
  variables: Record<string, unknown> = {},
): Promise<GraphQLAnswer> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json' },
    body: JSON.stringify({ query, variables }),
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  });
  return { status: response.status, ...((await response.json()) as Omit<GraphQLAnswer, 'status'>) };
}

/** A create answered with an error: its code and `outcome` extension as the client saw them. */
export interface FailedWrite {
  operation: 'createThread' | 'createMessage';
  status: number;
  code: string | undefined;
  outcome: unknown;
  message: string;
}

export interface WriteLoad {
  /** Threads acknowledged with an id, and the number their metadata holds. */
  readonly threads: Map<string, number>;
  /** Messages acknowledged with an id: their thread and their text. */
  readonly messages: Map<string, { threadId: string; text: string }>;
  readonly failed: FailedWrite[];
  /** Requests with no HTTP answer at all (connection refused or reset): the gateway was not there. */
  readonly unanswered: string[];
  /** Creates sent so far. */
  sent(): number;
  /** Stops the workers and waits for the requests in flight. */
  stop(): Promise<void>;
}

export interface WriteLoadOptions {
  concurrency: number;
  /** Send an idempotencyKey with each create (keyed creates go through the Redis idempotency store). */
  idempotencyKeys?: boolean;
  /** A pause between one worker's creates, to keep the pace a soak can hold for minutes. */
  pauseMs?: number;
}

export function startWriteLoad(url: string, options: WriteLoadOptions): WriteLoad {
  const threads = new Map<string, number>();
  const messages = new Map<string, { threadId: string; text: string }>();
  const failed: FailedWrite[] = [];
  const unanswered: string[] = [];
  let next = 0;
  let stopped = false;

  const send = async (
    operation: FailedWrite['operation'],
    query: string,
    variables: Record<string, unknown>,
  ): Promise<string | undefined> => {
    let answer: GraphQLAnswer;
    try {
      answer = await postGraphQL(url, query, variables);
    } catch (error) {
      unanswered.push(`${operation}: ${error instanceof Error ? error.message : String(error)}`);
      return undefined;
    }
    const id = (answer.data?.[operation] as { id?: string } | null | undefined)?.id;
    if (id && !answer.errors) return id;
    const first = answer.errors?.[0];
    failed.push({
      operation,
      status: answer.status,
      code: typeof first?.extensions?.code === 'string' ? first.extensions.code : undefined,
      outcome: first?.extensions?.outcome,
      message: first?.message ?? `no id and no error (HTTP ${answer.status})`,
    });
    return undefined;
  };

  const worker = async () => {
    while (!stopped) {
      const n = next++;
      const key = options.idempotencyKeys ? { idempotencyKey: `load-${process.pid}-${n}` } : {};
      const threadId = await send('createThread', CREATE_THREAD, {
        input: { metadata: { n: String(n) }, messages: [{ role: 'USER', content: `first ${n}` }], ...key },
      });
      if (threadId) {
        threads.set(threadId, n);
        const text = `second ${n}`;
        const messageId = await send('createMessage', CREATE_MESSAGE, {
          threadId,
          input: { role: 'ASSISTANT', content: text },
          key: options.idempotencyKeys ? `load-${process.pid}-${n}-m` : null,
        });
        if (messageId) messages.set(messageId, { threadId, text });
      }
      if (options.pauseMs) await sleep(options.pauseMs);
    }
  };
  const workers = Array.from({ length: options.concurrency }, worker);

  return {
    threads,
    messages,
    failed,
    unanswered,
    sent: () => next,
    async stop() {
      stopped = true;
      await Promise.all(workers);
    },
  };
}

/**
 * Reads every acknowledged thread and message back through the gateway; returns the ones that are
 * missing or differ (an empty list: nothing acknowledged was lost).
 */
export async function lostWrites(url: string, load: WriteLoad): Promise<string[]> {
  const lost: string[] = [];
  const ids = [...load.threads.keys()];
  for (let i = 0; i < ids.length; i += 100) {
    const chunk = ids.slice(i, i + 100);
    const answer = await postGraphQL(url, READ_THREADS, { ids: chunk });
    if (answer.errors) throw new Error(`read back failed: ${JSON.stringify(answer.errors)}`);
    const read = answer.data?.threads as Array<{ id: string; metadata: { n?: string } } | null>;
    for (const [index, id] of chunk.entries()) {
      if (read[index]?.metadata.n !== String(load.threads.get(id))) lost.push(`thread ${id}`);
    }
  }
  const byThread = new Map<string, Array<[string, string]>>();
  for (const [id, { threadId, text }] of load.messages) {
    byThread.set(threadId, [...(byThread.get(threadId) ?? []), [id, text]]);
  }
  const entries = [...byThread];
  for (let i = 0; i < entries.length; i += 20) {
    await Promise.all(
      entries.slice(i, i + 20).map(async ([threadId, expected]) => {
        const answer = await postGraphQL(url, READ_MESSAGES, { id: threadId });
        if (answer.errors) throw new Error(`read back failed: ${JSON.stringify(answer.errors)}`);
        const nodes =
          (answer.data?.thread as { messages: { nodes: Array<{ id: string; content: Array<{ text?: string }> }> } })
            ?.messages.nodes ?? [];
        for (const [id, text] of expected) {
          const found = nodes.find((node) => node.id === id);
          if (found?.content[0]?.text !== text) lost.push(`message ${id}`);
        }
      }),
    );
  }
  return lost;
}

/**
 * Milliseconds from now until a create through the gateway succeeds (tried every 50 ms), or
 * undefined when none did within `withinMs`.
 */
export async function msUntilWritable(
  url: string,
  withinMs: number,
  idempotencyKey?: string,
): Promise<number | undefined> {
  const started = performance.now();
  for (let attempt = 0; performance.now() - started < withinMs; attempt++) {
    const key = idempotencyKey ? { idempotencyKey: `${idempotencyKey}-${attempt}` } : {};
    const answer = await postGraphQL(url, CREATE_THREAD, { input: { metadata: { probe: 'yes' }, ...key } }).catch(
      () => undefined,
    );
    if ((answer?.data?.createThread as { id?: string } | undefined)?.id) return Math.round(performance.now() - started);
    await sleep(50);
  }
  return undefined;
}
