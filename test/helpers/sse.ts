import { checkStreamEvent, describeDivergence } from './openapi.ts';

/** One server-sent event as it came: its `event:` name and its `data:` text. */
export interface SseEvent {
  event: string;
  data: string;
}

/** A whole `text/event-stream` body as its events (`data` lines of one event joined by newlines). */
export function parseSse(text: string): SseEvent[] {
  const events: SseEvent[] = [];
  for (const block of text.split(/\r?\n\r?\n/)) {
    let event = 'message';
    const data: string[] = [];
    for (const line of block.split(/\r?\n/)) {
      if (line.startsWith('event:')) event = line.slice(6).trim();
      else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
    }
    if (data.length > 0) events.push({ event, data: data.join('\n') });
  }
  return events;
}

/** The `data` of an event as the API means it: JSON, or the `[DONE]` sentinel as it is. */
export function dataOf(event: SseEvent): unknown {
  return event.data === '[DONE]' ? event.data : JSON.parse(event.data);
}

/** Each event checked against the description's stream event schemas; the divergences, described. */
export function streamDivergences(family: 'assistant' | 'response', events: readonly SseEvent[]): string[] {
  return events.flatMap((event) => {
    const divergence = checkStreamEvent(family, event.event, dataOf(event));
    return divergence ? [describeDivergence(divergence)] : [];
  });
}

/** One GraphQL-over-SSE payload: `next` (a result) or `complete`. */
export interface SseMessage {
  event: string;
  data: unknown;
}

/**
 * Reads an SSE answer as a client does, message by message (comments and keep-alives skipped),
 * until the stream ends or `until` says stop.
 */
export async function readSse(
  response: Response,
  until: (message: SseMessage, all: SseMessage[]) => boolean = () => false,
): Promise<SseMessage[]> {
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  const messages: SseMessage[] = [];
  let buffered = '';
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return messages;
    buffered += decoder.decode(value, { stream: true });
    let end = buffered.indexOf('\n\n');
    while (end !== -1) {
      const block = buffered.slice(0, end);
      buffered = buffered.slice(end + 2);
      end = buffered.indexOf('\n\n');
      let event = 'message';
      const data: string[] = [];
      for (const line of block.split('\n')) {
        if (line.startsWith('event:')) event = line.slice(6).trim();
        else if (line.startsWith('data:')) data.push(line.slice(5).trimStart());
      }
      if (data.length === 0 && event === 'message') continue;
      const text = data.join('\n');
      const message = { event, data: text ? JSON.parse(text) : null };
      messages.push(message);
      if (until(message, messages)) {
        await reader.cancel();
        return messages;
      }
    }
  }
}
