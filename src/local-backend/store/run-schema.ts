import type { ColumnType, Generated } from 'kysely';

/**
 * The runs and assistants tables (migration 0003). Each row keeps its wire object as JSON text in
 * `body`; the columns beside it are the ones queries filter and order on.
 */

type BigIntColumn = ColumnType<number | string, number, number>;

export interface AssistantsTable {
  /** Database-assigned order: the list order, stable across instances. */
  seq: Generated<number | string>;
  id: string;
  body: string;
  bytes: BigIntColumn;
}

export interface RunsTable {
  seq: Generated<number | string>;
  id: string;
  thread_id: string;
  status: string;
  body: string;
  /** The tool rounds so far (`ToolRound[]`), never on the wire. */
  rounds: string;
  /** Counted into the thread's `bytes` too, so deleting the thread frees them. */
  bytes: BigIntColumn;
}
