import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createLocalBackend, type LocalBackend } from '../../src/local-backend/backend.ts';
import { serveLocalBackend } from '../../src/local-backend/serve.ts';
import { MemoryStore } from '../../src/local-backend/store/memory-store.ts';
import { withQuota } from '../../src/local-backend/store/quota.ts';
import type { Store } from '../../src/local-backend/store/store.ts';
import { startChatCompletionsServer } from '../helpers/chat-completions-server.ts';
import { checkAnswer, describeDivergence, openApi, pathTemplate } from '../helpers/openapi.ts';
import { STORE_KINDS, serveRunBackend, until } from '../helpers/run-backend.ts';
import { dataOf, parseSse, type SseEvent, streamDivergences } from '../helpers/sse.ts';

/**
 * Every route of the local backend, in both API families, driven with realistic bodies over real
 * HTTP, and every answer (errors included) checked against the response schema OpenAI's published
 * description gives its operation. The description is vendored in test/conformance/.
 */

type Json = Record<string, unknown>;

interface Answer {
  status: number;
  body: Json;
}

const BETA = { 'openai-beta': 'assistants=v2' };

/** A served backend and a client of raw fetches that checks each answer as it arrives. */
class Session {
  /** Error statuses answered (each checked as ErrorResponse). */
  readonly errorStatuses = new Set<number>();
  /** The answers of the current test that do not validate, each described. */
  readonly divergences: string[] = [];

  /** `answered`: `METHOD /template` of each operation that answered 2xx. */
  constructor(
    readonly url: string,
    readonly backend: LocalBackend,
    /** Shared with another session when both exercise one route table's routes. */
    readonly answered = new Set<string>(),
  ) {}

  async call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Answer> {
    const response = await this.#fetch(method, path, body, headers);
    const answer = { status: response.status, body: (await response.json()) as Json };
    this.check(method, path, answer);
    return answer;
  }

  /**
   * A streamed answer: 200 `text/event-stream`, each event checked against the description's stream
   * event schemas (`AssistantStreamEvent` for runs, `ResponseStreamEvent` for responses).
   */
  async stream(method: string, path: string, body?: unknown): Promise<SseEvent[]> {
    const response = await this.#fetch(method, path, body, {});
    const text = await response.text();
    expect(response.status, `${method} ${path}: ${text.slice(0, 500)}`).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const events = parseSse(text);
    this.divergences.push(...streamDivergences(path.startsWith('/v1/threads') ? 'assistant' : 'response', events));
    this.answered.add(`${method} ${pathTemplate(new URL(path, 'http://x').pathname)}`);
    return events;
  }

