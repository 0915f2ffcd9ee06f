import type { IdempotencyRecord, StoredMessage, StoredThread } from './store.ts';

/**
 * What one stored object counts against the storage quota: its JSON as the API answers it, in
 * UTF-8 bytes. Every store counts the same way, so a quota means the same on each.
 */
export function storedBytes(record: StoredThread | StoredMessage): number {
  return Buffer.byteLength(JSON.stringify(record));
}

/** Bytes of the stored key: a SHA-256 digest in hex (the SQL stores keep only that). */
const IDEMPOTENCY_KEY_BYTES = 64;

/**
 * What one remembered `Idempotency-Key` counts against the same quota: the answer it replays (a
 * whole message, up to 256,000 characters), its fingerprint and its key. Without this, creating
 * and deleting large messages under fresh keys filled the disk while the quota read empty.
 */
export function idempotencyBytes(record: IdempotencyRecord): number {
  return Buffer.byteLength(record.answer) + Buffer.byteLength(record.fingerprint) + IDEMPOTENCY_KEY_BYTES;
}
