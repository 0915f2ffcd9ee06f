import type { ExecutionResult } from 'graphql';
import type { Plugin } from 'graphql-yoga';

/**
 * Results handed as they are to a transport inside this process (the WebSocket), instead of
 * encoded as an event stream that the transport would parse again.
 *
 * A WebSocket operation goes through the one door as a request like any other (every guard, limit
 * and budget applies), and asks for `text/event-stream`. For a request that the transport marked
 * (`directRequest`), the processor Yoga chose for it is replaced, at the very end, by one that hands
 * over the result as Yoga would have encoded it: each event is serialised once, into the message the
 * socket sends, with no SSE text, no byte stream and no second JSON parse in between. Nothing outside
 * this process can mark a request: the mark is the Request object itself.
 */

/** A result of a marked request: one ExecutionResult, or an event per item. */
export type DirectResult = ExecutionResult | AsyncIterable<ExecutionResult>;

/** The content type of the placeholder answer a marked request gets (never sent over a socket). */
export const DIRECT_CONTENT_TYPE = 'application/x-gateway-direct';

const sinks = new WeakMap<Request, { result?: DirectResult }>();

/** Marks `request`: its result is kept for `take`, and its answer is an empty placeholder. */
export function directRequest(request: Request): { take(): DirectResult | undefined } {
  const sink: { result?: DirectResult } = {};
  sinks.set(request, sink);
  return {
    take() {
      const { result } = sink;
      sink.result = undefined;
      return result;
    },
  };
}

/**
 * Registered last: replaces the processor a marked request was given (only if it was given one; a
 * request Yoga could not answer keeps its 406).
 */
export function useDirectResults(): Plugin {
  return {
    onResultProcess({ request, resultProcessor, setResultProcessor }) {
      const sink = sinks.get(request);
      if (!sink || !resultProcessor) return;
      setResultProcessor((result, fetchAPI) => {
        sink.result = result as DirectResult;
        return new fetchAPI.Response(null, { status: 200, headers: { 'content-type': DIRECT_CONTENT_TYPE } });
      }, DIRECT_CONTENT_TYPE);
    },
  };
}

const texts = new WeakMap<ExecutionResult, string>();

/** `extensions` without the keys named, or undefined when nothing is left. */
function without(extensions: Record<string, unknown> | undefined, internal: string[]) {
  if (!extensions) return undefined;
  const rest = { ...extensions };
  for (const key of internal) delete rest[key];
  return Object.keys(rest).length > 0 ? rest : undefined;
}

/**
 * One result as Yoga writes it on the wire: the same JSON, without the extensions only the server
 * uses (`http` on the result and its errors, `unexpected` on errors).
 */
export function resultJson(result: ExecutionResult): string {
  if (!result.errors?.length && !(result.extensions as { http?: unknown } | undefined)?.http) {
    // An event's result shared by many subscriptions (shared-event-results.ts) is serialised once.
    let text = texts.get(result);
    if (text === undefined) {
      text = JSON.stringify(result);
      texts.set(result, text);
    }
    return text;
  }
  const errors = result.errors?.map((error) => {
    const json = (typeof error.toJSON === 'function' ? error.toJSON() : error) as {
      extensions?: Record<string, unknown>;
    };
    return { ...json, extensions: without(json.extensions, ['http', 'unexpected']) };
  });
  return JSON.stringify({
    ...result,
    errors,
    extensions: without(result.extensions as Record<string, unknown> | undefined, ['http']),
  });
}
