import type { ExecutionResult } from 'graphql';
import { isAsyncIterable, type Plugin } from 'graphql-yoga';
import { resultJson } from './direct-results.ts';
import { JSON_TYPE, refusal } from './door.ts';

/**
 * Subscriptions over SSE (GraphQL over SSE's "distinct connections" mode, as Yoga speaks it): a
 * `next` event per result, a `complete` event at the end, and a comment line every `pingMs` so
 * that proxies and clients see a live connection between events.
 *
 * Yoga's own processor writes each event as two chunks (`event: next` and its `data:` line), so
 * each event costs Node two writes to the socket (each a chunk of its own in the chunked encoding),
 * and it serialises each result for each subscription. Here an event is one chunk and one write,
 * and a result shared by many subscriptions (shared-event-results.ts) is serialised once, as the
 * WebSocket sends it (`resultJson`). The body is pulled by the socket: an event is taken from the
 * subscription at most one ahead of what Node took, so a client that reads slowly holds its
 * subscription's own buffer (SUBSCRIPTION_BUFFER_EVENTS), not a queue here.
 */

const PING = ':\n\n';
const COMPLETE = 'event: complete\ndata:\n\n';

/** The headers of every subscription answered as an event stream (door.ts adds the proxy ones). */
const HEADERS = { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' };

type FetchAPI = { ReadableStream: typeof ReadableStream; Response: typeof Response; TextEncoder: typeof TextEncoder };

function eventStream(events: AsyncIterable<ExecutionResult>, fetchAPI: FetchAPI, pingMs: number): Response {
  const iterator = events[Symbol.asyncIterator]();
  const encoder = new fetchAPI.TextEncoder();
  let ping: NodeJS.Timeout | undefined;
  // The default strategy (one chunk): an event is taken from the subscription at most one ahead of
  // the socket, and an idle stream has room for a ping.
  const body = new fetchAPI.ReadableStream<Uint8Array>({
    start(controller) {
      // At once: some clients show nothing of an answer until its body starts.
      controller.enqueue(encoder.encode(PING));
      ping = setInterval(() => {
        // Only while the socket has taken what it was given: a ping never queues behind a stalled client.
        if (controller.desiredSize === null) clearInterval(ping);
        else if (controller.desiredSize > 0) controller.enqueue(encoder.encode(PING));
      }, pingMs);
      ping.unref();
    },
    async pull(controller) {
      try {
        const item = await iterator.next();
        if (item.done) {
          clearInterval(ping);
          controller.enqueue(encoder.encode(COMPLETE));
          controller.close();
        } else if (item.value != null) {
          controller.enqueue(encoder.encode(`event: next\ndata: ${resultJson(item.value)}\n\n`));
        }
      } catch (error) {
        clearInterval(ping);
        controller.error(error);
      }
    },
    async cancel() {
      clearInterval(ping);
      await iterator.return?.();
    },
  });
  return new fetchAPI.Response(body, { status: 200, headers: HEADERS });
}

/** The refusal of a subscription whose Accept allows no event stream (Yoga would send a bodiless 406). */
function notAcceptable(opened: AsyncIterable<ExecutionResult>, fetchAPI: FetchAPI): Response {
  // The subscription was opened: closed at once, so it holds no slot and follows nothing.
  void opened[Symbol.asyncIterator]()
    .return?.()
    ?.catch(() => undefined);
  const message = 'A subscription is answered as an event stream: send Accept: text/event-stream, or use WebSocket.';
  return refusal(fetchAPI, 406, 'NOT_ACCEPTABLE', message, JSON_TYPE);
}

/**
 * Registered after every plugin that chooses or wraps a subscription's results. A subscription Yoga
 * would answer as an event stream (the only processor it has for one) is answered here; one whose
 * Accept allows none (Yoga found no processor) is refused with a code. A result that is not a
 * stream (a subscription refused before it opened) keeps Yoga's processor.
 */
export function useEventStream({ pingMs }: { pingMs: number }): Plugin {
  return {
    onResultProcess({ result, resultProcessor, setResultProcessor }) {
      if (!isAsyncIterable(result)) return;
      if (!resultProcessor) {
        setResultProcessor((opened, fetchAPI) => notAcceptable(opened as never, fetchAPI as FetchAPI), JSON_TYPE);
        return;
      }
      setResultProcessor(
        (events, fetchAPI) => eventStream(events as AsyncIterable<ExecutionResult>, fetchAPI as FetchAPI, pingMs),
        'text/event-stream',
      );
    },
  };
}
