import { isPlainObject } from '../../domain/thread-rules.ts';
import type { NewStoredMessage, StoredMessage } from '../store/store.ts';

/**
 * Function calls and their outputs as conversation items. A conversation's items are its thread's
 * stored messages, so a `function_call` item is kept as an assistant message holding one
 * `function_call` part, and a `function_call_output` item as a `tool` message holding one
 * `function_call_output` part. The Conversations routes read them back as those items
 * (`toolCallItem`); the Responses routes write them and the prompt reads them (`toolCallOf`).
 */

export interface FunctionCall {
  call_id: string;
  name: string;
  arguments: string;
}

export interface FunctionCallOutput {
  call_id: string;
  /** A string, or the API's content parts (`input_text`) as given. */
  output: string | unknown[];
}

export type ToolCallPart =
  | ({ type: 'function_call' } & FunctionCall)
  | ({ type: 'function_call_output' } & FunctionCallOutput);

export function functionCallMessage(call: FunctionCall): NewStoredMessage {
  const part: ToolCallPart = {
    type: 'function_call',
    call_id: call.call_id,
    name: call.name,
    arguments: call.arguments,
  };
  return { role: 'assistant', content: [part], attachments: null, metadata: {} };
}

export function functionCallOutputMessage(output: FunctionCallOutput): NewStoredMessage {
  const part: ToolCallPart = { type: 'function_call_output', call_id: output.call_id, output: output.output };
  return { role: 'tool', content: [part], attachments: null, metadata: {} };
}

/** The call or output a stored message holds, or undefined for an ordinary message. */
export function toolCallOf(message: Pick<StoredMessage, 'content'>): ToolCallPart | undefined {
  const [part] = message.content;
  if (message.content.length !== 1 || !isPlainObject(part) || typeof part.call_id !== 'string') return undefined;
  if (part.type === 'function_call' && typeof part.name === 'string' && typeof part.arguments === 'string') {
    return { type: 'function_call', call_id: part.call_id, name: part.name, arguments: part.arguments };
  }
  if (part.type === 'function_call_output' && (typeof part.output === 'string' || Array.isArray(part.output))) {
    return { type: 'function_call_output', call_id: part.call_id, output: part.output };
  }
  return undefined;
}

/** A stored message as a `function_call` or `function_call_output` item, or undefined (a message item). */
export function toolCallItem(message: StoredMessage) {
  const part = toolCallOf(message);
  if (!part) return undefined;
  return { id: message.id, ...part, status: 'completed' as const };
}

/** The text of a function call output: the string, or its text parts joined. */
export function outputText(output: string | unknown[]): string {
  if (typeof output === 'string') return output;
  return output
    .map((part) => (isPlainObject(part) && typeof part.text === 'string' ? part.text : ''))
    .filter(Boolean)
    .join('\n');
}
