import type { ColumnType, Generated } from 'kysely';
import type { ResponsesTable } from './response-schema.ts';
import type { AssistantsTable, RunsTable } from './run-schema.ts';

/**
 * The tables of the SQL stores, as Kysely sees them. JSON values are stored as text (never
 * `jsonb`), so both dialects hand back exactly the bytes that were written, in key order.
 * PostgreSQL returns `bigint` columns as strings; the row mappers read them with `Number`.
 */

type BigIntColumn = ColumnType<number | string, number, number>;

export interface ThreadsTable {
  id: string;
  created_at: BigIntColumn;
  metadata: string;
  tool_resources: string | null;
  /** This thread's own bytes plus those of all its messages (what deleting it frees). */
  bytes: BigIntColumn;
}

export interface MessagesTable {
  /** Database-assigned order (SQLite rowid, PostgreSQL identity): stable across instances. */
  seq: Generated<number | string>;
  id: string;
  thread_id: string;
  created_at: BigIntColumn;
  role: string;
  content: string;
  attachments: string | null;
  metadata: string;
  assistant_id: string | null;
  run_id: string | null;
  /** A run's answer cut short: why (0005). */
  incomplete_reason: string | null;
  bytes: BigIntColumn;
}

export interface IdempotencyKeysTable {
  key: string;
  fingerprint: string;
  answer: string;
  expires_at: BigIntColumn;
  /** What this answer counts against the quota (`idempotencyBytes`), given back when it expires. */
  bytes: BigIntColumn;
}

/** A create in flight under an idempotency key: its holder (a process's claim) until `expires_at`. */
export interface IdempotencyClaimsTable {
  key: string;
  holder: string;
  expires_at: BigIntColumn;
}

/** Running totals of stored bytes, spread over a few rows so concurrent writers rarely wait on one. */
export interface StorageUsageTable {
  slot: number;
  bytes: BigIntColumn;
}

export interface StoreDatabase {
  threads: ThreadsTable;
  messages: MessagesTable;
  idempotency_keys: IdempotencyKeysTable;
  idempotency_claims: IdempotencyClaimsTable;
  storage_usage: StorageUsageTable;
  assistants: AssistantsTable;
  runs: RunsTable;
  responses: ResponsesTable;
}

export type { SqlDialectName } from '../../sql/sql-writer.ts';

/** How many rows `storage_usage` has (seeded by the first migration). */
export const USAGE_SLOTS = 16;
