import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  AdoptThreadDocument,
  CreateThreadDocument,
  DeleteThreadDocument,
  ForgetThreadDocument,
  SidebarDocument,
  UpdateThreadDocument,
  ViewerThreadIdsDocument,
  ViewerThreadsDocument,
} from '../helpers/documents.ts';
import { testGateway } from '../helpers/gateway.ts';
import { createThreads, newestFirst, type Served, served, walk } from './viewer-helpers.ts';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function gateway(env: Record<string, string> = {}): Promise<Served> {
  const dir = mkdtempSync(join(tmpdir(), 'viewer-life-'));
  cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
  const app = await served(
    testGateway({ GATEWAY_TOKENS: 'a,b', LOCAL_BACKEND_STORE: 'sqlite', DATA_DIR: dir, ...env }),
  );
  cleanups.push(() => app.close());
  return app;
}

/** The caller id the gateway gives a token (http/auth.ts), to seed its list directly. */
const callerOf = (token: string) => `token:${createHash('sha256').update(token).digest('hex').slice(0, 32)}`;

describe('adopting and forgetting', () => {
  it('adopts another’s thread after reading it, forgets without deleting upstream', async () => {
    const app = await gateway();
    const [made] = await createThreads(app, 'a', 1, () => ({ topic: 'shared' }));
    const id = made?.id ?? '';
    expect((await walk(app, 'b')).ids).toEqual([]);
    const adopted = await app.post(AdoptThreadDocument, { id }, 'b');
    expect(adopted.errors).toBeUndefined();
    expect(adopted.data?.adoptThread).toMatchObject({ id, metadata: { topic: 'shared' } });
    expect((await walk(app, 'b', { metadata: { topic: 'shared' } })).ids).toEqual([id]);
    // Adopting twice keeps one entry.
    await app.post(AdoptThreadDocument, { id }, 'b');
    expect((await walk(app, 'b')).totalCount).toBe(1);

    expect((await app.post(ForgetThreadDocument, { id }, 'a')).data?.forgetThread).toBe(true);
    expect((await app.post(ForgetThreadDocument, { id }, 'a')).data?.forgetThread).toBe(false);
    expect((await walk(app, 'a')).ids).toEqual([]);
    expect((await walk(app, 'b')).ids).toEqual([id]);
    expect(await app.gateway.localBackend?.store.getThread(id)).toBeDefined();

    const missing = await app.post(AdoptThreadDocument, { id: 'thread_missing' }, 'b');
    expect(missing.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
  });

  it('follows updateThread’s metadata and deleteThread, for every list holding the thread', async () => {
    const app = await gateway();
    const [made] = await createThreads(app, 'a', 1, () => ({ stage: 'draft' }));
    const id = made?.id ?? '';
    await app.post(AdoptThreadDocument, { id }, 'b');
    await app.post(UpdateThreadDocument, { id, input: { metadata: { stage: 'done' } } }, 'a');
    for (const token of ['a', 'b']) {
      expect((await walk(app, token, { metadata: { stage: 'done' } })).ids).toEqual([id]);
      expect((await walk(app, token, { metadata: { stage: 'draft' } })).ids).toEqual([]);
    }
    expect((await app.post(DeleteThreadDocument, { id }, 'a')).errors).toBeUndefined();
    expect((await walk(app, 'a')).totalCount).toBe(0);
    expect((await walk(app, 'b')).totalCount).toBe(0);
  });

  it('a keyed create replayed after its thread was deleted answers that thread, and lists nothing', async () => {
    const app = await gateway();
    const create = () =>
      app.post(CreateThreadDocument, { input: { idempotencyKey: 'once', metadata: { k: 'v' } } }, 'a');
    const first = await create();
    const id = first.data?.createThread?.id ?? '';
    expect((await walk(app, 'a')).ids).toEqual([id]);
    // A replay while the thread exists keeps its one entry.
    expect((await create()).data?.createThread?.id).toBe(id);
    expect((await walk(app, 'a')).totalCount).toBe(1);
    expect((await app.post(DeleteThreadDocument, { id }, 'a')).errors).toBeUndefined();
    const replayed = await create();
    expect(replayed.errors).toBeUndefined();
    expect(replayed.data?.createThread?.id).toBe(id);
    // No entry for the thread that is gone: the count and the list agree.
    const list = await walk(app, 'a');
    expect(list.totalCount).toBe(0);
    expect(list.ids).toEqual([]);
  });
});

describe('metadata keys', () => {
  it('lists and filters on any key the thread holds, `__proto__` and `constructor` included', async () => {
    const app = await gateway();
    // JSON.parse keeps `__proto__` as a key of its own, as the upstream stores it.
    const metadata = JSON.parse('{"__proto__":"x","constructor":"y","owner":"p1"}') as Record<string, string>;
    const [made] = await createThreads(app, 'a', 1, () => metadata);
    const id = made?.id ?? '';
    for (const filter of ['{"__proto__":"x"}', '{"constructor":"y"}', '{"__proto__":"x","owner":"p1"}']) {
      expect((await walk(app, 'a', { metadata: JSON.parse(filter) })).ids).toEqual([id]);
    }
    expect((await walk(app, 'a', { metadata: JSON.parse('{"__proto__":"z"}') })).ids).toEqual([]);
  });
});

describe('threads gone upstream', () => {
  it('drops them as met, and the pages stay full', async () => {
    const app = await gateway();
    const made = await createThreads(app, 'a', 60, (n) => ({ n: String(n) }));
    const order = newestFirst(made);
    // Deleted behind the gateway's back: 7 inside the first page, 5 right after it.
    const gone = [...order.slice(3, 10), ...order.slice(20, 25)];
    for (const id of gone) expect(await app.gateway.localBackend?.store.deleteThread(id)).toBe(true);
    const live = order.filter((id) => !gone.includes(id));

    const first = await app.post(ViewerThreadsDocument, { first: 20 }, 'a');
    expect(first.errors).toBeUndefined();
    const page = first.data?.viewer.threads;
    expect(page?.nodes.map((node) => node.id)).toEqual(live.slice(0, 20));
    expect(page?.nodes[0]?.metadata).toEqual(made.find((thread) => thread.id === live[0])?.metadata);
    const second = await app.post(ViewerThreadsDocument, { first: 20, after: page?.pageInfo.endCursor }, 'a');
    expect(second.data?.viewer.threads.nodes.map((node) => node.id)).toEqual(live.slice(20, 40));
    // Met, so dropped: the count is right now, and an ids-only walk no longer sees them.
    const walked = await walk(app, 'a');
    expect(walked.ids).toEqual(live);
    expect(walked.totalCount).toBe(live.length);
  });
});

describe('cursors', () => {
  it('refuses a cursor of another caller or another filter, and bad counts', async () => {
    const app = await gateway();
    await createThreads(app, 'a', 3, () => ({ k: 'v' }));
    await createThreads(app, 'b', 3, () => ({ k: 'v' }));
    const page = await app.post(ViewerThreadIdsDocument, { first: 1 }, 'a');
    const cursor = page.data?.viewer.threads.pageInfo.endCursor;
    expect(cursor).toBeTruthy();
    const ok = await app.post(ViewerThreadIdsDocument, { first: 1, after: cursor }, 'a');
    expect(ok.errors).toBeUndefined();
    for (const [variables, token] of [
      [{ first: 1, after: cursor }, 'b'],
      [{ first: 1, after: cursor, metadata: { k: 'v' } }, 'a'],
      [{ last: 1, before: cursor, metadata: { k: 'v' } }, 'a'],
      [{ first: 1, after: 'bm90IGEgY3Vyc29y' }, 'a'],
      [{ first: 0 }, 'a'],
      [{ first: 101 }, 'a'],
      [{ first: 1, last: 1 }, 'a'],
      [{ metadata: { k: 1 } }, 'a'],
    ] as const) {
      const refused = await app.post(ViewerThreadIdsDocument, variables, token);
      expect(refused.errors?.[0]?.extensions?.code, JSON.stringify(variables)).toBe('BAD_USER_INPUT');
    }
  });
});

describe('writes to the list that cannot happen', () => {
  it('says in extensions that the list is full, and still creates', async () => {
    const app = await gateway({ MAX_THREADS_PER_CALLER: '3' });
    await createThreads(app, 'a', 3, () => ({}));
    const fourth = await app.post(CreateThreadDocument, { input: {} }, 'a');
    expect(fourth.errors).toBeUndefined();
    const id = fourth.data?.createThread.id ?? '';
    expect(await app.gateway.localBackend?.store.getThread(id)).toBeDefined();
    expect(fourth.extensions?.warnings).toEqual([expect.objectContaining({ code: 'THREAD_LIST_FULL', threadId: id })]);
    expect((await walk(app, 'a')).totalCount).toBe(3);
    // The other caller's list is its own.
    const other = await app.post(CreateThreadDocument, { input: {} }, 'b');
    expect(other.extensions).toBeUndefined();
  });

  it('warns when the list store fails, and does not repeat the upstream write', async () => {
    const app = await gateway();
    const before = await app.post(CreateThreadDocument, { input: {} }, 'a');
    expect(before.extensions).toBeUndefined();
    const calls: string[] = [];
    const store = app.gateway.localBackend?.store;
    if (!store) throw new Error('no local backend');
    const create = store.createThread.bind(store);
    store.createThread = (input) => {
      calls.push('create');
      return create(input);
    };
    await app.gateway.threadIndex.close();
    const answer = await app.post(CreateThreadDocument, { input: { metadata: { k: 'v' } } }, 'a');
    expect(answer.errors).toBeUndefined();
    const id = answer.data?.createThread.id ?? '';
    expect(answer.extensions?.warnings).toEqual([expect.objectContaining({ code: 'THREAD_NOT_LISTED', threadId: id })]);
    expect(calls).toEqual(['create']);
    expect(await store.getThread(id)).toBeDefined();
  });
});

describe('the sidebar query’s latency', () => {
  it('stays flat from 100 to 100,000 entries of one caller', async () => {
    const app = await gateway();
    const seed = async (count: number, token: string) => {
      const now = 1_700_000_000;
      const entries = Array.from({ length: count }, (_, n) => ({
        threadId: `thread_seed${String(n).padStart(6, '0')}`,
        createdAt: now + Math.floor(n / 10),
        metadata: { group: `g${n % 10}` },
      }));
      await app.gateway.threadIndex.addMany(callerOf(token), entries);
    };
    const p50 = async (token: string) => {
      for (let i = 0; i < 20; i += 1) await app.post(SidebarDocument, {}, token);
      const times: number[] = [];
      for (let i = 0; i < 200; i += 1) {
        const start = performance.now();
        const answer = await app.post(SidebarDocument, {}, token);
        times.push(performance.now() - start);
        expect(answer.data?.viewer.threads.nodes).toHaveLength(50);
      }
      times.sort((x, y) => x - y);
      return times[100] ?? Number.NaN;
    };
    await seed(100, 'a');
    await seed(100_000, 'b');
    const small = await p50('a');
    const large = await p50('b');
    console.log(
      `viewer { threads(first: 50) { nodes { id } } } p50: ${small.toFixed(2)} ms at 100 entries, ${large.toFixed(2)} ms at 100,000`,
    );
    expect(large).toBeLessThan(small * 5);
  }, 120_000);
});
