import type { NewStoredMessage, StoredMessage } from '../store/store.ts';

/**
 * A checked wire message (a thread's `messages[i]`, a message create, a run's
 * `additional_messages[i]`) as the store keeps it: a string content becomes one text part.
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
            // Input text parts are `{type: "text", text: "…"}`; stored ones carry value and annotations.
            return typed.type === 'text' ? { type: 'text', text: { value: typed.text, annotations: [] } } : typed;
          }),
    attachments: (message.attachments as unknown[] | null | undefined) ?? null,
    metadata: (message.metadata as Record<string, string> | null | undefined) ?? null,
  };
}

/**
 * A stored message as the API answers it. The store keeps only ended messages (a run writes its
 * answer once it has it): complete when written, or incomplete when the run's answer was cut short
 * (`incomplete_details.reason`). The API's description requires the three fields, nullable but present.
 */
export function wireMessage(message: StoredMessage) {
  const { incomplete_reason: reason, ...wire } = message;
  return {
    ...wire,
    incomplete_details: reason ? { reason } : null,
    completed_at: reason ? null : message.created_at,
    incomplete_at: reason ? message.created_at : null,
  };
}
