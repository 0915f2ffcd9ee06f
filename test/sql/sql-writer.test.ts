import Database from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import { describe, expect, it } from 'vitest';
import { SqlWriter } from '../../src/sql/sql-writer.ts';

interface Db {
  items: { id: string };
}

function counted() {
  const count = { commits: 0 };
  const db = new Kysely<Db>({
    dialect: new SqliteDialect({ database: new Database(':memory:') }),
    log: (event) => {
      if (event.level === 'query' && event.query.sql === 'commit') count.commits += 1;
    },
  });
  return { db, count };
}

describe('SqlWriter on SQLite', () => {
  it('groups the writes of one turn in one commit; a failing write rolls back only itself', async () => {
    const { db, count } = counted();
    await db.schema
      .createTable('items')
      .addColumn('id', 'text', (column) => column.primaryKey())
      .execute();
    const writer = new SqlWriter(db, 'sqlite');
    const insert = (id: string) =>
      writer.write(async (trx) => {
        await trx.insertInto('items').values({ id }).execute();
        return id;
      });
    count.commits = 0;
    const outcomes = await Promise.allSettled([insert('a'), insert('b'), insert('a'), insert('c')]);
    expect(outcomes.map((outcome) => outcome.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled']);
    expect(count.commits).toBe(1);
    const rows = await db.selectFrom('items').select('id').orderBy('id').execute();
    expect(rows.map((row) => row.id)).toEqual(['a', 'b', 'c']);
    await writer.drained();
    await db.destroy();
  });

  it('answers a group only after its durable step, and groups the writes that arrive meanwhile', async () => {
    const { db, count } = counted();
    await db.schema
      .createTable('items')
      .addColumn('id', 'text', (column) => column.primaryKey())
      .execute();
    const syncs: Array<(failure?: Error) => void> = [];
    const writer = new SqlWriter(db, 'sqlite', {
      durable: () =>
        new Promise<void>((resolve, reject) => syncs.push((failure) => (failure ? reject(failure) : resolve()))),
    });
    const insert = (id: string) => writer.write((trx) => trx.insertInto('items').values({ id }).execute());
    const until = async (holds: () => boolean) => {
      while (!holds()) await new Promise((resolve) => setImmediate(resolve));
    };
    count.commits = 0;
    let answered = false;
    const first = Promise.all([insert('a'), insert('b')]).then(() => {
      answered = true;
    });
    await until(() => syncs.length === 1);
    expect(count.commits).toBe(1);
    // Committed, not yet durable: not answered, and what arrives now waits for the next group.
    const later = Promise.allSettled([insert('c'), insert('d'), insert('e')]);
    for (let turn = 0; turn < 5; turn++) await new Promise((resolve) => setImmediate(resolve));
    expect(answered).toBe(false);
    expect(count.commits).toBe(1);
    syncs[0]?.();
    await first;
    await until(() => syncs.length === 2);
    expect(count.commits).toBe(2);
    // A failed fsync acknowledges none of its group.
    syncs[1]?.(new Error('EIO'));
    expect((await later).map((outcome) => outcome.status)).toEqual(['rejected', 'rejected', 'rejected']);
    await writer.drained();
    await db.destroy();
  });
});
