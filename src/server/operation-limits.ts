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
import type { Limits } from '../config.ts';
import { MAX_IDS_PER_FIELD } from '../domain/thread-rules.ts';
import { ErrorCode, GatewayError } from '../errors.ts';

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

/**
 * Upstream calls an operation will make at most, from the document and its variables: one per
 * distinct id read (the loader dedupes them) plus one per mutation field.
 */
export function estimateUpstreamCalls(
  operation: OperationDefinitionNode,
  fragments: Record<string, FragmentDefinitionNode>,
  variables: Record<string, unknown>,
): { calls: number; longest: { field: string; count: number } | undefined } {
  const ids = new Set<string>();
  let writes = 0;
  let longest: { field: string; count: number } | undefined;
  const seenFragments = new Set<string>();
  const visit = (selectionSet: SelectionSetNode): void => {
    for (const selection of selectionSet.selections) {
      if (selection.kind === Kind.FIELD) countField(selection);
      else if (selection.kind === Kind.INLINE_FRAGMENT) visit(selection.selectionSet);
      else if (!seenFragments.has(selection.name.value)) {
        seenFragments.add(selection.name.value);
        const fragment = fragments[selection.name.value];
        if (fragment) visit(fragment.selectionSet);
      }
    }
  };
  const countField = (field: FieldNode): void => {
    if (operation.operation === 'mutation') {
      writes++;
      return;
    }
    const read = READ_FIELDS[field.name.value];
    if (!read) return;
    const arg = field.arguments?.find((argument) => argument.name.value === read.arg);
    if (!arg) return;
    const value = argumentValue(arg.value, variables);
    const list = read.list && Array.isArray(value) ? value : [value];
    if (read.list && (!longest || list.length > longest.count))
      longest = { field: field.name.value, count: list.length };
    for (const id of list) ids.add(idKey(id));
  };
  visit(operation.selectionSet);
  return { calls: ids.size + writes, longest };
}

function useUpstreamCallEstimate(maxCalls: number): Plugin {
  return {
    onExecute({ args, setResultAndStopExecution }) {
      const document = args.document as DocumentNode;
      const operations = document.definitions.filter(
        (definition): definition is OperationDefinitionNode => definition.kind === Kind.OPERATION_DEFINITION,
      );
      const operation = args.operationName
        ? operations.find((candidate: OperationDefinitionNode) => candidate.name?.value === args.operationName)
        : operations[0];
      if (!operation) return;
      const fragments: Record<string, FragmentDefinitionNode> = {};
      for (const definition of document.definitions) {
        if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments[definition.name.value] = definition;
      }
      const { calls, longest } = estimateUpstreamCalls(
        operation,
        fragments,
        (args.variableValues ?? {}) as Record<string, unknown>,
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
