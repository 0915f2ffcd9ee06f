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
});
