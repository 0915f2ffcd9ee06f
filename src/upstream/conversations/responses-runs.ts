import type OpenAI from 'openai';
import type {
  ResponseCreateParamsNonStreaming,
  ResponseCreateParamsStreaming,
} from 'openai/resources/responses/responses';
import type { Assistant, AssistantPage } from '../../domain/assistant.ts';
import type { Run, RunPage, ToolOutput } from '../../domain/run.ts';
import { TERMINAL_RUN_STATUSES } from '../../domain/run.ts';
import { badUserInput, ErrorCode, GatewayError } from '../../errors.ts';
import {
  pageOf,
  type ResponseFold,
  type RunRecord,
  type RunRecords,
  type RunSettings,
} from '../../features/runs/run-records.ts';
import { newObjectId } from '../../local-backend/store/object-id.ts';
import { type UpstreamCalls, type UpstreamSession, withIdempotencyKey } from '../calls/call-session.ts';
import { sdk, sdkRead } from '../calls/faults.ts';
import type {
  AssistantFields,
  ListParams,
  MessageListParams,
  MessagePage,
  NewRun,
  StreamedRun,
} from '../upstream-api.ts';
import { type Refusal, refuseMessage } from './mapping.ts';
import {
  createStream,
  firstResponse,
  followResponse,
  parsePosition,
  type ResponseFollower,
  resumeStream,
} from './response-stream.ts';
import {
  advance,
  foldResponse,
  newRunRecord,
  refuseRunTools,
  runMessages,
  toInputMessages,
  toResponseCreate,
  toRun,
  toTextFormat,
  toToolChoice,
} from './run-mapping.ts';

const nowSeconds = (): number => Math.floor(Date.now() / 1000);
/** A response's statuses before its final one. */
const UNSETTLED: ReadonlySet<string> = new Set(['queued', 'in_progress']);

function notFound(what: string): GatewayError {
  return new GatewayError(ErrorCode.NOT_FOUND, `The ${what} was not found.`);
}

/**
 * Runs and assistants over the Responses API (docs/runs.md). A run is the gateway's record of a
 * chain of background responses on the conversation: `createRun` is the first response,
 * `submitToolOutputs` the next one (with `function_call_output` items), `cancelRun` cancels the
 * current one. Assistants are the gateway's own records, expanded into every response. Every upstream
 * call goes through the adapter's `UpstreamCalls` (budget, deadline, retry policy; creates sent once).
 */
export class ResponsesRuns {
  readonly #client: OpenAI;
  readonly #calls: UpstreamCalls;
  readonly #records: RunRecords;
  readonly #refused: (refusal: Refusal) => GatewayError;

  constructor(client: OpenAI, calls: UpstreamCalls, records: RunRecords, refused: (refusal: Refusal) => GatewayError) {
    this.#client = client;
    this.#calls = calls;
    this.#records = records;
    this.#refused = refused;
  }