  #fetch(method: string, path: string, body: unknown, headers: Record<string, string>): Promise<Response> {
    return fetch(`${this.url}${path.replace(/^\/v1/, '')}`, {
      method,
      headers: {
        authorization: 'Bearer sk-local',
        ...(path.startsWith('/v1/threads') || path.startsWith('/v1/assistants') ? BETA : {}),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...headers,
      },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
  }

  check(method: string, path: string, answer: Answer): void {
    const url = new URL(path, 'http://x');
    const divergence = checkAnswer(method, url.pathname, answer.status, answer.body);
    if (divergence) this.divergences.push(describeDivergence(divergence));
    if (answer.status < 300) this.answered.add(`${method} ${pathTemplate(url.pathname)}`);
    else this.errorStatuses.add(answer.status);
  }

  /** A 2xx answer's body; anything else fails the test with the answer. */
  async ok(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<Json> {
    const answer = await this.call(method, path, body, headers);
    expect(answer.status, `${method} ${path}: ${JSON.stringify(answer.body)}`).toBe(200);
    return answer.body;
  }

  async expectStatus(status: number, method: string, path: string, body?: unknown, headers?: Record<string, string>) {
    const answer = await this.call(method, path, body, headers);
    expect(answer.status, `${method} ${path}: ${JSON.stringify(answer.body)}`).toBe(status);
    return answer.body;
  }
}

const id = (body: Json): string => String(body.id);
const data = (body: Json): Json[] => body.data as Json[];

async function threadsAndMessages(s: Session): Promise<void> {
  const thread = await s.ok('POST', '/v1/threads', {
    messages: [
      { role: 'user', content: 'A string content.' },
      {
        role: 'user',
        content: [
          { type: 'text', text: 'Every part type:' },
          { type: 'image_url', image_url: { url: 'https://example.com/cat.png', detail: 'low' } },
          { type: 'image_file', image_file: { file_id: 'file-abc123', detail: 'high' } },
        ],
        attachments: [
          { file_id: 'file-doc1', tools: [{ type: 'code_interpreter' }] },
          { file_id: 'file-doc2', tools: [{ type: 'file_search' }] },
        ],
        metadata: { source: 'import' },
      },
      { role: 'assistant', content: [{ type: 'text', text: 'An assistant turn.' }] },
    ],
    tool_resources: { code_interpreter: { file_ids: ['file-code1'] }, file_search: { vector_store_ids: ['vs_1'] } },
    metadata: { project: 'conformance' },
  });
  const threadPath = `/v1/threads/${id(thread)}`;
  await s.ok('POST', '/v1/threads', {});
  await s.ok('GET', threadPath);
  await s.ok('POST', threadPath, { metadata: { project: 'renamed' }, tool_resources: { code_interpreter: {} } });

  const text = await s.ok('POST', `${threadPath}/messages`, { role: 'user', content: 'Another string.' });
  await s.ok('POST', `${threadPath}/messages`, {
    role: 'assistant',
    content: [
      { type: 'text', text: 'Parts again' },
      { type: 'image_url', image_url: { url: 'https://example.com/dog.png' } },
    ],
    attachments: [{ file_id: 'file-doc3', tools: [{ type: 'file_search' }] }],
    metadata: { k: 'v' },
  });
  const newest = await s.ok('GET', `${threadPath}/messages?limit=2`);
  expect(newest.has_more).toBe(true);
  await s.ok('GET', `${threadPath}/messages?limit=2&after=${String(newest.last_id)}`);
  const oldest = await s.ok('GET', `${threadPath}/messages?order=asc&limit=2`);
  await s.ok('GET', `${threadPath}/messages?order=desc&before=${String(oldest.last_id)}`);
  await s.ok('GET', `${threadPath}/messages/${id(text)}`);
  await s.ok('POST', `${threadPath}/messages/${id(text)}`, { metadata: { edited: 'yes' } });
  await s.ok('DELETE', `${threadPath}/messages/${id(text)}`);

  const empty = await s.ok('POST', '/v1/threads', { metadata: {} });
  await s.ok('GET', `/v1/threads/${id(empty)}/messages`);
  await s.ok('DELETE', `/v1/threads/${id(empty)}`);
}

async function assistantsAndRuns(s: Session): Promise<void> {
  const weather = {
    type: 'function',
    function: {
      name: 'get_weather',
      description: 'The weather in a city',
      parameters: { type: 'object', properties: { city: { type: 'string' } } },
    },
  };
  const assistant = await s.ok('POST', '/v1/assistants', {
    model: 'echo',
    name: 'Echo',
    description: 'Repeats the last user message',
    instructions: 'Repeat.',
    tools: [{ type: 'code_interpreter' }, weather],
    tool_resources: { code_interpreter: { file_ids: ['file-code1'] } },
    metadata: { team: 'qa' },
    temperature: 0.5,
    top_p: 1,
    response_format: 'auto',
  });
  await s.ok('POST', '/v1/assistants', { model: 'echo' });
  const assistantPath = `/v1/assistants/${id(assistant)}`;
  await s.ok('GET', assistantPath);
  await s.ok('POST', assistantPath, { name: 'Echo 2', metadata: { team: 'ops' }, response_format: { type: 'text' } });
  const first = await s.ok('GET', '/v1/assistants?limit=1');
  await s.ok('GET', `/v1/assistants?limit=1&after=${String(first.last_id)}`);
  await s.ok('GET', `/v1/assistants?order=asc&before=${String(first.first_id)}`);

  const thread = await s.ok('POST', '/v1/threads', { messages: [{ role: 'user', content: 'Hello, echo.' }] });
  const runsPath = `/v1/threads/${id(thread)}/runs`;
  const run = await s.ok('POST', runsPath, {
    assistant_id: id(assistant),
    additional_instructions: 'Be brief.',
    additional_messages: [{ role: 'user', content: [{ type: 'text', text: 'And once more.' }] }],
    metadata: { attempt: '1' },
    max_prompt_tokens: 2000,
    max_completion_tokens: 300,
    truncation_strategy: { type: 'auto' },
  });
  const done = await until(
    () => s.ok('GET', `${runsPath}/${id(run)}`),
    (body) => body.status === 'completed',
  );
  expect(done.status).toBe('completed');
  await s.ok('POST', `${runsPath}/${id(run)}`, { metadata: { attempt: 'done' } });
  await s.ok('GET', `/v1/threads/${id(thread)}/messages?order=asc`);

  // A tool round: the echo model calls the tool a `/call` names.
  await s.ok('POST', `/v1/threads/${id(thread)}/messages`, {
    role: 'user',
    content: '/call get_weather {"city":"Oslo"}',
  });
  const calling = await s.ok('POST', runsPath, { assistant_id: id(assistant), tools: [weather] });
  const waiting = await until(
    () => s.ok('GET', `${runsPath}/${id(calling)}`),
    (body) => body.status === 'requires_action',
  );
  const action = waiting.required_action as { submit_tool_outputs: { tool_calls: Array<{ id: string }> } };
  await s.ok('POST', `${runsPath}/${id(calling)}/submit_tool_outputs`, {
    tool_outputs: action.submit_tool_outputs.tool_calls.map((call) => ({ tool_call_id: call.id, output: 'sunny' })),
  });
  await until(
    () => s.ok('GET', `${runsPath}/${id(calling)}`),
    (body) => body.status === 'completed',
  );
  // Its steps: the tool calls with their outputs, then the answer's message.
  const stepsPath = `${runsPath}/${id(calling)}/steps`;
  const steps = await s.ok('GET', `${stepsPath}?order=asc`);
  expect(data(steps).map((step) => [step.type, step.status])).toEqual([
    ['tool_calls', 'completed'],
    ['message_creation', 'completed'],
  ]);
  expect(data(steps)[0]?.step_details).toMatchObject({
    tool_calls: [{ function: { name: 'get_weather', output: 'sunny' } }],
  });
  await s.ok('GET', `${stepsPath}/${String(steps.first_id)}`);
  const include = encodeURIComponent('step_details.tool_calls[*].file_search.results[*].content');
  await s.ok('GET', `${stepsPath}?limit=1&after=${String(steps.first_id)}&include[]=${include}`);
  await s.ok('GET', `${stepsPath}?limit=1&before=${String(steps.last_id)}`);

  // A run cancelled while it waits for tool outputs.
  await s.ok('POST', `/v1/threads/${id(thread)}/messages`, { role: 'user', content: '/call get_weather {}' });
  const cancelled = await s.ok('POST', runsPath, {
    assistant_id: id(assistant),
    model: 'echo',
    tools: [weather],
    instructions: 'Call tools.',
  });
  await until(
    () => s.ok('GET', `${runsPath}/${id(cancelled)}`),
    (body) => body.status === 'requires_action',
  );
  await s.ok('POST', `${runsPath}/${id(cancelled)}/cancel`);
  await until(
    () => s.ok('GET', `${runsPath}/${id(cancelled)}`),
    (body) => body.status === 'cancelled',
  );
  expect(data(await s.ok('GET', `${runsPath}/${id(cancelled)}/steps`)).map((step) => step.status)).toEqual([
    'cancelled',
  ]);
  const runs = await s.ok('GET', `${runsPath}?limit=2`);
  await s.ok('GET', `${runsPath}?limit=2&after=${String(runs.last_id)}`);
  await s.ok('GET', `${runsPath}?order=asc&before=${String(runs.last_id)}`);
  await s.ok('GET', `/v1/threads/${id(thread)}/messages`);

  // Create thread and run, in one call: the run as POST …/runs answers it, on its new thread.
  const both = await s.ok('POST', '/v1/threads/runs', {
    assistant_id: id(assistant),
    thread: { messages: [{ role: 'user', content: 'Both at once.' }], metadata: { via: 'threads/runs' } },
    metadata: { attempt: 'both' },
  });
  const bothPath = `/v1/threads/${String(both.thread_id)}/runs/${id(both)}`;
  expect(
    await until(
      () => s.ok('GET', bothPath),
      (body) => body.status === 'completed',
    ),
  ).toMatchObject({
    metadata: { attempt: 'both' },
  });
  const [reply] = data(await s.ok('GET', `/v1/threads/${String(both.thread_id)}/messages?limit=1`));
  expect(reply).toMatchObject({ role: 'assistant', content: [{ text: { value: 'Both at once.' } }] });
  expect(
    await s.expectStatus(400, 'POST', '/v1/threads/runs', { assistant_id: id(assistant), thread: { messages: 'x' } }),
  ).toMatchObject({
    error: { param: 'thread.messages' },
  });
  await s.expectStatus(405, 'GET', '/v1/threads/runs');

  await s.ok('DELETE', assistantPath);
}

async function conversationsAndItems(s: Session): Promise<void> {
  const conversation = await s.ok('POST', '/v1/conversations', {
    items: [
      { type: 'message', role: 'user', content: 'A string content.' },
      {
        type: 'message',
        role: 'user',
        content: [
          { type: 'input_text', text: 'Every part type:' },
          { type: 'input_image', image_url: 'https://example.com/cat.png', detail: 'low' },
          { type: 'input_image', file_id: 'file-abc123', detail: 'auto' },
        ],
      },
      {
        type: 'message',
        role: 'assistant',
        content: [
          { type: 'output_text', text: 'An answer.', annotations: [] },
          { type: 'refusal', refusal: 'Not that.' },
        ],
      },
      { role: 'developer', content: 'An easy input message without a type.' },
    ],
    metadata: { topic: 'conformance' },
  });
  const path = `/v1/conversations/${id(conversation)}`;
  await s.ok('POST', '/v1/conversations', {});
  await s.ok('GET', path);
  await s.ok('POST', path, { metadata: { topic: 'renamed' } });
  const added = await s.ok('POST', `${path}/items`, {
    items: [
      { type: 'message', role: 'system', content: [{ type: 'input_text', text: 'Be kind.' }] },
      { type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'Kindly.', annotations: [] }] },
    ],
  });
  const newest = await s.ok('GET', `${path}/items?limit=2`);
  expect(newest.has_more).toBe(true);
  await s.ok('GET', `${path}/items?limit=2&after=${String(newest.last_id)}`);
  await s.ok('GET', `${path}/items?order=asc&limit=3`);
  const [assistantItem] = data(added).slice(-1);
  await s.ok('GET', `${path}/items/${id(assistantItem ?? {})}`);
  await s.ok('DELETE', `${path}/items/${id(assistantItem ?? {})}`);

