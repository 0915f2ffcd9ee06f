import { type Compilable, CompiledQuery, type Kysely, type QueryResult } from 'kysely';

/** Shapes kept at most (a store has a few dozen; past it the cache starts again). */
const MAX_SHAPES = 256;

/**
 * Kysely builds and compiles a query anew on every call, which costs more than running a point
 * query on SQLite. A statement of a fixed shape (its SQL depends on the shape, not on its values)
 * is compiled once and kept by a name for the shape; each run binds its own values. The SQL is kept
 * only once its compiled values are seen to be the given ones, in order, so a shape whose values
 * are not bound as expected is always compiled anew and never runs with the wrong ones.
 */
export class CompiledStatements {
  readonly #sql = new Map<string, string>();

  /**
   * Runs the statement `shape` names on `db` (a connection or a transaction) with `parameters`;
   * `build` makes it with those same values, the first time.
   */
  async run<Row>(
    db: Pick<Kysely<unknown>, 'executeQuery'>,
    shape: string,
    parameters: readonly unknown[],
    build: () => Compilable<Row>,
  ): Promise<QueryResult<Row>> {
    const text = this.#sql.get(shape);
    if (text !== undefined) return db.executeQuery<Row>(CompiledQuery.raw(text, [...parameters]));
    const compiled = build().compile();
    const bound = compiled.parameters;
    if (bound.length === parameters.length && bound.every((value, index) => value === parameters[index])) {
      if (this.#sql.size >= MAX_SHAPES) this.#sql.clear();
      this.#sql.set(shape, compiled.sql);
    }
    return db.executeQuery(compiled);
  }
}
