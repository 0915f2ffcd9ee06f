import type { ColumnType, Generated } from 'kysely';

type BigIntColumn = ColumnType<number | string, number, number>;

/**
 * The responses table (migration 0004). The row keeps its wire object as JSON text in `body`; the
 * columns beside it are what queries filter on and the driver's private state.
 */
export interface ResponsesTable {
  seq: Generated<number | string>;
  id: string;
  /** The conversation (thread) it belongs to, or null; no foreign key: responses outlive it. */
  conversation_id: string | null;
  status: string;
  body: string;
  /** The input items as stored messages (`NewStoredMessage[]`), never on the wire. */
  input: string;
  /** Milliseconds; null once final. */
  expires_at: BigIntColumn | null;
  bytes: BigIntColumn;
}