  const empty = await s.ok('POST', '/v1/conversations', { metadata: {} });
  await s.ok('GET', `/v1/conversations/${id(empty)}/items`);
  await s.ok('DELETE', `/v1/conversations/${id(empty)}`);
}

async function responses(s: Session, hanging: Session): Promise<void> {
  const weather = {
    type: 'function',
    name: 'get_weather',
    description: 'The weather in a city',
    parameters: { type: 'object', properties: { city: { type: 'string' } } },
    strict: false,
  };
  const conversation = await s.ok('POST', '/v1/conversations', {
    items: [{ type: 'message', role: 'user', content: 'An earlier turn.' }],
  });
  const answered = await s.ok('POST', '/v1/responses', {
    model: 'echo',
    conversation: id(conversation),
    input: 'Hello there.',
    instructions: 'Echo.',
    metadata: { k: 'v' },
    temperature: 0.7,
    max_output_tokens: 200,
  });
  await s.ok('GET', `/v1/responses/${id(answered)}`);
  // The description's other create parameters: checked, echoed where the response carries them.
  const tuned = await s.ok('POST', '/v1/responses', {
    model: 'echo',
    input: 'Tuned.',
    user: 'user-1234',
    safety_identifier: 'safety-1234',
    prompt_cache_key: 'cache-1234',
    service_tier: 'auto',
    truncation: 'auto',
    reasoning: { effort: 'low', summary: 'auto' },
    max_tool_calls: 3,
    top_logprobs: 2,
    include: ['message.output_text.logprobs'],
  });
  expect(tuned).toMatchObject({
    status: 'completed',
    user: 'user-1234',
    service_tier: 'default',
    truncation: 'auto',
    reasoning: { effort: 'low', summary: 'auto' },
    max_tool_calls: 3,
  });
  await s.ok('GET', `/v1/conversations/${id(conversation)}/items?order=asc`);

  const calling = await s.ok('POST', '/v1/responses', {
    model: 'echo',
    conversation: id(conversation),
    input: [
      { type: 'message', role: 'user', content: [{ type: 'input_text', text: '/call get_weather {"city":"Oslo"}' }] },
    ],
    tools: [weather],
    tool_choice: 'auto',
    text: { format: { type: 'text' } },
  });
  const call = (calling.output as Json[]).find((item) => item.type === 'function_call') ?? {};
  await s.ok('POST', '/v1/responses', {
    model: 'echo',
    conversation: id(conversation),
    input: [{ type: 'function_call_output', call_id: call.call_id, output: 'sunny' }],
    tools: [weather],
  });
  await s.ok('GET', `/v1/conversations/${id(conversation)}/items?order=desc&limit=3`);

  const background = await s.ok('POST', '/v1/responses', { model: 'echo', input: 'Later.', background: true });
  await until(
    () => s.ok('GET', `/v1/responses/${id(background)}`),
    (body) => body.status === 'completed',
  );

  // Cancelled while its model (one that never answers) is still working, then cancelled again.
  const stopped = await hanging.ok('POST', '/v1/responses', { model: 'slow', input: 'Stop me.', background: true });
  await until(
    () => hanging.ok('GET', `/v1/responses/${id(stopped)}`),
    (body) => body.status === 'in_progress',
  );
  expect(await hanging.ok('POST', `/v1/responses/${id(stopped)}/cancel`)).toMatchObject({ status: 'cancelled' });
  await hanging.ok('POST', `/v1/responses/${id(stopped)}/cancel`);
}

