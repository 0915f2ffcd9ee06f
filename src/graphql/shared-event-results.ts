import { buildExecutionContext, execute } from '@graphql-tools/executor';
import { createSourceEventStream, type DocumentNode, type ExecutionArgs, type ExecutionResult } from 'graphql';
import { isAsyncIterable, type Plugin } from 'graphql-yoga';
import type { GatewayContext } from './context.ts';

/**
 * One execution of an event for every subscription that would execute it the same way.
 *
 * A subscription executes its selection once per event it delivers. When many subscriptions watch
 * one thread or one run (a shared chat, a dashboard, many tabs of one user), they are handed the
 * very same event object; those with the same document, variables and caller (id and credential:
 * everything an event's resolvers read with) would each build the same result. Here the first of
 * them executes it and the others are handed that result: fan-out costs one execution per event
 * and distinct subscription, not one per subscriber.
 *
 * A result with errors is never shared (each subscription executes its own: an error may be its
 * own, its budget spent, its client gone). A shared result is never changed after it is built (Yoga
 * writes it, masks errors into new objects, and the WebSocket serialises it).
 */

/** Results kept per event: past this many distinct subscriptions, the others execute their own. */
const MAX_SHARES_PER_EVENT = 32;

const documentIds = new WeakMap<DocumentNode, number>();
let nextDocumentId = 0;

function shareKey(args: ExecutionArgs): string {
  let documentId = documentIds.get(args.document);
  if (documentId === undefined) {
    documentId = nextDocumentId++;
    documentIds.set(args.document, documentId);
  }
  const context = args.contextValue as Partial<GatewayContext> | undefined;
  // The credential is part of the key, kept in memory only: two callers never share a result.
  const caller = `${context?.callerId ?? ''}\u0000${context?.upstream?.session.credential ?? ''}`;
  return `${documentId}\u0000${args.operationName ?? ''}\u0000${caller}\u0000${JSON.stringify(args.variableValues ?? {})}`;
}

/** A result being built for a share key, and the result once built (handed on without a wait). */
interface Share {
  readonly built: Promise<ExecutionResult>;
  result?: ExecutionResult;
}

/** Per event object: the result (being) built for each share key. Gone with the event. */
const sharedByEvent = new WeakMap<object, Map<string, Share>>();

function executeEvent(args: ExecutionArgs, payload: unknown): Promise<ExecutionResult> {
  return Promise.resolve(execute({ ...args, rootValue: payload } as never) as ExecutionResult);
}

/** Told of each event's result: executed for its subscription, or shared from another's. */
export type EventResultObserver = (outcome: 'executed' | 'shared') => void;

/** A shared result with errors is not handed on: the subscription executes its own. */
async function sharedOrOwn(
  share: Share,
  args: ExecutionArgs,
  payload: unknown,
  observe: EventResultObserver,
): Promise<ExecutionResult> {
  const result = await share.built;
  if (!result.errors?.length) {
    observe('shared');
    return result;
  }
  observe('executed');
  return executeEvent(args, payload);
}

function resultFor(
  args: ExecutionArgs,
  key: string,
  payload: unknown,
  observe: EventResultObserver,
): ExecutionResult | Promise<ExecutionResult> {
  if (payload === null || typeof payload !== 'object') {
    observe('executed');
    return executeEvent(args, payload);
  }
  let shares = sharedByEvent.get(payload);
  if (!shares) {
    shares = new Map();
    sharedByEvent.set(payload, shares);
  }
  const share = shares.get(key);
  if (share?.result && !share.result.errors?.length) {
    // Built already (the common case past the first subscriber): handed on at once.
    observe('shared');
    return share.result;
  }
  if (share) return sharedOrOwn(share, args, payload, observe);
  observe('executed');
  const built = executeEvent(args, payload);
  if (shares.size < MAX_SHARES_PER_EVENT) {
    const own: Share = { built };
    // A rejection is the executing subscription's own to handle: here, only a result is kept.
    built.then(
      (result) => {
        own.result = result;
      },
      () => undefined,
    );
    shares.set(key, own);
  }
  return built;
}

/**
 * The subscription's results: its source's events, each executed (or shared). `return()` reaches
 * the source at once, even while it waits for an event (the client went away).
 */
function mapEvents(
  source: AsyncIterable<unknown>,
  args: ExecutionArgs,
  key: string,
  observe: EventResultObserver,
): AsyncIterableIterator<ExecutionResult> {
  const events = source[Symbol.asyncIterator]();
  const done = { done: true as const, value: undefined };
  const iterator: AsyncIterableIterator<ExecutionResult> = {
    [Symbol.asyncIterator]: () => iterator,
    async next() {
      const item = await events.next();
      if (item.done) return done;
      const value = resultFor(args, key, item.value, observe);
      return { done: false, value: value instanceof Promise ? await value : value };
    },
    async return() {
      await events.return?.();
      return done;
    },
    async throw(error) {
      await events.return?.();
      throw error;
    },
  };
  return iterator;
}

export function useSharedEventResults(observe: EventResultObserver): Plugin {
  return {
    onSubscribe({ subscribeFn, setSubscribeFn }) {
      setSubscribeFn(async (args) => {
        // Arguments that do not execute (variables that do not coerce, …) are refused as the engine refuses them.
        if (!('schema' in buildExecutionContext(args as never))) return subscribeFn(args);
        const executionArgs = args as ExecutionArgs;
        const source = await createSourceEventStream(executionArgs);
        if (!isAsyncIterable(source)) return source;
        return mapEvents(source, executionArgs, shareKey(executionArgs), observe);
      });
    },
  };
}