  /** The run's settings: the run's own fields over the assistant's, checked before any call. */
  async #settings(body: NewRun): Promise<RunSettings> {
    for (const [index, message] of (body.additionalMessages ?? []).entries()) {
      const refusal = refuseMessage(message, `input.additionalMessages[${index}].`);
      if (refusal) throw this.#refused(refusal);
    }
    const assistant = body.assistantId === undefined ? null : await this.#records.getAssistant(body.assistantId);
    if (body.assistantId !== undefined && !assistant) throw notFound('assistant');
    const model = body.model ?? assistant?.model;
    if (!model) throw badUserInput('input.model: give a model, or an assistant that has one', 'input.model');
    const tools = body.tools ?? assistant?.tools ?? [];
    const toolRefusal = refuseRunTools(tools, body.tools ? 'input.tools' : 'input.assistantId.tools');
    if (toolRefusal) throw this.#refused(toolRefusal);
    let instructions = body.instructions ?? assistant?.instructions ?? null;
    if (body.additionalInstructions !== undefined) {
      instructions = instructions ? `${instructions}\n\n${body.additionalInstructions}` : body.additionalInstructions;
    }
    const settings: RunSettings = { model, instructions, tools, metadata: body.metadata ?? {} };
    if (body.toolChoice !== undefined) settings.toolChoice = this.#mapped(toToolChoice(body.toolChoice));
    if (body.responseFormat !== undefined) {
      const format = this.#mapped(toTextFormat(body.responseFormat));
      if (format !== undefined) settings.responseFormat = format;
    }
    if (body.parallelToolCalls !== undefined) settings.parallelToolCalls = body.parallelToolCalls;
    settings.temperature = body.temperature ?? assistant?.temperature ?? null;
    settings.topP = body.topP ?? assistant?.topP ?? null;
    if (body.maxCompletionTokens !== undefined) settings.maxOutputTokens = body.maxCompletionTokens;
    return settings;
  }

  #mapped(result: { value: unknown } | Refusal): unknown {
    if ('argument' in result) throw this.#refused(result);
    return result.value;
  }

  /** One background response on the conversation: a create, sent once (never again after an unknown outcome). */
  #respond(session: UpstreamSession, threadId: string, wire: Record<string, unknown>, key: string | undefined) {
    // The response adds items to the conversation: no later read may join an older one.
    this.#calls.forget(session, `conversations/${threadId}/items`, { under: true });
    return this.#calls.call(session, {
      method: 'POST',
      route: '/responses',
      resource: 'run',
      safety: 'create',
      send: async (options) =>
        foldResponse(
          await sdk(
            this.#client.responses.create(
              wire as unknown as ResponseCreateParamsNonStreaming,
              withIdempotencyKey(options, key),
            ),
          ),
          threadId,
        ),
    });
  }

  async createRun(session: UpstreamSession, threadId: string, body: NewRun, idempotencyKey?: string): Promise<Run> {
    const settings = await this.#settings(body);
    const wire = toResponseCreate(settings, threadId, toInputMessages(body.additionalMessages));
    const fold = await this.#respond(session, threadId, wire, idempotencyKey);
    return toRun(await this.#insert(threadId, body, settings, fold));
  }

  /** A new run's record, from its first response. */
  async #insert(threadId: string, body: NewRun, settings: RunSettings, fold: ResponseFold): Promise<RunRecord> {
    const record = newRunRecord(newObjectId('run'), threadId, body.assistantId ?? null, settings, fold, nowSeconds());
    await this.#records.insertRun(record);
    return record;
  }

  /** `createRun` with its first response streamed (docs/live.md). */
  async createRunStreaming(session: UpstreamSession, threadId: string, body: NewRun, key?: string) {
    const settings = await this.#settings(body);
    const wire = toResponseCreate(settings, threadId, toInputMessages(body.additionalMessages));
    const opened = await this.#respondStreaming(session, threadId, wire, key);
    return this.#streamed(await this.#insert(threadId, body, settings, opened.fold), opened);
  }

  /** One background response on the conversation, streamed: answered at `response.created`. */
  #respondStreaming(session: UpstreamSession, threadId: string, wire: Record<string, unknown>, key?: string) {
    this.#calls.forget(session, `conversations/${threadId}/items`, { under: true });
    const streaming = { ...wire, stream: true } as unknown as ResponseCreateParamsStreaming;
    return this.#calls.call(session, {
      method: 'POST',
      route: '/responses',
      resource: 'run',
      safety: 'create',
      send: async (options) =>
        firstResponse(await sdk(createStream(this.#client, streaming, withIdempotencyKey(options, key))), threadId),
    });
  }

  #streamed(record: RunRecord, opened: Awaited<ReturnType<typeof firstResponse>>): StreamedRun {
    const run = toRun(record);
    if (!opened.rest) return { run, close: opened.close };
    const first = { iterator: opened.rest, close: opened.close };
    const events = followResponse(this.#follower(record.threadId, record.id), opened.fold.id, first);
    return { run, events, close: opened.close };
  }

  /** What following one run's responses needs: its record, saving it, resuming its stream. */
  #follower(threadId: string, runId: string): ResponseFollower {
    return {
      threadId,
      record: () => this.#record(threadId, runId),
      save: async (fold) => {
        // A stream lags behind reads of the run: it never moves a record back to an earlier state.
        const stored = await this.#advanceStored(threadId, runId, fold);
        if (!stored) throw notFound('run');
        return stored;
      },
      resume: (responseId, seq) => sdk(resumeStream(this.#client, responseId, seq, { maxRetries: 0 })),
    };
  }

  /** The run's current response's stream again, after `position`; null when the run moved on or ended. */
  async resumeRunStream(threadId: string, runId: string, position: string): Promise<StreamedRun | null> {
    const at = parsePosition(position);
    const record = await this.#record(threadId, runId);
    if (!at || !record || record.responses.at(-1)?.id !== at.responseId) return null;
    if (TERMINAL_RUN_STATUSES.has(record.status)) return null;
    const stream = await sdk(resumeStream(this.#client, at.responseId, at.seq, { maxRetries: 0 }));
    const close = () => stream.controller.abort();
    const first = { iterator: stream[Symbol.asyncIterator](), close };
    const events = followResponse(this.#follower(threadId, runId), at.responseId, first, at.seq);
    return { run: toRun(record), events, close };
  }

  async #record(threadId: string, runId: string): Promise<RunRecord | null> {
    const record = await this.#records.getRun(runId);
    return record && record.threadId === threadId ? record : null;
  }

  /** Saves the moved-on record; when another instance saved first, its record stands and ours is served. */
  async #save(record: RunRecord): Promise<RunRecord> {
    await this.#records.saveRun(record);
    return record;
  }

  async retrieveRun(session: UpstreamSession, threadId: string, runId: string): Promise<Run | null> {
    const record = await this.#record(threadId, runId);
    if (!record) return null;
    // Final, or waiting on tool outputs (its response is final): nothing upstream can change it.
    if (TERMINAL_RUN_STATUSES.has(record.status) || record.status === 'requires_action') return toRun(record);
    const current = record.responses.at(-1)?.id ?? '';
    const fold = await this.#calls.read(session, `responses/${current}`, {
      method: 'GET',
      route: '/responses/{id}',
      resource: 'run',
      safety: 'idempotent',
      send: (options) =>
        sdkRead(this.#client.responses.retrieve(current, {}, options), (answer) =>
          foldResponse(answer, threadId, current),
        ),
    });
    if (!fold) {
      throw new GatewayError(ErrorCode.UPSTREAM_ERROR, 'The run’s current response is gone from the upstream.');
    }
    return toRun((await this.#advanceStored(threadId, runId, fold)) ?? advance(record, fold, nowSeconds()));
  }

  /**
   * Saves `fold`, a newer read of the run's current response, on the record as stored now (a read
   * and the run's stream both save it): a fold behind what is stored is not saved, and a save that
   * lost to another is tried again on the newer record. Answers the record as stored.
   */
  async #advanceStored(threadId: string, runId: string, fold: ResponseFold): Promise<RunRecord | null> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const current = await this.#record(threadId, runId);
      if (!current) return null;
      const latest = current.responses.at(-1);
      if (latest && (latest.id !== fold.id || !UNSETTLED.has(latest.status))) return current;
      const next = advance(current, fold, nowSeconds());
      if (await this.#records.saveRun(next)) return next;
    }
    return this.#record(threadId, runId);
  }

  /** A page of the thread's runs as last read (read a run with `run` to see it move on); null without the thread. */
  async listRuns(threadId: string, params: ListParams, threadExists: () => Promise<boolean>): Promise<RunPage | null> {
    const page = await this.#records.listRuns(threadId, params);
    if (page.data.length === 0 && params.after === undefined && !(await threadExists())) return null;
    return { data: page.data.map(toRun), hasMore: page.hasMore };
  }

  async submitToolOutputs(
    session: UpstreamSession,
    threadId: string,
    runId: string,
    outputs: ToolOutput[],
  ): Promise<Run> {
    const { record, wire, key } = await this.#nextRound(threadId, runId, outputs);
    const fold = await this.#respond(session, threadId, wire, key);
    return toRun(await this.#save(advance(record, fold, nowSeconds())));
  }

  /** The next response of a run waiting on tool outputs, and the key that names this round. */
  async #nextRound(threadId: string, runId: string, outputs: ToolOutput[]) {
    const record = await this.#record(threadId, runId);
    if (!record) throw notFound('run');
    if (record.status !== 'requires_action') {
      throw badUserInput(
        `runId: the run is ${record.status.toUpperCase()}; tool outputs are taken only while it is REQUIRES_ACTION`,
        'runId',
      );
    }
    const input = outputs.map((output) => ({
      type: 'function_call_output',
      call_id: output.toolCallId,
      output: output.output,
    }));
    const current = record.responses.at(-1)?.id ?? '';
    // The key names this round of this run: an upstream that honours it starts the round once.
    return { record, wire: toResponseCreate(record.settings, threadId, input), key: `${record.id}-${current}` };
  }

  /** `submitToolOutputs` with the next response streamed. */
  async submitToolOutputsStreaming(session: UpstreamSession, threadId: string, runId: string, outputs: ToolOutput[]) {
    const { record, wire, key } = await this.#nextRound(threadId, runId, outputs);
    const opened = await this.#respondStreaming(session, threadId, wire, key);
    return this.#streamed(await this.#save(advance(record, opened.fold, nowSeconds())), opened);
  }

  async cancelRun(session: UpstreamSession, threadId: string, runId: string): Promise<Run> {
    const record = await this.#record(threadId, runId);
    if (!record) throw notFound('run');
    if (TERMINAL_RUN_STATUSES.has(record.status)) return toRun(record);
    const current = record.responses.at(-1);
    if (!current) throw notFound('run');
    const asked = advance({ ...record, cancelRequested: true }, current, nowSeconds());
    // Saved first, so every instance serves CANCELLING while the cancel is in flight; a run waiting
    // on tool outputs has a final response, nothing upstream to stop: it is CANCELLED here.
    await this.#save(asked);
    if (record.status === 'requires_action') return toRun(asked);
    const fold = await this.#calls.call(session, {
      method: 'POST',
      route: '/responses/{id}/cancel',
      resource: 'run',
      safety: 'idempotent',
      send: async (options) =>
        foldResponse(await sdk(this.#client.responses.cancel(current.id, options)), threadId, current.id),
    });
    return toRun(await this.#save(advance(asked, fold, nowSeconds())));
  }

  /** The run's messages, from its responses' output items as last read: no upstream call. */
  async listMessages(threadId: string, params: MessageListParams): Promise<MessagePage | null> {
    const record = await this.#record(threadId, params.run_id ?? '');
    const messages = record ? runMessages(record) : [];
    const page = pageOf(
      messages,
      params.after ? { ...params, after: params.after } : { limit: params.limit, order: params.order },
    );
    return page;
  }

  async deleteRuns(threadId: string): Promise<void> {
    await this.#records.deleteRuns(threadId);
  }

  /* Assistants: the gateway's own records, no upstream call. */

  #checkAssistantTools(tools: unknown[] | undefined): void {
    const refusal = refuseRunTools(tools, 'input.tools');
    if (refusal) throw this.#refused(refusal);
  }

  retrieveAssistant(id: string): Promise<Assistant | null> {
    return this.#records.getAssistant(id);
  }

  listAssistants(params: ListParams): Promise<AssistantPage> {
    return this.#records.listAssistants(params);
  }

  async createAssistant(body: AssistantFields): Promise<Assistant> {
    this.#checkAssistantTools(body.tools);
    if (!body.model) throw badUserInput('input.model: an assistant needs a model', 'input.model');
    const assistant: Assistant = {
      object: 'assistant',
      id: newObjectId('asst'),
      name: body.name ?? null,
      description: body.description ?? null,
      model: body.model,
      instructions: body.instructions ?? null,
      tools: body.tools ?? [],
      metadata: body.metadata ?? {},
      temperature: body.temperature ?? null,
      topP: body.topP ?? null,
      createdAt: nowSeconds(),
    };
    await this.#records.insertAssistant(assistant);
    return assistant;
  }

  async updateAssistant(id: string, body: AssistantFields): Promise<Assistant> {
    this.#checkAssistantTools(body.tools);
    const stored = await this.#records.getAssistant(id);
    if (!stored) throw notFound('assistant');
    const next: Assistant = { ...stored };
    if (body.name !== undefined) next.name = body.name;
    if (body.description !== undefined) next.description = body.description;
    if (body.model !== undefined) next.model = body.model;
    if (body.instructions !== undefined) next.instructions = body.instructions;
    if (body.tools !== undefined) next.tools = body.tools;
    if (body.metadata !== undefined) next.metadata = body.metadata ?? {};
    if (body.temperature !== undefined) next.temperature = body.temperature;
    if (body.topP !== undefined) next.topP = body.topP;
    if (!(await this.#records.replaceAssistant(next))) throw notFound('assistant');
    return next;
  }

  async deleteAssistant(id: string): Promise<{ id: string; deleted: boolean }> {
    if (!(await this.#records.deleteAssistant(id))) throw notFound('assistant');
    return { id, deleted: true };
  }
}