/** The last event named `name`, its data parsed. */
function lastData(events: readonly SseEvent[], name: string): Json {
  const found = events.findLast((event) => event.event === name);
  return (found ? dataOf(found) : {}) as Json;
}

async function streams(s: Session): Promise<void> {
  const weather = { type: 'function', function: { name: 'get_weather', parameters: { type: 'object' } } };
  const assistant = await s.ok('POST', '/v1/assistants', { model: 'echo', tools: [weather] });
  const thread = await s.ok('POST', '/v1/threads', { messages: [{ role: 'user', content: 'Stream me 🌊 流れ.' }] });
  const runsPath = `/v1/threads/${id(thread)}/runs`;
  const answered = await s.stream('POST', runsPath, { assistant_id: id(assistant), stream: true });
  expect(answered.map((event) => event.event)).toContain('thread.message.delta');
  const names = (events: readonly SseEvent[]) =>
    events.map((event) => event.event).filter((name) => name.includes('step'));
  expect(names(answered)).toEqual([
    'thread.run.step.created',
    'thread.run.step.in_progress',
    'thread.run.step.completed',
  ]);

  await s.ok('POST', `/v1/threads/${id(thread)}/messages`, { role: 'user', content: '/call get_weather {}' });
  const calling = await s.stream('POST', runsPath, { assistant_id: id(assistant), stream: true });
  const waiting = lastData(calling, 'thread.run.requires_action');
  expect(lastData(calling, 'thread.run.step.in_progress')).toMatchObject({ type: 'tool_calls', status: 'in_progress' });
  const action = waiting.required_action as { submit_tool_outputs: { tool_calls: Array<{ id: string }> } };
  const submitted = await s.stream('POST', `${runsPath}/${id(waiting)}/submit_tool_outputs`, {
    tool_outputs: action.submit_tool_outputs.tool_calls.map((call) => ({ tool_call_id: call.id, output: 'sunny' })),
    stream: true,
  });
  expect(submitted.find((event) => event.event === 'thread.run.step.completed')?.data).toContain('"output":"sunny"');

  await s.stream('POST', '/v1/responses', { model: 'echo', input: 'Stream me 🌊 流れ.', stream: true });
  const background = await s.stream('POST', '/v1/responses', {
    model: 'echo',
    input: [{ type: 'message', role: 'user', content: '/call get_weather {"city":"Oslo"}' }],
    tools: [{ type: 'function', name: 'get_weather', parameters: { type: 'object' }, strict: false }],
    background: true,
    stream: true,
  });
  const response = lastData(background, 'response.created').response as Json;
  await s.stream('GET', `/v1/responses/${id(response)}?stream=true&starting_after=2`);
}

