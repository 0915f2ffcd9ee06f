import type { Assistant } from '../../domain/assistant.ts';
import { pageOf, type RecordListParams, type RecordPage, type RunRecord, type RunRecords } from './run-records.ts';

/** Records in process memory (tests, LOCAL_BACKEND_STORE=memory): lost on exit, one instance only. */
export class MemoryRunRecords implements RunRecords {
  readonly kind = 'memory' as const;
  // Maps keep insertion order: creation order.
  readonly #runs = new Map<string, string>();
  readonly #assistants = new Map<string, string>();

  // Kept as JSON, so a caller that changes a record it read changes nothing stored.
  async insertRun(run: RunRecord): Promise<void> {
    if (this.#runs.has(run.id)) throw new Error(`run ${run.id} exists`);
    this.#runs.set(run.id, JSON.stringify(run));
  }

  async getRun(id: string): Promise<RunRecord | null> {
    const text = this.#runs.get(id);
    return text === undefined ? null : (JSON.parse(text) as RunRecord);
  }

  async saveRun(run: RunRecord): Promise<boolean> {
    const stored = await this.getRun(run.id);
    if (!stored || stored.version !== run.version - 1) return false;
    this.#runs.set(run.id, JSON.stringify(run));
    return true;
  }

  async listRuns(threadId: string, params: RecordListParams): Promise<RecordPage<RunRecord>> {
    const runs = [...this.#runs.values()]
      .map((text) => JSON.parse(text) as RunRecord)
      .filter((run) => run.threadId === threadId);
    return pageOf(runs, params);
  }

  async deleteRuns(threadId: string): Promise<void> {
    for (const [id, text] of this.#runs) {
      if ((JSON.parse(text) as RunRecord).threadId === threadId) this.#runs.delete(id);
    }
  }

  async insertAssistant(assistant: Assistant): Promise<void> {
    if (this.#assistants.has(assistant.id)) throw new Error(`assistant ${assistant.id} exists`);
    this.#assistants.set(assistant.id, JSON.stringify(assistant));
  }

  async getAssistant(id: string): Promise<Assistant | null> {
    const text = this.#assistants.get(id);
    return text === undefined ? null : (JSON.parse(text) as Assistant);
  }

  async replaceAssistant(assistant: Assistant): Promise<boolean> {
    if (!this.#assistants.has(assistant.id)) return false;
    this.#assistants.set(assistant.id, JSON.stringify(assistant));
    return true;
  }

  async deleteAssistant(id: string): Promise<boolean> {
    return this.#assistants.delete(id);
  }

  async listAssistants(params: RecordListParams): Promise<RecordPage<Assistant>> {
    return pageOf(
      [...this.#assistants.values()].map((text) => JSON.parse(text) as Assistant),
      params,
    );
  }

  async close(): Promise<void> {}
}
