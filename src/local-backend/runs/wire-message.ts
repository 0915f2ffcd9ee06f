import type { NewStoredMessage } from '../store/store.ts';

/**
 * A checked wire message (`additional_messages[i]`) as the store keeps it: a string content becomes
 * one text part. The same mapping as backend.ts's own (kept apart here while backend.ts is being
 * changed elsewhere; the file reorganisation is to make both use one).
 */
export function toStoredMessage(message: Record<string, unknown>): NewStoredMessage {
  const content = message.content;
  return {
    role: String(message.role),
    content:
      typeof content === 'string'
        ? [{ type: 'text', text: { value: content, annotations: [] } }]
        : (content as unknown[]).map((part) => {
            const typed = part as Record<string, unknown>;
            return typed.type === 'text' ? { type: 'text', text: { value: typed.text, annotations: [] } } : typed;
          }),
    attachments: (message.attachments as unknown[] | null | undefined) ?? null,
    metadata: (message.metadata as Record<string, string> | null | undefined) ?? null,
  };
}
