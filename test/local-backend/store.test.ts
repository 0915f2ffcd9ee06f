import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { withQuota } from '../../src/local-backend/store/quota.ts';
import { openSqliteStore, SQLITE_FILE } from '../../src/local-backend/store/sqlite-store.ts';
import { type NewStoredMessage, StorageQuotaError, type Store } from '../../src/local-backend/store/store.ts';
import { storedBytes } from '../../src/local-backend/store/stored-bytes.ts';
import { codes, execute, silentLogger, testGateway } from '../helpers/gateway.ts';
import { POSTGRES_URL } from '../helpers/postgres.ts';
import { reportSkip } from '../helpers/skips.ts';
import { hasPostgres, storeImplementations } from '../helpers/stores.ts';

if (!hasPostgres) reportSkip('store contract on postgres', `no PostgreSQL at ${POSTGRES_URL}`);

const text = (value: string): NewStoredMessage => ({
  role: 'user',
  content: [{ type: 'text', text: { value, annotations: [] } }],
});

describe.each(storeImplementations)('Store contract: $name', (implementation) => {
  const suite = implementation.available ? describe : describe.skip;
  suite('', () => {
    let store: Store;
    let dispose: () => Promise<void>;

    beforeEach(async () => {
      ({ store, dispose } = await implementation.open());
    });
    afterEach(async () => {
      await store.close();
      await dispose();
    });

    async function values(threadId: string, query: Parameters<Store['listMessages']>[1]): Promise<string[]> {
      const result = await store.listMessages(threadId, query);
      if (result.kind !== 'ok') throw new Error(`expected ok, got ${result.kind}`);
      return result.data.map((message) => {
        const part = message.content[0] as { text: { value: string } };
        return part.text.value;
      });
    }

    it('creates a thread with random prefixed ids and reads it back as stored', async () => {
      const created = await store.createThread({
        metadata: { customer: 'c_42', emoji: '🧵' },
        tool_resources: { file_search: { vector_store_ids: ['vs_1'] } },
      });
      expect(created).toEqual({
        id: expect.stringMatching(/^thread_[A-Za-z0-9]{24}$/),
        object: 'thread',
        created_at: expect.any(Number),
        metadata: { customer: 'c_42', emoji: '🧵' },
        tool_resources: { file_search: { vector_store_ids: ['vs_1'] } },
      });
      expect(Math.abs(created.created_at - Date.now() / 1000)).toBeLessThan(5);
      expect(await store.getThread(created.id)).toEqual(created);
      const other = await store.createThread({});
      expect(other.id).not.toBe(created.id);
      expect(other).toMatchObject({ metadata: {}, tool_resources: null });
      expect(await store.getThread('thread_missing')).toBeUndefined();
    });

    it('stores the initial messages in order, with the message shape', async () => {
      const thread = await store.createThread({
        messages: [text('one'), { ...text('two'), role: 'assistant', metadata: { k: 'v' }, attachments: [] }],
      });
      const listed = await store.listMessages(thread.id, { limit: 20, order: 'asc' });
      expect(listed).toMatchObject({ kind: 'ok', has_more: false });
      if (listed.kind !== 'ok') return;
      expect(listed.data).toEqual([
        {
          id: expect.stringMatching(/^msg_[A-Za-z0-9]{24}$/),
          object: 'thread.message',
          created_at: thread.created_at,
          thread_id: thread.id,
          role: 'user',
          content: text('one').content,
          attachments: null,
          metadata: {},
          status: 'completed',
          incomplete_reason: null,
          assistant_id: null,
          run_id: null,
        },
        expect.objectContaining({ role: 'assistant', metadata: { k: 'v' }, attachments: [] }),
      ]);
      const first = listed.data[0];
      if (!first) throw new Error('no message');
      expect(await store.getMessage(thread.id, first.id)).toEqual(first);
    });

    it('pages with the API’s cursors: `before` is the previous page, nearest the cursor, in the list’s order', async () => {
      const thread = await store.createThread({ messages: Array.from({ length: 7 }, (_, index) => text(`m${index}`)) });
      const listed = await store.listMessages(thread.id, { limit: 20, order: 'asc' });
      if (listed.kind !== 'ok') throw new Error(listed.kind);
      const ids = listed.data.map((message) => message.id);
      const page = async (query: Parameters<Store['listMessages']>[1]) => {
        const result = await store.listMessages(thread.id, query);
        if (result.kind !== 'ok') throw new Error(result.kind);
        return [
          result.data.map((message) => (message.content[0] as { text: { value: string } }).text.value),
          result.has_more,
        ];
      };
      expect(await page({ limit: 2, order: 'desc', after: ids[4] })).toEqual([['m3', 'm2'], true]);
      expect(await page({ limit: 2, order: 'desc', before: ids[2] })).toEqual([['m4', 'm3'], true]);
      expect(await page({ limit: 2, order: 'desc', before: ids[4] })).toEqual([['m6', 'm5'], false]);
      expect(await page({ limit: 2, order: 'asc', before: ids[4] })).toEqual([['m2', 'm3'], true]);
      expect(await page({ limit: 3, order: 'asc', before: ids[2] })).toEqual([['m0', 'm1'], false]);
      expect(await page({ limit: 2, order: 'asc', after: ids[0], before: ids[5] })).toEqual([['m3', 'm4'], true]);

      const assistant = (name: string) => ({
        name,
        description: null,
        model: 'echo',
        instructions: null,
        tools: [],
        tool_resources: null,
        metadata: {},
        temperature: null,
        top_p: null,
        response_format: 'auto',
        reasoning_effort: null,
      });
      const made = [];
      for (let index = 0; index < 5; index++) made.push(await store.runs.createAssistant(assistant(`a${index}`)));
      const assistants = await store.runs.listAssistants({ limit: 2, order: 'desc', before: made[1]?.id as string });
      if (assistants.kind !== 'ok') throw new Error(assistants.kind);
      const names = assistants.data.map((item) => item.name);
      // Other tests' assistants may share the store: only the nearest two matter.
      expect([names, assistants.has_more]).toEqual([['a3', 'a2'], true]);
    });

    it('updates only the fields in the patch; null clears', async () => {
      const thread = await store.createThread({ metadata: { a: '1' }, tool_resources: { code_interpreter: {} } });
      expect(await store.updateThread(thread.id, { metadata: { b: '2' } })).toEqual({
        ...thread,
        metadata: { b: '2' },
      });
      expect(await store.updateThread(thread.id, { tool_resources: null, metadata: null })).toEqual({
        ...thread,
        metadata: {},
        tool_resources: null,
      });
      expect(await store.getThread(thread.id)).toEqual({ ...thread, metadata: {}, tool_resources: null });
      expect(await store.updateThread('thread_missing', { metadata: {} })).toBeUndefined();
    });

    it('deletes a thread with its messages, once', async () => {
      const thread = await store.createThread({ messages: [text('gone')] });
      const listed = await store.listMessages(thread.id, { limit: 1, order: 'asc' });
      const messageId = listed.kind === 'ok' ? listed.data[0]?.id : undefined;
      if (!messageId) throw new Error('no message');
      expect(await store.deleteThread(thread.id)).toBe(true);
      expect(await store.deleteThread(thread.id)).toBe(false);
      expect(await store.getThread(thread.id)).toBeUndefined();
      expect(await store.getMessage(thread.id, messageId)).toBeUndefined();
      expect(await store.listMessages(thread.id, { limit: 20, order: 'asc' })).toEqual({ kind: 'no-thread' });
      expect(await store.createMessage(thread.id, text('late'))).toBeUndefined();
    });

    it('creates, reads, updates and deletes single messages, only within their thread', async () => {
      const thread = await store.createThread({});
      const other = await store.createThread({});
      const message = await store.createMessage(thread.id, { ...text('hi'), metadata: { a: '1' } });
      expect(message).toMatchObject({ thread_id: thread.id, metadata: { a: '1' }, role: 'user' });
      if (!message) return;
      expect(await store.getMessage(other.id, message.id)).toBeUndefined();
      expect(await store.updateMessage(other.id, message.id, { b: '2' })).toBeUndefined();
      expect(await store.deleteMessage(other.id, message.id)).toBe(false);
      expect(await store.updateMessage(thread.id, message.id, { b: '2' })).toEqual({
        ...message,
        metadata: { b: '2' },
      });
      expect(await store.getMessage(thread.id, message.id)).toEqual({ ...message, metadata: { b: '2' } });
      expect(await store.deleteMessage(thread.id, message.id)).toBe(true);
      expect(await store.deleteMessage(thread.id, message.id)).toBe(false);
      expect(await store.getMessage(thread.id, message.id)).toBeUndefined();
      expect(await store.createMessage('thread_missing', text('x'))).toBeUndefined();
    });

    it('pages messages in insertion order both ways, with cursors and has_more', async () => {
      const thread = await store.createThread({ messages: [text('m0'), text('m1')] });
      for (let i = 2; i < 7; i++) await store.createMessage(thread.id, text(`m${i}`));
      expect(await values(thread.id, { limit: 100, order: 'asc' })).toEqual(['m0', 'm1', 'm2', 'm3', 'm4', 'm5', 'm6']);
      expect(await values(thread.id, { limit: 100, order: 'desc' })).toEqual([
        'm6',
        'm5',
        'm4',
        'm3',
        'm2',
        'm1',
        'm0',
      ]);

      const pages: string[][] = [];
      let after: string | undefined;
      for (;;) {
        const page = await store.listMessages(thread.id, { limit: 3, order: 'asc', ...(after ? { after } : {}) });
        if (page.kind !== 'ok') throw new Error(page.kind);
        pages.push(page.data.map((message) => (message.content[0] as { text: { value: string } }).text.value));
        if (!page.has_more) break;
        after = page.data.at(-1)?.id;
      }
      expect(pages).toEqual([['m0', 'm1', 'm2'], ['m3', 'm4', 'm5'], ['m6']]);

      const all = await store.listMessages(thread.id, { limit: 100, order: 'asc' });
      if (all.kind !== 'ok') throw new Error(all.kind);
      const id = (index: number) => all.data[index]?.id ?? '';
      expect(await values(thread.id, { limit: 2, order: 'desc', after: id(4) })).toEqual(['m3', 'm2']);
      expect(await values(thread.id, { limit: 10, order: 'asc', before: id(3) })).toEqual(['m0', 'm1', 'm2']);
      expect(await values(thread.id, { limit: 10, order: 'desc', before: id(3) })).toEqual(['m6', 'm5', 'm4']);
      expect(await values(thread.id, { limit: 10, order: 'asc', after: id(1), before: id(5) })).toEqual([
        'm2',
        'm3',
        'm4',
      ]);
      const exact = await store.listMessages(thread.id, { limit: 7, order: 'asc' });
      expect(exact).toMatchObject({ kind: 'ok', has_more: false });
      const short = await store.listMessages(thread.id, { limit: 6, order: 'asc' });
      expect(short).toMatchObject({ kind: 'ok', has_more: true });
    });

    it('refuses a cursor that names no message of this thread', async () => {
      const thread = await store.createThread({ messages: [text('a')] });
      const other = await store.createThread({ messages: [text('b')] });
      const listed = await store.listMessages(other.id, { limit: 1, order: 'asc' });
      const foreign = listed.kind === 'ok' ? listed.data[0]?.id : undefined;
      if (!foreign) throw new Error('no message');
      expect(await store.listMessages(thread.id, { limit: 5, order: 'asc', after: foreign })).toEqual({
        kind: 'bad-cursor',
        param: 'after',
      });
      expect(await store.listMessages(thread.id, { limit: 5, order: 'asc', before: 'msg_nope' })).toEqual({
        kind: 'bad-cursor',
        param: 'before',
      });
      expect(await store.listMessages('thread_missing', { limit: 5, order: 'asc', after: foreign })).toEqual({
        kind: 'no-thread',
      });
    });

    it('answers "not found" for ids no store could have made (NUL, slashes, very long)', async () => {
      const thread = await store.createThread({ messages: [text('a')] });
      for (const id of ['thread_\u0000x', 'thread_a/b', `thread_${'a'.repeat(500)}`, '']) {
        expect(await store.getThread(id)).toBeUndefined();
        expect(await store.updateThread(id, { metadata: {} })).toBeUndefined();
        expect(await store.deleteThread(id)).toBe(false);
        expect(await store.createMessage(id, text('x'))).toBeUndefined();
        expect(await store.getMessage(thread.id, id)).toBeUndefined();
        expect(await store.listMessages(id, { limit: 1, order: 'asc' })).toEqual({ kind: 'no-thread' });
        expect(await store.listMessages(thread.id, { limit: 1, order: 'asc', after: id })).toEqual({
          kind: 'bad-cursor',
          param: 'after',
        });
      }
    });

    it('remembers idempotency records until they expire, the latest put winning', async () => {
      const record = { fingerprint: 'f1', answer: '{"id":"thread_x"}', expiresAt: Date.now() + 60_000 };
      expect(await store.getIdempotency('key\u0000a')).toBeUndefined();
      await store.putIdempotency('key\u0000a', record);
      expect(await store.getIdempotency('key\u0000a')).toEqual(record);
      expect(await store.getIdempotency('key\u0000b')).toBeUndefined();
      await store.putIdempotency('key\u0000a', { ...record, fingerprint: 'f2' });
      expect(await store.getIdempotency('key\u0000a')).toEqual({ ...record, fingerprint: 'f2' });
      await store.putIdempotency('key\u0000old', { ...record, expiresAt: Date.now() - 1 });
      expect(await store.getIdempotency('key\u0000old')).toBeUndefined();
    });

    it('counts used bytes as the JSON of what is stored, and frees them on delete', async () => {
      expect(await store.usedBytes()).toBe(0);
      const thread = await store.createThread({ metadata: { a: 'é' }, messages: [text('one')] });
      const listed = await store.listMessages(thread.id, { limit: 10, order: 'asc' });
      if (listed.kind !== 'ok' || !listed.data[0]) throw new Error('no message');
      const first = listed.data[0];
      expect(await store.usedBytes()).toBe(storedBytes(thread) + storedBytes(first));

      const second = await store.createMessage(thread.id, text('two'));
      if (!second) throw new Error('no message');
      const updated = await store.updateThread(thread.id, { metadata: { a: 'longer value' } });
      if (!updated) throw new Error('no thread');
      const relabelled = await store.updateMessage(thread.id, first.id, { k: 'v' });
      if (!relabelled) throw new Error('no message');
      expect(await store.usedBytes()).toBe(storedBytes(updated) + storedBytes(relabelled) + storedBytes(second));

      expect(await store.deleteMessage(thread.id, second.id)).toBe(true);
      expect(await store.usedBytes()).toBe(storedBytes(updated) + storedBytes(relabelled));
      expect(await store.deleteThread(thread.id)).toBe(true);
      expect(await store.usedBytes()).toBe(0);
    });

    it('behind a quota, refuses creates past it and accepts them again after a delete', async () => {
      const limited = withQuota(store, 2_000);
      const big = { metadata: { pad: 'x'.repeat(500) } };
      const made = [];
      for (;;) {
        try {
          made.push(await limited.createThread(big));
        } catch (error) {
          expect(error).toBeInstanceOf(StorageQuotaError);
          break;
        }
        if (made.length > 10) throw new Error('quota never applied');
      }
      expect(made.length).toBe(3);
      expect(await limited.usedBytes()).toBeLessThanOrEqual(2_000);
      await expect(limited.createMessage(made[0]?.id ?? '', { ...text('y'.repeat(1_000)) })).rejects.toThrow(
        StorageQuotaError,
      );
      // Reads and deletes still work, and free room for new creates.
      expect(await limited.getThread(made[0]?.id ?? '')).toBeDefined();
      expect(await limited.deleteThread(made[0]?.id ?? '')).toBe(true);
      await expect(limited.createThread(big)).resolves.toMatchObject({ object: 'thread' });
    });

    it('keeps message order and totals under concurrent writers', async () => {
      const thread = await store.createThread({});
      const results = await Promise.all(
        Array.from({ length: 40 }, (_, i) => store.createMessage(thread.id, text(`c${i}`))),
      );
      const ids = results.map((message) => message?.id);
      expect(new Set(ids).size).toBe(40);
      const listed = await store.listMessages(thread.id, { limit: 100, order: 'asc' });
      if (listed.kind !== 'ok') throw new Error(listed.kind);
      expect(listed.data).toHaveLength(40);
      const total = listed.data.reduce((sum, message) => sum + storedBytes(message), storedBytes(thread));
      expect(await store.usedBytes()).toBe(total);
      // Paging twice gives the same order (a database order, not an arrival order per process).
      const again = await store.listMessages(thread.id, { limit: 100, order: 'asc' });
      expect(again).toEqual(listed);
    });
  });
});

