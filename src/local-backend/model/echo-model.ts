import { randomBytes } from 'node:crypto';
import type { ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import type { Model, ModelEvent, ModelRequest } from './model.ts';

/** The built-in model's name: what runs ask for when no LOCAL_BACKEND_MODEL_URL is set. */
export const ECHO_MODEL = 'echo';

/** `/call NAME JSON`: the echo model calls tool NAME with JSON as its arguments. */
const CALL_PATTERN = /^\/call\s+([A-Za-z0-9_-]{1,64})\s+([\s\S]+)$/;

/**
 * Approximate tokens: one per four characters (code points), rounded up; documented in
 * docs/runs.md. Good enough for usage figures and `max_completion_tokens`, not a tokenizer.
 */
export function approximateTokens(text: string): number {
  return Math.ceil([...text].length / 4);
}

function textOf(content: ChatCompletionMessageParam['content']): string {
  if (typeof content === 'string') return content;
  if (!content) return '';
  return content.map((part) => ('text' in part ? part.text : '')).join('');
}

/** Whether the request lets the model call function `name`: the run has it, and `tool_choice` allows calls. */
function mayCall(request: ModelRequest, name: string): boolean {
  const choice = request.toolChoice;
  if (choice === 'none') return false;
  if (typeof choice === 'object' && choice !== null && 'function' in choice && choice.function.name !== name)
    return false;
  return request.tools.some((tool) => tool.function.name === name);
}

/** Where the answer comes from: the tool outputs that end the conversation, else the last user text. */
function answerFor(request: ModelRequest): { text: string } | { call: string; args: string } {
  const { messages } = request;
  const outputs: string[] = [];
  for (let index = messages.length - 1; index >= 0; index--) {
    const message = messages[index];
    if (message?.role !== 'tool') break;
    outputs.unshift(`${message.tool_call_id}: ${textOf(message.content)}`);
  }
  if (outputs.length > 0) return { text: `Tool outputs: ${outputs.join('; ')}` };
  const lastUser = messages.findLast((message) => message.role === 'user');
  const text = lastUser ? textOf(lastUser.content) : '';
  const call = CALL_PATTERN.exec(text.trim());
  if (call?.[1] && call[2]) {
    // As a real model: never a call of a function the run does not have, or that tool_choice rules out.
    if (!mayCall(request, call[1])) return { text: `/call: this run may not call a function named ${call[1]}` };
    try {
      JSON.parse(call[2]);
      return { call: call[1], args: call[2].trim() };
    } catch {
      return { text: `/call needs JSON arguments: ${call[2]}` };
    }
  }
  return { text };
}

/** Words with their trailing space: the pieces the answer arrives in. */
function pieces(text: string): string[] {
  return text.match(/\s*\S+\s*/g) ?? (text ? [text] : []);
}

/**
 * The built-in demonstration model: it answers with the last user message's text, in several
 * pieces; `/call NAME JSON` makes it call function NAME (when the run has it and `tool_choice` allows
 * it; else it says so); after tool outputs
 * it answers with a text that quotes them.
 */
export const echoModel: Model = {
  async *stream(request: ModelRequest): AsyncIterable<ModelEvent> {
    const prompt = approximateTokens(request.messages.map((message) => textOf(message.content)).join('\n'));
    const answer = answerFor(request);
    let completion = 0;
    if ('call' in answer) {
      yield {
        type: 'tool_call',
        id: `call_${randomBytes(12).toString('hex')}`,
        name: answer.call,
        arguments: answer.args,
      };
      completion = approximateTokens(answer.call + answer.args);
    } else {
      const limit = request.maxCompletionTokens ?? Number.POSITIVE_INFINITY;
      let written = '';
      for (const piece of pieces(answer.text)) {
        // Yield between pieces, as a remote model's chunks would arrive: cancels land in between.
        await new Promise((resolve) => setImmediate(resolve));
        request.signal.throwIfAborted();
        if (approximateTokens(written + piece) > limit) {
          yield { type: 'length' };
          break;
        }
        written += piece;
        yield { type: 'text', delta: piece };
      }
      completion = approximateTokens(written);
    }
    yield {
      type: 'usage',
      usage: { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion },
    };
  },
};
