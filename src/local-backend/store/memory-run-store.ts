import { pageBetween } from './list-pages.ts';
import { newObjectId } from './object-id.ts';
import {
  ACTIVE_STATUSES,
  type AssistantPatch,
  type CreateRunResult,
  type ListQuery,
  type ListResult,
  type NewStoredAssistant,
  type NewStoredRun,
  type RunPatch,
  type RunRecord,
  type RunStatus,
  type RunStore,
  type StoredAssistant,
  type StoredRun,
} from './run-store.ts';
import type { NewStoredMessage, StoredMessage } from './store.ts';

/** What the memory store lends its runs: its threads and its message writes. */
export interface MemoryRunStoreHost {
  hasThread(id: string): boolean;
  createMessage(threadId: string, input: NewStoredMessage): Promise<StoredMessage | undefined>;
}

function bytesOf(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value));
}

/** A window of `items` (in creation order) as a list page, with the API's cursor rules. */
export function pageOf<T extends { id: string }>(items: T[], query: ListQuery): ListResult<T> {
  for (const param of ['after', 'before'] as const) {
    const cursor = query[param];
    if (cursor !== undefined && !items.some((item) => item.id === cursor)) return { kind: 'bad-cursor', param };
  }
  const page = pageBetween(items, query);
  return { kind: 'ok', data: structuredClone(page.data), has_more: page.has_more };
}

/** The runs and assistants of a `MemoryStore`; copies in, copies out. */
export class MemoryRunStore implements RunStore {
  readonly #host: MemoryRunStoreHost;
  readonly #assistants = new Map<string, StoredAssistant>();
  /** Per thread, its runs by id in creation order. */
  readonly #runs = new Map<string, Map<string, RunRecord>>();
  #bytes = 0;

  constructor(host: MemoryRunStoreHost) {
    this.#host = host;
  }

  /** Bytes of stored runs and assistants, counted into the memory store's `usedBytes`. */
  get usedBytes(): number {
    return this.#bytes;
  }

  /** The thread was deleted: its runs go with it. */
  dropThread(threadId: string): void {
    for (const record of this.#runs.get(threadId)?.values() ?? []) this.#bytes -= bytesOf(record);
    this.#runs.delete(threadId);
  }

  async createAssistant(input: NewStoredAssistant): Promise<StoredAssistant> {
    const assistant: StoredAssistant = {
      id: newObjectId('asst'),
      object: 'assistant',
      created_at: Math.floor(Date.now() / 1000),
      ...structuredClone(input),
    };
    this.#bytes += bytesOf(assistant);
    this.#assistants.set(assistant.id, assistant);
    return structuredClone(assistant);
  }

  async getAssistant(id: string): Promise<StoredAssistant | undefined> {
    const assistant = this.#assistants.get(id);
    return assistant && structuredClone(assistant);
  }

  async updateAssistant(id: string, patch: AssistantPatch): Promise<StoredAssistant | undefined> {
    const before = this.#assistants.get(id);
    if (!before) return undefined;
    const after: StoredAssistant = { ...before, ...structuredClone(patch) };
    this.#bytes += bytesOf(after) - bytesOf(before);
    this.#assistants.set(id, after);
    return structuredClone(after);
  }

  async deleteAssistant(id: string): Promise<boolean> {
    const assistant = this.#assistants.get(id);
    if (!assistant) return false;
    this.#bytes -= bytesOf(assistant);
    return this.#assistants.delete(id);
  }

  async listAssistants(query: ListQuery): Promise<ListResult<StoredAssistant>> {
    return pageOf([...this.#assistants.values()], query);
  }

  async createRun(threadId: string, input: NewStoredRun, messages: NewStoredMessage[]): Promise<CreateRunResult> {
    if (!this.#host.hasThread(threadId)) return { kind: 'no-thread' };
    const active = this.#active(threadId);
    if (active) return { kind: 'active', runId: active.id };
    const { timeoutMs, ...settings } = input;
    const now = Date.now();
    const run: StoredRun = {
      id: newObjectId('run'),
      object: 'thread.run',
      created_at: Math.floor(now / 1000),
      thread_id: threadId,
      status: 'queued',
      required_action: null,
      last_error: null,
      expires_at: Math.ceil((now + timeoutMs) / 1000),
      started_at: null,
      cancelled_at: null,
      failed_at: null,
      completed_at: null,
      incomplete_details: null,
      usage: null,
      ...structuredClone(settings),
    };
    // The run is registered before the first await, so a concurrent create sees it as active.
    const record: RunRecord = { run, rounds: [] };
    this.#bytes += bytesOf(record);
    let runs = this.#runs.get(threadId);
    if (!runs) {
      runs = new Map();
      this.#runs.set(threadId, runs);
    }
    runs.set(run.id, record);
    for (const message of messages) await this.#host.createMessage(threadId, message);
    return { kind: 'ok', run: structuredClone(run) };
  }

  async getRun(threadId: string, id: string): Promise<RunRecord | undefined> {
    const record = this.#runs.get(threadId)?.get(id);
    return record && structuredClone(record);
  }

  async listRuns(threadId: string, query: ListQuery): Promise<ListResult<StoredRun>> {
    if (!this.#host.hasThread(threadId)) return { kind: 'no-thread' };
    return pageOf(
      [...(this.#runs.get(threadId)?.values() ?? [])].map((record) => record.run),
      query,
    );
  }

  #active(threadId: string): StoredRun | undefined {
    for (const record of this.#runs.get(threadId)?.values() ?? []) {
      if (ACTIVE_STATUSES.includes(record.run.status)) return record.run;
    }
    return undefined;
  }

  async activeRun(threadId: string): Promise<StoredRun | undefined> {
    const run = this.#active(threadId);
    return run && structuredClone(run);
  }

  async transitionRun(
    threadId: string,
    id: string,
    from: readonly RunStatus[],
    patch: RunPatch,
    message?: NewStoredMessage,
  ): Promise<RunRecord | undefined> {
    const before = this.#runs.get(threadId)?.get(id);
    if (!before || !from.includes(before.run.status)) return undefined;
    const { rounds, ...fields } = structuredClone(patch);
    const after: RunRecord = { run: { ...before.run, ...fields }, rounds: rounds ?? before.rounds };
    this.#bytes += bytesOf(after) - bytesOf(before);
    this.#runs.get(threadId)?.set(id, after);
    if (message) {
      await this.#host.createMessage(threadId, { ...message, run_id: id, assistant_id: after.run.assistant_id });
    }
    return structuredClone(after);
  }

  async runsInStatus(statuses: readonly RunStatus[]): Promise<StoredRun[]> {
    const found: StoredRun[] = [];
    for (const runs of this.#runs.values()) {
      for (const record of runs.values()) if (statuses.includes(record.run.status)) found.push(record.run);
    }
    return structuredClone(found);
  }
}
