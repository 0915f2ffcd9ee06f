import Database from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import { describe, expect, it } from 'vitest';
import { CompiledStatements } from '../../src/sql/compiled-statements.ts';

interface Db {
  items: { id: string; n: number };
}

describe('CompiledStatements', () => {
  it('compiles a shape once and binds each run’s own values', async () => {
    const db = new Kysely<Db>({ dialect: new SqliteDialect({ database: new Database(':memory:') }) });
    await db.schema
      .createTable('items')
      .addColumn('id', 'text', (column) => column.primaryKey())
      .addColumn('n', 'integer')
      .execute();
    await db
      .insertInto('items')
      .values([
        { id: 'a', n: 1 },
        { id: 'b', n: 2 },
        { id: 'c', n: 3 },
      ])
      .execute();
    const statements = new CompiledStatements();
    let builds = 0;
    const above = async (n: number, limit: number) => {
      const { rows } = await statements.run(db, 'above', [n, limit], () => {
        builds += 1;
        return db.selectFrom('items').select('id').where('n', '>', n).orderBy('n').limit(limit);
      });
      return rows.map((row) => row.id);
    };
    expect(await above(0, 2)).toEqual(['a', 'b']);
    expect(await above(1, 5)).toEqual(['b', 'c']);
    expect(await above(2, 1)).toEqual(['c']);
    expect(builds).toBe(1);

    // Values the statement does not bind in the given order: never kept, so never run with the wrong ones.
    let odd = 0;
    const misnamed = async (n: number) => {
      const { rows } = await statements.run(db, 'misnamed', [n], () => {
        odd += 1;
        return db.selectFrom('items').select('id').where('n', '>', n).limit(10);
      });
      return rows.map((row) => row.id);
    };
    expect(await misnamed(2)).toEqual(['c']);
    expect(await misnamed(1)).toEqual(['b', 'c']);
    expect(odd).toBe(2);
    await db.destroy();
  });
});
