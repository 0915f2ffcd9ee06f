import type { StoredMessage, StoredThread } from './store.ts';

/**
 * What one stored object counts against the storage quota: its JSON as the API answers it, in
 * UTF-8 bytes. Every store counts the same way, so a quota means the same on each.
 */
export function storedBytes(record: StoredThread | StoredMessage): number {
  return Buffer.byteLength(JSON.stringify(record));
}