/** A run read until it ends. */
const settled = (s: Session, path: string) =>
  until(
    () => s.ok('GET', path),
    (body) => !['queued', 'in_progress', 'cancelling'].includes(String(body.status)),
  );

async function failuresAndLimits(s: Session): Promise<void> {
  const long = 'word '.repeat(400); // about 500 tokens
  const assistant_id = id(await s.ok('POST', '/v1/assistants', { model: 'echo' }));
  const thread = async (...contents: string[]) =>
    `/v1/threads/${id(await s.ok('POST', '/v1/threads', { messages: contents.map((content) => ({ role: 'user', content })) }))}`;

  // A model with no server fails the run, with a code the description allows.
  let path = await thread('Hello.');
  const failed = await settled(
    s,
    `${path}/runs/${id(await s.ok('POST', `${path}/runs`, { assistant_id, model: 'gpt-unknown' }))}`,
  );
  expect(failed).toMatchObject({ status: 'failed', last_error: { code: 'server_error' } });

  // Cut at max_completion_tokens: the run is incomplete, and so is its message, streamed and stored.
  path = await thread(long);
  const cut = await s.stream('POST', `${path}/runs`, { assistant_id, max_completion_tokens: 256, stream: true });
  expect(cut.map((event) => event.event)).toContain('thread.message.incomplete');
  expect(lastData(cut, 'thread.run.incomplete')).toMatchObject({
    incomplete_details: { reason: 'max_completion_tokens' },
  });
  const [answer] = data(await s.ok('GET', `${path}/messages?limit=1`));
  expect(answer).toMatchObject({
    status: 'incomplete',
    incomplete_details: { reason: 'max_tokens' },
    completed_at: null,
  });

  // Over max_prompt_tokens with nothing to drop: incomplete, the model not asked (no message).
  path = await thread(long);
  const over = await s.ok('POST', `${path}/runs`, {
    assistant_id,
    max_prompt_tokens: 256,
    truncation_strategy: { type: 'last_messages', last_messages: 1 },
  });
  expect(await settled(s, `${path}/runs/${id(over)}`)).toMatchObject({
    status: 'incomplete',
    incomplete_details: { reason: 'max_prompt_tokens' },
  });
  expect(data(await s.ok('GET', `${path}/messages`))).toHaveLength(1);

  // Under `auto` truncation the oldest messages go until the prompt fits.
  path = await thread(long, 'Short.');
  const fits = await s.ok('POST', `${path}/runs`, { assistant_id, max_prompt_tokens: 256 });
  expect(await settled(s, `${path}/runs/${id(fits)}`)).toMatchObject({ status: 'completed' });
  const [reply] = data(await s.ok('GET', `${path}/messages?limit=1`));
  expect(reply).toMatchObject({ role: 'assistant', content: [{ text: { value: 'Short.' } }] });

  // A response on a model with no server fails, with a code the description allows.
  expect(await s.ok('POST', '/v1/responses', { model: 'gpt-unknown', input: 'hi' })).toMatchObject({
    status: 'failed',
    error: { code: 'server_error' },
  });
}

