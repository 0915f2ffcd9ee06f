/**
 * An assistant as the graph serves it; adapters map their answers into it, so no resolver sees an
 * SDK type. `tools` and `metadata` keep the Threads API's shapes (snake_case inside).
 */
export interface Assistant {
  /** Marks the object for the Node interface's type resolution. */
  readonly object: 'assistant';
  id: string;
  name: string | null;
  description: string | null;
  model: string;
  instructions: string | null;
  tools: unknown[];
  metadata: Record<string, string>;
  temperature: number | null;
  topP: number | null;
  createdAt: number | null;
}

export interface AssistantPage {
  data: Assistant[];
  hasMore: boolean;
}

const CURSOR_PREFIX = 'asst:';

/** An opaque cursor for an assistant of the `assistants` connection. */
export function assistantCursor(id: string): string {
  return Buffer.from(`${CURSOR_PREFIX}${id}`).toString('base64url');
}

/** The assistant id a cursor names, or undefined when it is not one we handed out. */
export function cursorAssistantId(cursor: string): string | undefined {
  if (!/^[A-Za-z0-9_-]{1,200}$/.test(cursor)) return undefined;
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!text.startsWith(CURSOR_PREFIX)) return undefined;
  const id = text.slice(CURSOR_PREFIX.length);
  return /^[A-Za-z0-9_-]{1,128}$/.test(id) && assistantCursor(id) === cursor ? id : undefined;
}
