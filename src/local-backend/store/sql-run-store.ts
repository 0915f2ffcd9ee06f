import { randomInt } from 'node:crypto';
import { type Kysely, sql, type Transaction } from 'kysely';
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
  type ToolRound,
} from './run-store.ts';
import { type SqlDialectName, type StoreDatabase, USAGE_SLOTS } from './sql-schema.ts';
import type { NewStoredMessage, StoredMessage } from './store.ts';
import { storedBytes } from './stored-bytes.ts';

type Db = Kysely<StoreDatabase> | Transaction<StoreDatabase>;

/** What the SQL store lends its runs: its connections and its write path (group commit, errors). */
export interface SqlRunStoreDeps {
  dialect: SqlDialectName;
  reader: Kysely<StoreDatabase>;
  /** Runs a read, turning "database not there" errors into StoreUnavailableError. */
  read<T>(work: () => Promise<T>): Promise<T>;
  /** Runs a write in the store's transaction (SQLite: its group commit), with the same error mapping. */
  write<T>(work: (trx: Db) => Promise<T>): Promise<T>;
  now(): number;
}

function isStorableId(id: string): boolean {
  return /^[A-Za-z0-9_-]{1,128}$/.test(id);
}

function bytesOf(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value));
}

/**
 * Runs and assistants on SQL, beside `SqlStore` and with its lock order (thread row -> run and
 * message rows -> usage slot). A run's bytes count into its thread's `bytes` as messages' do, so
 * deleting the thread (which cascades to its runs) frees them; an assistant's count on their own.
 */
export class SqlRunStore implements RunStore {
  readonly #deps: SqlRunStoreDeps;

  constructor(deps: SqlRunStoreDeps) {
    this.#deps = deps;
  }

  #seconds(): number {
    return Math.floor(this.#deps.now() / 1000);
  }

