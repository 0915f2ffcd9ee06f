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
