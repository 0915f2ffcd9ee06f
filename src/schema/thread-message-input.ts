import type { InputRef } from '@pothos/core';
import { checkAttachments, checkMessageContent, checkMetadata, type RuleProblem } from '../domain/thread-rules.ts';
import { badUserInput } from '../errors.ts';
import type { MessageInputPart, NewMessage } from '../upstream/upstream-api.ts';
import { builder } from './builder.ts';

export type MessageRoleValue = 'user' | 'assistant' | 'system' | 'developer' | 'tool' | 'unknown';

export const ThreadMessageRole = builder.enumType('ThreadMessageRole', {
  description:
    'Who wrote a message. The Threads API takes only USER and ASSISTANT as input; other roles are refused there with BAD_USER_INPUT before any upstream call.',
  values: {
    USER: { value: 'user', description: 'The user (`"user"` on the wire).' },
    ASSISTANT: { value: 'assistant', description: 'The assistant (`"assistant"`).' },
    SYSTEM: { value: 'system', description: 'System instructions (`"system"`; Conversations only).' },
    DEVELOPER: { value: 'developer', description: 'Developer instructions (`"developer"`; Conversations only).' },
    TOOL: { value: 'tool', description: 'A tool’s output (`"tool"`; read only: refused as input).' },
    UNKNOWN: {
      value: 'unknown',
      description: 'A role the gateway does not know, as the upstream reported it. Never accepted as input.',
    },
  } as const,
});

const KNOWN_ROLES = new Set<string>(['user', 'assistant', 'system', 'developer', 'tool']);

/** The graph's role for whatever role string an upstream reported. */
export function roleOf(role: string): MessageRoleValue {
  return KNOWN_ROLES.has(role) ? (role as MessageRoleValue) : 'unknown';
}

export interface ThreadMessageInputShape {
  role: MessageRoleValue;
  /** Required by the schema; absent only to TypeScript. */
  content?: NonNullable<unknown> | null;
  attachments?: NonNullable<unknown> | null;
  metadata?: NonNullable<unknown> | null;
}

export const ThreadMessageInput: InputRef<ThreadMessageInputShape> = builder
  .inputRef<ThreadMessageInputShape>('ThreadMessageInput')
  .implement({
    description: 'A message to write: to start a new thread with (createThread), or to add to one (createMessage).',
    fields: (t) => ({
      role: t.field({ type: ThreadMessageRole, required: true, description: 'Who wrote the message.' }),
      content: t.field({
        type: 'JSON',
        required: true,
        description:
          'A non-empty string, or a non-empty array of at most 100 content parts: `{type: "text", text}`, `{type: "image_file", image_file: {file_id, detail?}}` or `{type: "image_url", image_url: {url, detail?}}`. At most 256,000 characters in all.',
      }),
      attachments: t.field({
        type: 'JSON',
        description:
          'Files for tools: an array of `{file_id, tools: [{type: "code_interpreter" | "file_search"}]}`. Refused (UNSUPPORTED_BY_UPSTREAM) over the Conversations API.',
      }),
      metadata: t.field({
        type: 'JSON',
        description:
          'Up to 16 string pairs (keys ≤ 64, values ≤ 512 characters, counted in code points). Non-empty metadata is refused (UNSUPPORTED_BY_UPSTREAM) over the Conversations API.',
      }),
    }),
  });

export function refuse(found: RuleProblem | null): void {
  if (found) throw badUserInput(found.message, found.param);
}

/**
 * Validates one message input by the shared rules (the same for createThread's messages and
 * createMessage) and maps it to the API's wire format. `at` names the input in errors.
 */
export function toNewMessage(message: ThreadMessageInputShape, at: string): NewMessage {
  if (message.role === 'unknown') {
    throw badUserInput(`${at}.role: UNKNOWN is only ever an answer, never an input`, `${at}.role`);
  }
  refuse(checkMessageContent(message.content, `${at}.content`));
  if (message.attachments != null) refuse(checkAttachments(message.attachments, `${at}.attachments`));
  if (message.metadata != null) refuse(checkMetadata(message.metadata, `${at}.metadata`));
  const wire: NewMessage = {
    role: message.role,
    content: message.content as string | MessageInputPart[],
  };
  if (message.attachments != null) wire.attachments = message.attachments as unknown[];
  if (message.metadata != null) wire.metadata = message.metadata as Record<string, string>;
  return wire;
}
