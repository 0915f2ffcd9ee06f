import type { Handler, Reply, SeenRequest, TestUpstream } from './test-upstream.ts';

/**
 * The Threads API's runs and assistants routes, for a test upstream: threads and messages go on to
 * its local backend; runs and assistants are answered here, in the API's wire format, from a small
 * scripted state machine. Each read of a run moves it one step, as a real run moves while a client
 * polls: queued → in_progress → the run's script (`metadata.script`):
 *
 * - `complete` (the default): completed, with one assistant message (`run_id` set) and usage;
 * - `tools`: requires_action with two function calls; after submit_tool_outputs, in_progress,
 *   then completed with a message that quotes the outputs;
 * - `fail`: failed with `last_error`;
 * - `slow`: stays in_progress (for cancel).
 */
export interface FakeRun {
  id: string;
  object: 'thread.run';
  thread_id: string;
  assistant_id: string | null;
  status: string;
  model: string;
  instructions: string | null;
  tools: unknown[];
  metadata: Record<string, string>;
  created_at: number;
  started_at: number | null;
  completed_at: number | null;
  failed_at: number | null;
  cancelled_at: number | null;
  last_error: { code: string; message: string } | null;
  incomplete_details: { reason: string } | null;
  required_action: unknown;
  usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number } | null;
  /** Not on the wire: what the run does next. */
  script: string;
  outputs?: Array<{ tool_call_id: string; output: string }>;
}

type WireRun = Omit<FakeRun, 'script' | 'outputs'>;

/** A run as a Threads server answers it: what `fields` say, every time and result not yet set. */
export function wireRun(
  fields: Pick<WireRun, 'id' | 'thread_id' | 'assistant_id' | 'model' | 'instructions' | 'tools' | 'metadata'> &
    Partial<WireRun>,
): WireRun {
  return {
    object: 'thread.run',
    status: 'queued',
    created_at: now(),
    started_at: null,
    completed_at: null,
    failed_at: null,
    cancelled_at: null,
    last_error: null,
    incomplete_details: null,
    required_action: null,
    usage: null,
    ...fields,
  };
}

export interface RunsState {
  runs: Map<string, FakeRun>;
  assistants: Map<string, Record<string, unknown>>;
  /** Messages the runs wrote, by run id, in the Threads API's message shape. */
  runMessages: Map<string, Array<Record<string, unknown>>>;
}

const TERMINAL = new Set(['cancelled', 'failed', 'completed', 'incomplete', 'expired']);

function now(): number {
  return Math.floor(Date.now() / 1000);
}

let counter = 0;
function nextId(prefix: string): string {
  counter++;
  return `${prefix}_${String(counter).padStart(24, '0')}`;
}

function wire(run: FakeRun): Omit<FakeRun, 'script' | 'outputs'> {
  const { script: _script, outputs: _outputs, ...rest } = run;
  return rest;
}

function badRequest(message: string, param?: string): Reply {
  return { status: 400, body: { error: { message, type: 'invalid_request_error', param: param ?? null } } };
}

function notFound(what: string): Reply {
  return { status: 404, body: { error: { message: `No ${what} found`, type: 'invalid_request_error' } } };
}

function writeMessage(state: RunsState, run: FakeRun, text: string): void {
  const messages = state.runMessages.get(run.id) ?? [];
  messages.push({
    id: nextId('msg'),
    object: 'thread.message',
    created_at: now(),
    thread_id: run.thread_id,
    role: 'assistant',
    content: [{ type: 'text', text: { value: text, annotations: [] } }],
    attachments: [],
    metadata: {},
    status: 'completed',
    assistant_id: run.assistant_id,
    run_id: run.id,
  });
  state.runMessages.set(run.id, messages);
}

function complete(state: RunsState, run: FakeRun, text: string): void {
  run.status = 'completed';
  run.completed_at = now();
  run.usage = { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 };
  writeMessage(state, run, text);
}

/** One step of the run's script, taken on each read. */
function advance(state: RunsState, run: FakeRun): void {
  if (TERMINAL.has(run.status) || run.status === 'requires_action') return;
  if (run.status === 'cancelling') {
    run.status = 'cancelled';
    run.cancelled_at = now();
    return;
  }
  if (run.status === 'queued') {
    run.status = 'in_progress';
    run.started_at = now();
    return;
  }
  if (run.outputs) {
    complete(state, run, `tools said: ${run.outputs.map((output) => output.output).join(', ')}`);
    return;
  }
  switch (run.script) {
    case 'tools':
      run.status = 'requires_action';
      run.required_action = {
        type: 'submit_tool_outputs',
        submit_tool_outputs: {
          tool_calls: [
            { id: nextId('call'), type: 'function', function: { name: 'get_weather', arguments: '{"city":"Oslo"}' } },
            { id: nextId('call'), type: 'function', function: { name: 'get_time', arguments: '{}' } },
          ],
        },
      };
      return;
    case 'fail':
      run.status = 'failed';
      run.failed_at = now();
      run.last_error = { code: 'server_error', message: 'The model broke down.' };
      return;
    case 'slow':
      return;
    default:
      complete(state, run, `echo: ${run.instructions ?? 'hello'}`);
  }
}

