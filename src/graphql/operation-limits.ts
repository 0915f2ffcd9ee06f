import { maxAliasesPlugin } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthPlugin } from '@escape.tech/graphql-armor-max-depth';
import { maxDirectivesPlugin } from '@escape.tech/graphql-armor-max-directives';
import { maxTokensPlugin } from '@escape.tech/graphql-armor-max-tokens';
import {
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  GraphQLError,
  Kind,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type ValueNode,
} from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { Limits } from '../config/config.ts';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from '../domain/message-pagination.ts';
import { MAX_IDS_PER_FIELD } from '../domain/thread-rules.ts';
import { ErrorCode, GatewayError } from '../errors.ts';
import { pickOperation, variablesWithDefaults } from './operation-values.ts';

/**
 * Limits on the operation itself, chosen for this schema: it is shallow, and what costs is the
 * number of upstream calls, which aliases and id lists multiply.
 */
export function operationLimitPlugins(limits: Limits): Plugin[] {
  const reject = (code: string) => ({
    propagateOnRejection: false,
    onReject: [
      (context: unknown, error: GraphQLError) => {
        const coded = new GraphQLError(error.message.replace(/^Syntax Error: /, ''), {
          nodes: error.nodes,
          extensions: { code },
        });
        // Validation rules report through their context; the token limit runs in the parser and throws.
        if (context && typeof (context as { reportError?: unknown }).reportError === 'function') {
          (context as { reportError(error: GraphQLError): void }).reportError(coded);
        } else {
          throw coded;
        }
      },
    ],
  });
  return [
    maxTokensPlugin({ n: limits.tokens, ...reject('QUERY_TOO_LARGE') }) as Plugin,
    maxAliasesPlugin({ n: limits.aliases, ...reject('TOO_MANY_ALIASES') }) as Plugin,
    maxDepthPlugin({ n: limits.depth, ...reject('QUERY_TOO_DEEP') }) as Plugin,
    maxDirectivesPlugin({ n: limits.directives, ...reject('TOO_MANY_DIRECTIVES') }) as Plugin,
    useUpstreamCallEstimate(limits.upstreamCalls),
  ];
}

/** Root fields that read threads by id, and the argument that holds the id or ids. */
const READ_FIELDS: Record<string, { arg: string; list: boolean }> = {
  thread: { arg: 'id', list: false },
  node: { arg: 'id', list: false },
  threads: { arg: 'ids', list: true },
  nodes: { arg: 'ids', list: true },
  _entities: { arg: 'representations', list: true },
};

/** Mutations whose answer is a thread: a `messages` connection below them reads that thread. */
const THREAD_WRITES = new Set(['createThread', 'updateThread']);

/** Mutations that read the run first (its state decides whether they may be sent): two calls. */
const READ_THEN_WRITE = new Set(['submitToolOutputs', 'cancelRun']);

/** Root reads of one object or one page that are not threads: one call each. */
const SINGLE_READS = new Set(['run', 'assistant', 'assistants']);

function argumentValue(node: ValueNode, variables: Record<string, unknown>): unknown {
  switch (node.kind) {
    case Kind.VARIABLE:
      return variables[node.name.value];
    case Kind.LIST:
      return node.values.map((value) => argumentValue(value, variables));
    case Kind.OBJECT:
      return Object.fromEntries(node.fields.map((field) => [field.name.value, argumentValue(field.value, variables)]));
    case Kind.NULL:
      return null;
    case Kind.INT:
    case Kind.FLOAT:
    case Kind.STRING:
    case Kind.ENUM:
    case Kind.BOOLEAN:
      return node.value;
  }
}

function idKey(value: unknown): string {
  if (value && typeof value === 'object') return JSON.stringify((value as { id?: unknown }).id ?? value);
  return String(value);
}

function argument(field: FieldNode, name: string, variables: Record<string, unknown>): unknown {
  const arg = field.arguments?.find((candidate) => candidate.name.value === name);
  return arg ? argumentValue(arg.value, variables) : undefined;
}

/** How many messages a connection's page may hold (its `first` or `last`), at most 100. */
function pageSize(field: FieldNode, variables: Record<string, unknown>): number {
  const count = Number(argument(field, 'first', variables) ?? argument(field, 'last', variables) ?? DEFAULT_PAGE_SIZE);
  return Number.isInteger(count) && count >= 1 ? Math.min(count, MAX_PAGE_SIZE) : MAX_PAGE_SIZE;
}

/**
 * Upstream calls an operation will make at most, from the document and its variables: one per
 * distinct thread id read (the loader dedupes them), one per distinct message read, one per
 * mutation field, and one list call per `messages` connection multiplied by the lists it sits
 * under (`threads(ids: [100 ids]) { messages }` is 100 GETs and 100 lists).
 */
