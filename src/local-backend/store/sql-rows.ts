import type { Selectable } from 'kysely';
import { newObjectId } from './object-id.ts';
import type { Db, ThreadRow } from './sql-access.ts';
import type { MessagesTable } from './sql-schema.ts';
import type { NewStoredMessage, StoredMessage, StoredThread } from './store.ts';
import { storedBytes } from './stored-bytes.ts';

type MessageRow = Selectable<MessagesTable>;

export function toJson(value: unknown): string {
  return JSON.stringify(value);
}

export function toThread(row: ThreadRow): StoredThread {
  return {
    id: row.id,
    object: 'thread',
    created_at: Number(row.created_at),
    metadata: JSON.parse(row.metadata) as Record<string, string>,
    tool_resources: row.tool_resources === null ? null : (JSON.parse(row.tool_resources) as Record<string, unknown>),
  };
}

export function toMessage(row: MessageRow): StoredMessage {
  return {
    id: row.id,
    object: 'thread.message',
    created_at: Number(row.created_at),
    thread_id: row.thread_id,
    role: row.role,
    content: JSON.parse(row.content) as unknown[],
    attachments: row.attachments === null ? null : (JSON.parse(row.attachments) as unknown[]),
    metadata: JSON.parse(row.metadata) as Record<string, string>,
    status: row.incomplete_reason ? 'incomplete' : 'completed',
    incomplete_reason: row.incomplete_reason === 'max_tokens' ? 'max_tokens' : null,
    assistant_id: row.assistant_id,
    run_id: row.run_id,
  };
}

/** A message as its row, `bytes` included (what it counts against the quota). */
export function messageRow(message: StoredMessage) {
  return {
    id: message.id,
    thread_id: message.thread_id,
    created_at: message.created_at,
    role: message.role,
    content: toJson(message.content),
    attachments: message.attachments === null ? null : toJson(message.attachments),
    metadata: toJson(message.metadata),
    assistant_id: message.assistant_id,
    run_id: message.run_id,
    incomplete_reason: message.incomplete_reason,
    bytes: storedBytes(message),
  };
}

export function newMessage(threadId: string, input: NewStoredMessage, createdAt: number): StoredMessage {
  return {
    id: input.id ?? newObjectId('msg'),
    object: 'thread.message',
    created_at: input.created_at ?? createdAt,
    thread_id: threadId,
    role: input.role,
    content: input.content,
    attachments: input.attachments ?? null,
    metadata: { ...(input.metadata ?? {}) },
    status: input.incomplete_reason ? 'incomplete' : 'completed',
    incomplete_reason: input.incomplete_reason ?? null,
    assistant_id: input.assistant_id ?? null,
    run_id: input.run_id ?? null,
  };
}

/** Inserts one new message (a run's, or one added to a thread); returns its bytes (the caller counts them). */
export async function insertMessage(trx: Db, message: StoredMessage): Promise<number> {
  const row = messageRow(message);
  await trx.insertInto('messages').values(row).execute();
  return row.bytes;
}