async function errors(s: Session): Promise<void> {
  const thread = await s.ok('POST', '/v1/threads', { messages: [{ role: 'user', content: 'x' }] });
  await s.expectStatus(400, 'POST', '/v1/threads', { messages: 'not a list' });
  await s.expectStatus(400, 'POST', `/v1/threads/${id(thread)}/messages`, { role: 'tool', content: 'x' });
  await s.expectStatus(400, 'POST', '/v1/conversations', { colour: 'blue' });
  await s.expectStatus(400, 'POST', '/v1/responses', { model: 'echo', input: 'x', colour: 'blue' });
  expect(
    await s.expectStatus(400, 'POST', '/v1/responses', { model: 'echo', input: 'x', prompt: { id: 'pmpt_1' } }),
  ).toMatchObject({
    error: { param: 'prompt', code: 'unsupported_parameter' },
  });
  await s.expectStatus(400, 'POST', '/v1/responses', { model: 'echo', input: 'x', reasoning: { effort: 'extreme' } });
  await s.expectStatus(400, 'POST', '/v1/responses', { model: 'echo', input: 'x', top_logprobs: 21 });
  await s.expectStatus(400, 'POST', '/v1/assistants', {});
  await s.expectStatus(400, 'POST', `/v1/threads/${id(thread)}/runs`, { model: 'echo', max_completion_tokens: 100 });
  await s.expectStatus(400, 'POST', '/v1/threads', '{not json');
  // Deeply nested bodies (a schema of 100,000 levels) are refused, never a 500 on any route.
  const deep = `${'{"a":'.repeat(100_000)}1${'}'.repeat(100_000)}`;
  for (const [path, body] of [
    ['/v1/assistants', `{"model":"echo","tools":[{"type":"function","function":{"name":"f","parameters":${deep}}}]}`],
    [
      `/v1/threads/${id(thread)}/runs`,
      `{"model":"echo","response_format":{"type":"json_schema","json_schema":{"name":"x","schema":${deep}}}}`,
    ],
    [
      '/v1/responses',
      `{"model":"echo","input":"x","text":{"format":{"type":"json_schema","name":"x","schema":${deep}}}}`,
    ],
    ['/v1/conversations', `{"items":${deep}}`],
  ] as const) {
    expect(await s.expectStatus(400, 'POST', path, body)).toMatchObject({
      error: { message: expect.stringMatching(/nests deeper/) },
    });
  }
  await s.expectStatus(401, 'GET', `/v1/threads/${id(thread)}`, undefined, { authorization: '' });
  await s.expectStatus(401, 'GET', '/v1/conversations/conv_1', undefined, { authorization: '' });
  await s.expectStatus(401, 'GET', '/v1/responses/resp_1', undefined, { authorization: '' });
  await s.expectStatus(404, 'GET', '/v1/threads/thread_missing');
  await s.expectStatus(404, 'GET', `/v1/threads/${id(thread)}/messages/msg_missing`);
  await s.expectStatus(404, 'GET', '/v1/threads/thread_missing/runs/run_missing');
  await s.expectStatus(404, 'GET', '/v1/assistants/asst_missing');
  await s.expectStatus(404, 'GET', '/v1/conversations/conv_missing');
  await s.expectStatus(404, 'GET', '/v1/conversations/conv_missing/items/msg_missing');
  await s.expectStatus(404, 'GET', '/v1/responses/resp_missing');
  await s.expectStatus(404, 'POST', '/v1/responses/resp_missing/cancel');
  await s.expectStatus(404, 'GET', '/v1/nothing/here');
  // Operations of the description the backend does not serve are 404 unknown_url, never another route's.
  for (const [method, path, body] of [
    ['POST', '/v1/responses/input_tokens', { model: 'echo', input: 'x' }],
    ['POST', '/v1/responses/compact', { model: 'echo' }],
  ] as const) {
    expect(await s.expectStatus(404, method, path, body)).toMatchObject({ error: { code: 'unknown_url' } });
  }
  await s.expectStatus(405, 'PUT', `/v1/threads/${id(thread)}`, {});
  const key = { 'idempotency-key': 'conformance-409' };
  await s.ok('POST', '/v1/threads', { metadata: { n: '1' } }, key);
  await s.expectStatus(409, 'POST', '/v1/threads', { metadata: { n: '2' } }, key);
  await s.ok('POST', '/v1/conversations', { metadata: { n: '1' } }, key);
  await s.expectStatus(409, 'POST', '/v1/conversations', { metadata: { n: '2' } }, key);
}

