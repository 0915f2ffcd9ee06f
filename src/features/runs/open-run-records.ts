import type { StoreConfig } from '../../config/config.ts';
import type { Assistant } from '../../domain/assistant.ts';
import { MemoryRunRecords } from './memory-run-records.ts';
import type { RecordListParams, RecordPage, RunRecord, RunRecords } from './run-records.ts';
import { openPostgresRunRecords, openSqliteRunRecords } from './sql-run-records.ts';

export interface RunRecordsOptions {
  onBackgroundError?: (error: Error) => void;
  onWarning?: (message: string) => void;
}

/** The records the store configuration names: SQLite in DATA_DIR, PostgreSQL with DATABASE_URL, or memory. */
export async function openRunRecords(store: StoreConfig, options: RunRecordsOptions = {}): Promise<RunRecords> {
  switch (store.kind) {
    case 'memory':
      return new MemoryRunRecords();
    case 'sqlite':
      return openSqliteRunRecords({
        dataDir: store.dataDir,
        ...(options.onWarning ? { onWarning: options.onWarning } : {}),
      });
    case 'postgres':
      return openPostgresRunRecords({
        connectionString: store.url,
        ...(options.onBackgroundError ? { onConnectionError: options.onBackgroundError } : {}),
      });
  }
}

/**
 * Records opened on first use: a gateway that never serves a run or an assistant never creates
 * `gateway.db` or its tables. A failed open is tried again by the next use.
 */
export class LazyRunRecords implements RunRecords {
  readonly #open: () => Promise<RunRecords>;
  #opening: Promise<RunRecords> | undefined;
  #closed = false;

  constructor(
    readonly kind: RunRecords['kind'],
    open: () => Promise<RunRecords>,
  ) {
    this.#open = open;
  }

  #records(): Promise<RunRecords> {
    if (this.#closed) return Promise.reject(new Error('The run records are closed.'));
    if (!this.#opening) {
      this.#opening = this.#open();
      this.#opening.catch(() => {
        this.#opening = undefined;
      });
    }
    return this.#opening;
  }

  insertRun = (run: RunRecord) => this.#records().then((records) => records.insertRun(run));
  getRun = (id: string) => this.#records().then((records) => records.getRun(id));
  saveRun = (run: RunRecord) => this.#records().then((records) => records.saveRun(run));
  listRuns = (threadId: string, params: RecordListParams): Promise<RecordPage<RunRecord>> =>
    this.#records().then((records) => records.listRuns(threadId, params));
  deleteRuns = (threadId: string) => this.#records().then((records) => records.deleteRuns(threadId));
  insertAssistant = (assistant: Assistant) => this.#records().then((records) => records.insertAssistant(assistant));
  getAssistant = (id: string) => this.#records().then((records) => records.getAssistant(id));
  replaceAssistant = (assistant: Assistant) => this.#records().then((records) => records.replaceAssistant(assistant));
  deleteAssistant = (id: string) => this.#records().then((records) => records.deleteAssistant(id));
  listAssistants = (params: RecordListParams): Promise<RecordPage<Assistant>> =>
    this.#records().then((records) => records.listAssistants(params));

  async close(): Promise<void> {
    this.#closed = true;
    const opening = this.#opening;
    this.#opening = undefined;
    if (opening) await (await opening.catch(() => undefined))?.close();
  }
}