function parse(body: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(body || '{}');
    return value && typeof value === 'object' ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

function page<T>(items: T[], query: URLSearchParams): { object: 'list'; data: T[]; has_more: boolean } {
  const limit = Number(query.get('limit') ?? 20);
  const ordered = query.get('order') === 'asc' ? items : [...items].reverse();
  const after = query.get('after');
  const start = after ? ordered.findIndex((item) => (item as { id?: unknown }).id === after) + 1 : 0;
  const data = ordered.slice(start, start + limit);
  return { object: 'list', data, has_more: start + limit < ordered.length };
}

/** A handler for `startTestUpstream` that serves runs and assistants and forwards the rest. */
export function runsHandler(upstream: () => TestUpstream, state: RunsState): Handler {
  return async (request: SeenRequest): Promise<Reply> => {
    const url = new URL(request.path, 'http://upstream.test');
    const path = url.pathname.replace(/^\/v1/, '');
    const body = parse(request.body);
    let match = /^\/threads\/([^/]+)\/messages$/.exec(path);
    if (match && request.method === 'GET' && url.searchParams.has('run_id')) {
      const runId = url.searchParams.get('run_id') ?? '';
      return { status: 200, body: page(state.runMessages.get(runId) ?? [], url.searchParams) };
    }
    match = /^\/threads\/([^/]+)\/runs$/.exec(path);
    if (match) {
      const threadId = match[1] ?? '';
      if (!(await upstream().store.getThread(threadId))) return notFound('thread');
      if (request.method === 'GET') {
        const runs = [...state.runs.values()].filter((run) => run.thread_id === threadId).map(wire);
        return { status: 200, body: page(runs, url.searchParams) };
      }
      if (typeof body.assistant_id !== 'string')
        return badRequest('Missing required parameter: assistant_id', 'assistant_id');
      const assistant = state.assistants.get(body.assistant_id);
      if (!assistant) return notFound('assistant');
      const metadata = (body.metadata ?? {}) as Record<string, string>;
      const run: FakeRun = {
        ...wireRun({
          id: nextId('run'),
          thread_id: threadId,
          assistant_id: body.assistant_id,
          model: typeof body.model === 'string' ? body.model : String(assistant.model),
          instructions:
            typeof body.instructions === 'string' ? body.instructions : (assistant.instructions as string | null),
          tools: Array.isArray(body.tools) ? body.tools : (assistant.tools as unknown[]),
          metadata,
        }),
        script: metadata.script ?? 'complete',
      };
      state.runs.set(run.id, run);
      return { status: 200, body: wire(run) };
    }
    match = /^\/threads\/([^/]+)\/runs\/([^/]+)(\/cancel|\/submit_tool_outputs)?$/.exec(path);
    if (match) {
      const run = state.runs.get(match[2] ?? '');
      if (!run || run.thread_id !== match[1]) return notFound('run');
      if (request.method === 'GET') {
        advance(state, run);
        return { status: 200, body: wire(run) };
      }
      if (match[3] === '/cancel') {
        if (TERMINAL.has(run.status)) return badRequest(`Cannot cancel run with status '${run.status}'.`);
        run.status = 'cancelling';
        return { status: 200, body: wire(run) };
      }
      if (match[3] === '/submit_tool_outputs') {
        if (run.status !== 'requires_action') return badRequest('Run is not waiting for tool outputs.');
        run.outputs = (body.tool_outputs ?? []) as FakeRun['outputs'];
        run.status = 'in_progress';
        run.required_action = null;
        return { status: 200, body: wire(run) };
      }
    }
    if (path === '/assistants') {
      if (request.method === 'GET')
        return { status: 200, body: page([...state.assistants.values()], url.searchParams) };
      if (typeof body.model !== 'string') return badRequest('Missing required parameter: model', 'model');
      const assistant = {
        id: nextId('asst'),
        object: 'assistant',
        created_at: now(),
        name: body.name ?? null,
        description: body.description ?? null,
        model: body.model,
        instructions: body.instructions ?? null,
        tools: body.tools ?? [],
        metadata: body.metadata ?? {},
        temperature: body.temperature ?? 1,
        top_p: body.top_p ?? 1,
      };
      state.assistants.set(assistant.id, assistant);
      return { status: 200, body: assistant };
    }
    match = /^\/assistants\/([^/]+)$/.exec(path);
    if (match) {
      const id = match[1] ?? '';
      const assistant = state.assistants.get(id);
      if (!assistant) return notFound('assistant');
      if (request.method === 'GET') return { status: 200, body: assistant };
      if (request.method === 'DELETE') {
        state.assistants.delete(id);
        return { status: 200, body: { id, object: 'assistant.deleted', deleted: true } };
      }
      Object.assign(assistant, body);
      return { status: 200, body: assistant };
    }
    return { forward: true };
  };
}

export function emptyRunsState(): RunsState {
  return { runs: new Map(), assistants: new Map(), runMessages: new Map() };
}