describe.each(STORE_KINDS.filter((kind) => kind.name !== 'postgres'))(
  `every answer of the local backend over the $name store validates against OpenAI’s OpenAPI description ${openApi.info.version}`,
  (kind) => {
    let session: Session;
    /** The same routes on a backend whose model never answers (a response to cancel mid-way). */
    let hanging: Session;
    let close: () => Promise<void>;

    beforeAll(async () => {
      const data = await kind.create();
      const store = await data.open();
      const backend = createLocalBackend({ store });
      const served = await serveLocalBackend(backend);
      session = new Session(served.url, backend);
      const model = await startChatCompletionsServer(() => ({ kind: 'hang' }));
      const slow = await serveRunBackend(new MemoryStore(), { model: { url: model.url } });
      hanging = new Session(slow.url, slow.backend, session.answered);
      close = async () => {
        await slow.close();
        await model.close();
        await served.close();
        await backend.stop();
        await store.close();
        await data.dispose();
      };
    });
    afterAll(() => close());
    beforeEach(() => {
      session.divergences.length = 0;
      hanging.divergences.length = 0;
    });

    it('threads and messages: string and array content, every part type, attachments, metadata, tool resources, paging both ways', async () => {
      await threadsAndMessages(session);
      expect(session.divergences).toEqual([]);
    });

    it('assistants and runs on the echo model: completed, a tool round, cancelled, paging both ways', async () => {
      await assistantsAndRuns(session);
      expect(session.divergences).toEqual([]);
    });

    it('conversations and items: string and array content, every part type, metadata, paging both ways', async () => {
      await conversationsAndItems(session);
      expect(session.divergences).toEqual([]);
    });

    it('responses on the echo model: in a conversation, a function call round, in the background, cancelled', async () => {
      await responses(session, hanging);
      expect([...session.divergences, ...hanging.divergences]).toEqual([]);
    });

    it('streams: every event of a streamed run, tool round and response (created and resumed) validates as its stream event', async () => {
      await streams(session);
      expect(session.divergences).toEqual([]);
    });

    it('failures and token budgets: failed runs and responses, answers cut short, prompts over their budget', async () => {
      await failuresAndLimits(session);
      expect(session.divergences).toEqual([]);
    });

    it('errors: 400, 401, 404, 405 and 409 are ErrorResponse bodies', async () => {
      await errors(session);
      expect([...session.errorStatuses].sort()).toEqual([400, 401, 404, 405, 409]);
      expect(session.divergences).toEqual([]);
    });

    it('exercises every route the route table serves, each with an answer that validates', () => {
      const served = session.backend.routes.map((route) => {
        const [method = '', path = ''] = route.split(' ');
        return `${method} ${pathTemplate(path)}`;
      });
      expect(served.length).toBeGreaterThan(20);
      expect(served.filter((route) => !session.answered.has(route))).toEqual([]);
    });
  },
);

