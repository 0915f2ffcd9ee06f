import { pageFromRead, readOrder } from './list-pages.ts';
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
import { addThreadBytes, addUsage, bytesOf, isStorableId, lockThread, type SqlAccess, seconds } from './sql-access.ts';
import { insertMessage, newMessage } from './sql-rows.ts';
import type { NewStoredMessage } from './store.ts';

/**
 * Runs and assistants on SQL, beside `SqlStore` and with its lock order (thread row -> run and
 * message rows -> usage slot). A run's bytes count into its thread's `bytes` as messages' do, so
 * deleting the thread (which cascades to its runs) frees them; an assistant's count on their own.
 */
export class SqlRunStore implements RunStore {
  readonly #deps: SqlAccess;

  constructor(deps: SqlAccess) {
    this.#deps = deps;
  }

  createAssistant(input: NewStoredAssistant): Promise<StoredAssistant> {
    const assistant: StoredAssistant = {
      id: newObjectId('asst'),
      object: 'assistant',
      created_at: seconds(this.#deps),
      ...input,
    };
    const bytes = bytesOf(assistant);
    return this.#deps.write(async (trx) => {
      await trx
        .insertInto('assistants')
        .values({ id: assistant.id, body: JSON.stringify(assistant), bytes })
        .execute();
      await addUsage(trx, bytes);
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
      await addUsage(trx, bytes - Number(row.bytes));
      return after;
    });
  }

  deleteAssistant(id: string): Promise<boolean> {
    if (!isStorableId(id)) return Promise.resolve(false);
    return this.#deps.write(async (trx) => {
      const deleted = await trx.deleteFrom('assistants').where('id', '=', id).returning('bytes').executeTakeFirst();
      if (!deleted) return false;
      await addUsage(trx, -Number(deleted.bytes));
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
      .orderBy('seq', readOrder(query))
      .limit(query.limit + 1)
      .execute();
    const page = pageFromRead(rows, query);
    return { kind: 'ok', data: page.data.map((row) => row.body), has_more: page.has_more };
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
      if (!(await lockThread(this.#deps, trx, threadId))) return { kind: 'no-thread' };
      const active = await trx
        .selectFrom('runs')
        .select('id')
        .where('thread_id', '=', threadId)
        .where('status', 'in', [...ACTIVE_STATUSES])
        .executeTakeFirst();
      if (active) return { kind: 'active', runId: active.id };
      let total = runBytes;
      for (const message of messages)
        total += await insertMessage(trx, newMessage(threadId, message, seconds(this.#deps)));
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
      await addThreadBytes(trx, threadId, total);
      await addUsage(trx, total);
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
      if (!(await lockThread(this.#deps, trx, threadId))) return undefined;
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
        delta += await insertMessage(
          trx,
          newMessage(threadId, { ...message, run_id: id, assistant_id: after.run.assistant_id }, seconds(this.#deps)),
        );
      }
      await addThreadBytes(trx, threadId, delta);
      await addUsage(trx, delta);
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