describe('SQLite store on disk', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'store-disk-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('creates the database file and its -wal and -shm files owner-only (0600), whatever the umask allows', async () => {
    const dataDir = join(dir, 'data');
    const store = await openSqliteStore({ dataDir });
    try {
      await store.createThread({ metadata: { a: 'b' }, messages: [text('private')] });
      for (const name of [SQLITE_FILE, `${SQLITE_FILE}-wal`, `${SQLITE_FILE}-shm`]) {
        expect(statSync(join(dataDir, name)).mode & 0o777, name).toBe(0o600);
      }
    } finally {
      await store.close();
    }
  });

  it('leaves an existing shared DATA_DIR, or a link to one, as it is, and warns', async () => {
    const shared = join(dir, 'shared');
    mkdirSync(shared);
    chmodSync(shared, 0o1777);
    const link = join(dir, 'link');
    symlinkSync(shared, link);
    for (const dataDir of [shared, link]) {
      const warnings: string[] = [];
      const store = await openSqliteStore({ dataDir, onWarning: (message) => warnings.push(message) });
      await store.close();
      expect(statSync(shared).mode & 0o7777, dataDir).toBe(0o1777);
      expect(warnings, dataDir).toEqual([expect.stringMatching(/DATA_DIR .* is open to other users \(mode 1777\)/)]);
    }
    // The gateway logs it.
    const logged: string[] = [];
    const gateway = testGateway(
      { LOCAL_BACKEND_STORE: 'sqlite', DATA_DIR: link },
      { logger: { ...silentLogger, warn: (message) => logged.push(message) } },
    );
    expect(codes(await execute(gateway, '{ thread(id: "thread_none") { id } }'))).toEqual([]);
    await gateway.close();
    expect(logged).toEqual([expect.stringMatching(/DATA_DIR .* is open to other users/)]);
    expect(statSync(shared).mode & 0o7777).toBe(0o1777);
    // An existing owner-only directory is not worth a warning.
    const own = join(dir, 'own');
    mkdirSync(own, { mode: 0o700 });
    const warnings: string[] = [];
    await (await openSqliteStore({ dataDir: own, onWarning: (message) => warnings.push(message) })).close();
    expect(warnings).toEqual([]);
  });

  it('creates DATA_DIR owner-only, keeps data across reopen, and applies each migration once', async () => {
    const dataDir = join(dir, 'nested', 'data');
    const first = await openSqliteStore({ dataDir });
    const thread = await first.createThread({ metadata: { kept: 'yes' }, messages: [text('kept')] });
    await first.close();
    expect(statSync(dataDir).mode & 0o777).toBe(0o700);
    expect(statSync(join(dataDir, SQLITE_FILE)).isFile()).toBe(true);

    const second = await openSqliteStore({ dataDir });
    expect(await second.getThread(thread.id)).toEqual(thread);
    expect(await second.usedBytes()).toBeGreaterThan(0);
    await second.close();

    const Database = (await import('better-sqlite3')).default;
    const raw = new Database(join(dataDir, SQLITE_FILE), { readonly: true });
    try {
      expect(raw.pragma('journal_mode', { simple: true })).toBe('wal');
      expect(raw.prepare('select name from kysely_migration').all()).toEqual([
        { name: '0001-initial' },
        { name: '0002-idempotency-bytes' },
        { name: '0003-runs' },
        { name: '0004-responses' },
        { name: '0005-message-incomplete' },
        { name: '0006-idempotency-claims' },
      ]);
      const plan = raw
        .prepare("explain query plan select * from messages where thread_id = 'x' and seq > 3 order by seq limit 21")
        .all() as Array<{ detail: string }>;
      expect(plan.map((step) => step.detail).join(' | ')).toMatch(/USING (COVERING )?INDEX messages_thread_seq/);
      expect(plan.map((step) => step.detail).join(' | ')).not.toMatch(/TEMP B-TREE/);
    } finally {
      raw.close();
    }
  });
});