  async #addUsage(trx: Db, bytes: number): Promise<void> {
    if (bytes === 0) return;
    await trx
      .updateTable('storage_usage')
      .set({ bytes: sql`bytes + ${bytes}` })
      .where('slot', '=', randomInt(USAGE_SLOTS))
      .execute();
  }

  async #addThreadBytes(trx: Db, threadId: string, bytes: number): Promise<void> {
    await trx
      .updateTable('threads')
      .set({ bytes: sql`bytes + ${bytes}` })
      .where('id', '=', threadId)
      .execute();
  }

  /** Takes the thread's row lock (PostgreSQL) before any run or message row; false when it is gone. */
  async #lockThread(trx: Db, threadId: string): Promise<boolean> {
    const row = await trx
      .selectFrom('threads')
      .select('id')
      .where('id', '=', threadId)
      .$if(this.#deps.dialect === 'postgres', (query) => query.forUpdate())
      .executeTakeFirst();
    return row !== undefined;
  }

  /** Inserts one message as `SqlStore` stores them; returns its bytes (the caller counts them). */
  async #insertMessage(trx: Db, threadId: string, input: NewStoredMessage): Promise<number> {
    const message: StoredMessage = {
      id: newObjectId('msg'),
      object: 'thread.message',
      created_at: this.#seconds(),
      thread_id: threadId,
      role: input.role,
      content: input.content,
      attachments: input.attachments ?? null,
      metadata: { ...(input.metadata ?? {}) },
      status: 'completed',
      assistant_id: input.assistant_id ?? null,
      run_id: input.run_id ?? null,
    };
    const bytes = storedBytes(message);
    await trx
      .insertInto('messages')
      .values({
        id: message.id,
        thread_id: threadId,
        created_at: message.created_at,
        role: message.role,
        content: JSON.stringify(message.content),
        attachments: message.attachments === null ? null : JSON.stringify(message.attachments),
        metadata: JSON.stringify(message.metadata),
        assistant_id: message.assistant_id,
        run_id: message.run_id,
        bytes,
      })
      .execute();
    return bytes;
  }

  createAssistant(input: NewStoredAssistant): Promise<StoredAssistant> {
    const assistant: StoredAssistant = {
      id: newObjectId('asst'),
      object: 'assistant',
      created_at: this.#seconds(),
      ...input,
    };
    const bytes = bytesOf(assistant);
    return this.#deps.write(async (trx) => {
      await trx
        .insertInto('assistants')
        .values({ id: assistant.id, body: JSON.stringify(assistant), bytes })
        .execute();
      await this.#addUsage(trx, bytes);
      return assistant;
    });
  }

  getAssistant(id: string): Promise<StoredAssistant | undefined> {
    if (!isStorableId(id)) return Promise.resolve(undefined);
    return this.#deps.read(async () => {
      const row = await this.#deps.reader
        .selectFrom('assistants')
        .select('body')
        .where('id', '=', id)
        .executeTakeFirst();
      return row && (JSON.parse(row.body) as StoredAssistant);
    });
  }

  updateAssistant(id: string, patch: AssistantPatch): Promise<StoredAssistant | undefined> {
    if (!isStorableId(id)) return Promise.resolve(undefined);
    return this.#deps.write(async (trx) => {
      const row = await trx
        .selectFrom('assistants')
        .select(['body', 'bytes'])
        .where('id', '=', id)
        .$if(this.#deps.dialect === 'postgres', (query) => query.forUpdate())
        .executeTakeFirst();
      if (!row) return undefined;
      const after: StoredAssistant = { ...(JSON.parse(row.body) as StoredAssistant), ...patch };
      const bytes = bytesOf(after);
      await trx
        .updateTable('assistants')
        .set({ body: JSON.stringify(after), bytes })
        .where('id', '=', id)
        .execute();
      await this.#addUsage(trx, bytes - Number(row.bytes));
      return after;
    });
  }

  deleteAssistant(id: string): Promise<boolean> {
    if (!isStorableId(id)) return Promise.resolve(false);
    return this.#deps.write(async (trx) => {
      const deleted = await trx.deleteFrom('assistants').where('id', '=', id).returning('bytes').executeTakeFirst();
      if (!deleted) return false;
      await this.#addUsage(trx, -Number(deleted.bytes));
      return true;
    });
  }

  async #seqOf(table: 'assistants' | 'runs', id: string, threadId?: string): Promise<number | string | undefined> {
    if (!isStorableId(id)) return undefined;
    const row = await this.#deps.reader
      .selectFrom(table)
      .select('seq')
      .where('id', '=', id)
      .$if(threadId !== undefined && table === 'runs', (query) => query.where('thread_id', '=', threadId as string))
      .executeTakeFirst();
    return row?.seq;
  }

  /** One page of `table` by `seq`, with the API's cursor rules (after/before follow the order). */
  async #page(table: 'assistants' | 'runs', query: ListQuery, threadId?: string): Promise<ListResult<string>> {
    const after = query.after === undefined ? undefined : await this.#seqOf(table, query.after, threadId);
    if (query.after !== undefined && after === undefined) return { kind: 'bad-cursor', param: 'after' };
    const before = query.before === undefined ? undefined : await this.#seqOf(table, query.before, threadId);
    if (query.before !== undefined && before === undefined) return { kind: 'bad-cursor', param: 'before' };
    const asc = query.order === 'asc';
    const rows = await this.#deps.reader
      .selectFrom(table)
      .select('body')
      .$if(threadId !== undefined && table === 'runs', (q) => q.where('thread_id', '=', threadId as string))
      .$if(after !== undefined, (q) => q.where('seq', asc ? '>' : '<', after as number | string))
      .$if(before !== undefined, (q) => q.where('seq', asc ? '<' : '>', before as number | string))
      .orderBy('seq', query.order)
      .limit(query.limit + 1)
      .execute();
    return { kind: 'ok', data: rows.slice(0, query.limit).map((row) => row.body), has_more: rows.length > query.limit };
  }

  listAssistants(query: ListQuery): Promise<ListResult<StoredAssistant>> {
    return this.#deps.read(async () => {
      const page = await this.#page('assistants', query);
      if (page.kind !== 'ok') return page;
      return { ...page, data: page.data.map((body) => JSON.parse(body) as StoredAssistant) };
    });
  }

  createRun(threadId: string, input: NewStoredRun, messages: NewStoredMessage[]): Promise<CreateRunResult> {
    if (!isStorableId(threadId)) return Promise.resolve({ kind: 'no-thread' });
    const { timeoutMs, ...settings } = input;
    const now = this.#deps.now();
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
      ...settings,
    };
    const rounds: ToolRound[] = [];
    const runBytes = bytesOf({ run, rounds });
    return this.#deps.write(async (trx): Promise<CreateRunResult> => {
      // The thread's lock makes "no active run, then insert" one step across instances.
      if (!(await this.#lockThread(trx, threadId))) return { kind: 'no-thread' };
      const active = await trx
        .selectFrom('runs')
        .select('id')
        .where('thread_id', '=', threadId)
        .where('status', 'in', [...ACTIVE_STATUSES])
        .executeTakeFirst();
      if (active) return { kind: 'active', runId: active.id };
      let total = runBytes;
      for (const message of messages) total += await this.#insertMessage(trx, threadId, message);
      await trx
        .insertInto('runs')
        .values({
          id: run.id,
          thread_id: threadId,
          status: run.status,
          body: JSON.stringify(run),
          rounds: JSON.stringify(rounds),
          bytes: runBytes,
        })
        .execute();
      await this.#addThreadBytes(trx, threadId, total);
      await this.#addUsage(trx, total);
      return { kind: 'ok', run };
    });
  }

  getRun(threadId: string, id: string): Promise<RunRecord | undefined> {
    if (!isStorableId(threadId) || !isStorableId(id)) return Promise.resolve(undefined);
    return this.#deps.read(async () => {
      const row = await this.#deps.reader
        .selectFrom('runs')
        .select(['body', 'rounds'])
        .where('id', '=', id)
        .where('thread_id', '=', threadId)
        .executeTakeFirst();
      return row && { run: JSON.parse(row.body) as StoredRun, rounds: JSON.parse(row.rounds) as ToolRound[] };
    });
  }

  listRuns(threadId: string, query: ListQuery): Promise<ListResult<StoredRun>> {
    if (!isStorableId(threadId)) return Promise.resolve({ kind: 'no-thread' });
    return this.#deps.read(async () => {
      const thread = await this.#deps.reader
        .selectFrom('threads')
        .select('id')
        .where('id', '=', threadId)
        .executeTakeFirst();
      if (!thread) return { kind: 'no-thread' };
      const page = await this.#page('runs', query, threadId);
      if (page.kind !== 'ok') return page;
      return { ...page, data: page.data.map((body) => JSON.parse(body) as StoredRun) };
    });
  }

  activeRun(threadId: string): Promise<StoredRun | undefined> {
    if (!isStorableId(threadId)) return Promise.resolve(undefined);
    return this.#deps.read(async () => {
      const row = await this.#deps.reader
        .selectFrom('runs')
        .select('body')
        .where('thread_id', '=', threadId)
        .where('status', 'in', [...ACTIVE_STATUSES])
        .executeTakeFirst();
      return row && (JSON.parse(row.body) as StoredRun);
    });
  }

  transitionRun(
    threadId: string,
    id: string,
    from: readonly RunStatus[],
    patch: RunPatch,
    message?: NewStoredMessage,
  ): Promise<RunRecord | undefined> {
    if (!isStorableId(threadId) || !isStorableId(id)) return Promise.resolve(undefined);
    return this.#deps.write(async (trx) => {
      if (!(await this.#lockThread(trx, threadId))) return undefined;
      const row = await trx
        .selectFrom('runs')
        .select(['body', 'rounds', 'bytes'])
        .where('id', '=', id)
        .where('thread_id', '=', threadId)
        .executeTakeFirst();
      if (!row) return undefined;
      const before = JSON.parse(row.body) as StoredRun;
      if (!from.includes(before.status)) return undefined;
      const { rounds, ...fields } = patch;
      const after: RunRecord = {
        run: { ...before, ...fields },
        rounds: rounds ?? (JSON.parse(row.rounds) as ToolRound[]),
      };
      const bytes = bytesOf(after);
      await trx
        .updateTable('runs')
        .set({ status: after.run.status, body: JSON.stringify(after.run), rounds: JSON.stringify(after.rounds), bytes })
        .where('id', '=', id)
        .execute();
      let delta = bytes - Number(row.bytes);
      if (message) {
        delta += await this.#insertMessage(trx, threadId, {
          ...message,
          run_id: id,
          assistant_id: after.run.assistant_id,
        });
      }
      await this.#addThreadBytes(trx, threadId, delta);
      await this.#addUsage(trx, delta);
      return after;
    });
  }

  runsInStatus(statuses: readonly RunStatus[]): Promise<StoredRun[]> {
    return this.#deps.read(async () => {
      const rows = await this.#deps.reader
        .selectFrom('runs')
        .select('body')
        .where('status', 'in', [...statuses])
        .orderBy('seq')
        .execute();
      return rows.map((row) => JSON.parse(row.body) as StoredRun);
    });
  }
}