describe('what the local backend adds to the API (docs/openapi-conformance.md)', () => {
  it('a run created with `model` and no assistant answers assistant_id null, its one divergence', async () => {
    const served = await serveRunBackend(new MemoryStore());
    try {
      const session = new Session(served.url, served.backend);
      const thread = await session.ok('POST', '/v1/threads', { messages: [{ role: 'user', content: 'hi' }] });
      await session.call('POST', `/v1/threads/${id(thread)}/runs`, { model: 'echo' });
      expect(session.divergences).toEqual([
        expect.stringMatching(
          /^POST \/threads\/\{thread_id\}\/runs 200 does not validate as RunObject:\n {2}\/assistant_id must be string [^\n]*$/,
        ),
      ]);
    } finally {
      await served.close();
    }
  });
});

describe('answers at the limits are ErrorResponse bodies too', () => {
  async function serveWith(store: Store, maxBodyBytes?: number) {
    const backend = createLocalBackend({ store });
    const served = await serveLocalBackend(backend, { maxBodyBytes });
    return { session: new Session(served.url, backend), close: () => served.close().then(() => backend.stop()) };
  }

  it('413 for a body over the limit, 429 when the storage quota is used up', async () => {
    const small = await serveWith(new MemoryStore(), 1024);
    try {
      await small.session.expectStatus(413, 'POST', '/v1/threads', {
        messages: [{ role: 'user', content: 'x'.repeat(4096) }],
      });
      await small.session.expectStatus(413, 'POST', '/v1/conversations', {
        items: [{ role: 'user', content: 'x'.repeat(4096) }],
      });
      expect(small.session.divergences).toEqual([]);
    } finally {
      await small.close();
    }
    const full = await serveWith(withQuota(new MemoryStore(), 256));
    try {
      const body = { messages: [{ role: 'user', content: 'x'.repeat(512) }] };
      await full.session.expectStatus(429, 'POST', '/v1/threads', body);
      await full.session.expectStatus(429, 'POST', '/v1/conversations', {
        items: [{ role: 'user', content: 'y'.repeat(512) }],
      });
      expect(full.session.divergences).toEqual([]);
    } finally {
      await full.close();
    }
  });
});