export function estimateUpstreamCalls(
  operation: OperationDefinitionNode,
  fragments: Record<string, FragmentDefinitionNode>,
  variables: Record<string, unknown>,
): { calls: number; longest: { field: string; count: number } | undefined } {
  const ids = new Set<string>();
  const messageReads = new Set<string>();
  let calls = 0;
  let longest: { field: string; count: number } | undefined;

  // Below the root, calls grow linearly with how many objects a selection runs for, so each
  // fragment's cost per object is computed once (a fragment spread many times costs no more work).
  const fragmentCost = new Map<string, number>();
  const nestedCost = (selectionSet: SelectionSetNode, threadKnown: boolean): number => {
    let cost = 0;
    for (const selection of selectionSet.selections) {
      if (selection.kind === Kind.INLINE_FRAGMENT) {
        cost += nestedCost(selection.selectionSet, threadKnown);
      } else if (selection.kind === Kind.FRAGMENT_SPREAD) {
        const name = selection.name.value;
        const memo = `${name}\u0000${threadKnown}`;
        let known = fragmentCost.get(memo);
        if (known === undefined) {
          fragmentCost.set(memo, 0); // validation has refused cycles; this only guards the walk
          const fragment = fragments[name];
          known = fragment ? nestedCost(fragment.selectionSet, threadKnown) : 0;
          fragmentCost.set(memo, known);
        }
        cost += known;
      } else if (selection.selectionSet) {
        const name = selection.name.value;
        if (name === 'messages' || name === 'runs') {
          // One list call, then everything below runs once per message (or run) of the page.
          // A Run's `messages` has no `first`: the default page size stands for the few a run writes.
          cost += 1 + pageSize(selection, variables) * nestedCost(selection.selectionSet, true);
        } else if (name === 'thread') {
          // A message's thread: the thread the connection sits under is loaded already.
          cost += (threadKnown ? 0 : 1) + nestedCost(selection.selectionSet, true);
        } else {
          cost += nestedCost(selection.selectionSet, threadKnown);
        }
      }
    }
    return cost;
  };

  const seenFragments = new Set<string>();
  const visitRoot = (selectionSet: SelectionSetNode): void => {
    for (const selection of selectionSet.selections) {
      if (selection.kind === Kind.FIELD) countRootField(selection);
      else if (selection.kind === Kind.INLINE_FRAGMENT) visitRoot(selection.selectionSet);
      else if (!seenFragments.has(selection.name.value)) {
        seenFragments.add(selection.name.value);
        const fragment = fragments[selection.name.value];
        if (fragment) visitRoot(fragment.selectionSet);
      }
    }
  };
  const countRootField = (field: FieldNode): void => {
    const name = field.name.value;
    const below = field.selectionSet;
    if (operation.operation === 'mutation') {
      calls += READ_THEN_WRITE.has(name) ? 2 : 1;
      if (below) calls += nestedCost(below, THREAD_WRITES.has(name));
      return;
    }
    if (name === 'message') {
      const threadId = idKey(argument(field, 'threadId', variables));
      messageReads.add(`${threadId}\u0000${idKey(argument(field, 'id', variables))}`);
      if (below) {
        // The message's thread is the one named by threadId: one more distinct id, not a call per use.
        if (below.selections.some((selection) => selection.kind !== Kind.FIELD || selection.name.value === 'thread')) {
          ids.add(threadId);
        }
        calls += nestedCost(below, true);
      }
      return;
    }
    if (SINGLE_READS.has(name)) {
      calls += 1 + (below ? nestedCost(below, false) : 0);
      return;
    }
    const read = READ_FIELDS[name];
    if (!read) return;
    const value = argument(field, read.arg, variables);
    if (value === undefined) return;
    const list = read.list && Array.isArray(value) ? value : [value];
    if (read.list && (!longest || list.length > longest.count)) longest = { field: name, count: list.length };
    for (const id of list) ids.add(idKey(id));
    if (below) calls += list.length * nestedCost(below, true);
  };
  visitRoot(operation.selectionSet);
  return { calls: calls + ids.size + messageReads.size, longest };
}

function useUpstreamCallEstimate(maxCalls: number): Plugin {
  return {
    onExecute({ args, setResultAndStopExecution }) {
      const document = args.document as DocumentNode;
      const operation = pickOperation(document, args.operationName ?? undefined);
      if (!operation) return;
      const fragments: Record<string, FragmentDefinitionNode> = {};
      for (const definition of document.definitions) {
        if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments[definition.name.value] = definition;
      }
      const { calls, longest } = estimateUpstreamCalls(
        operation,
        fragments,
        variablesWithDefaults(operation, (args.variableValues ?? {}) as Record<string, unknown>),
      );
      if (longest && longest.count > MAX_IDS_PER_FIELD) {
        const argument = READ_FIELDS[longest.field]?.arg ?? 'ids';
        setResultAndStopExecution({
          errors: [
            new GraphQLError(
              `${longest.field}(${argument}:) takes at most ${MAX_IDS_PER_FIELD} entries, got ${longest.count}.`,
              { extensions: { code: ErrorCode.BAD_USER_INPUT, argument } },
            ),
          ],
        });
        return;
      }
      if (calls > maxCalls) {
        const refusal = new GatewayError(
          ErrorCode.UPSTREAM_CALL_LIMIT,
          `This operation needs about ${calls} upstream calls, more than the ${maxCalls} one request may make (MAX_UPSTREAM_CALLS); split it.`,
          { extensions: { limit: maxCalls, requested: calls } },
        );
        setResultAndStopExecution({
          errors: [new GraphQLError(refusal.message, { extensions: { ...refusal.extensions } })],
        });
      }
    },
  };
}
