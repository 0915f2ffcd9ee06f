import { maxAliasesPlugin } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthPlugin } from '@escape.tech/graphql-armor-max-depth';
import { maxDirectivesPlugin } from '@escape.tech/graphql-armor-max-directives';
import { maxTokensPlugin } from '@escape.tech/graphql-armor-max-tokens';
import {
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLDirective,
  GraphQLError,
  type GraphQLField,
  type GraphQLNamedType,
  GraphQLSchema,
  type GraphQLType,
  getNamedType,
  getNullableType,
  isAbstractType,
  isEnumType,
  isInputObjectType,
  isInterfaceType,
  isListType,
  isNonNullType,
  isObjectType,
  Kind,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type ValueNode,
} from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { Limits } from '../config/config.ts';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from '../domain/message-pagination.ts';
import { MAX_IDS_PER_FIELD, MESSAGE_CONTENT_MAX_PARTS } from '../domain/thread-rules.ts';
import { ErrorCode, GatewayError } from '../errors.ts';
import { pickOperation, variablesWithDefaults } from './operation-values.ts';

/**
 * Limits on the operation itself, chosen for this schema: it is shallow, and what costs is the
 * number of upstream calls and the size of the answer, which aliases, id lists and pages multiply.
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
    useOperationEstimate(limits.upstreamCalls, limits.resultNodes),
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

/** What an operation will cost, per object a selection runs for or in all. */
interface Cost {
  /** Upstream calls. */
  calls: number;
  /** Fields the answer will hold (its keys, each list's entries counted at the list's bound). */
  nodes: number;
}

/** Where a selection sits: whether its thread is loaded, and the page size of the connection it is in. */
interface Place {
  threadKnown: boolean;
  /** Set only on a `messages` connection's own selection, whose `nodes` and `edges` hold one page. */
  page: number | undefined;
}

/** A list the walk has no bound for (none in this schema today) counts as this many entries. */
const UNKNOWN_LIST_BOUND = MAX_PAGE_SIZE;

/** An introspection object as the walk sees it: its type's name and the schema element it describes. */
type Introspected =
  | { kind: '__Schema'; value: GraphQLSchema }
  | { kind: '__Type'; value: GraphQLType }
  | { kind: '__Field'; value: GraphQLField<unknown, unknown> }
  | { kind: '__InputValue'; value: { type: GraphQLType } }
  | { kind: '__Directive'; value: GraphQLDirective }
  | { kind: '__EnumValue'; value: unknown };

/** What an introspection field of `object` holds: one object, a list of them, or a leaf (`undefined`). */
function introspectedField(
  schema: GraphQLSchema,
  object: Introspected,
  name: string,
): Introspected[] | Introspected | null | undefined {
  const { kind, value } = object;
  if (kind === '__Schema') {
    if (name === 'types') return Object.values(value.getTypeMap()).map((type) => ({ kind: '__Type', value: type }));
    if (name === 'directives')
      return value.getDirectives().map((directive) => ({ kind: '__Directive', value: directive }));
    const root =
      name === 'queryType'
        ? value.getQueryType()
        : name === 'mutationType'
          ? value.getMutationType()
          : name === 'subscriptionType'
            ? value.getSubscriptionType()
            : undefined;
    return root ? { kind: '__Type', value: root } : null;
  }
  if (kind === '__Type') {
    const type = value;
    if (name === 'ofType')
      return isListType(type) || isNonNullType(type) ? { kind: '__Type', value: type.ofType } : null;
    if (name === 'fields') {
      if (!isObjectType(type) && !isInterfaceType(type)) return null;
      return Object.values(type.getFields()).map((field) => ({ kind: '__Field', value: field }));
    }
    if (name === 'interfaces') {
      if (!isObjectType(type) && !isInterfaceType(type)) return null;
      return type.getInterfaces().map((face) => ({ kind: '__Type', value: face }));
    }
    if (name === 'possibleTypes') {
      return isAbstractType(type)
        ? schema.getPossibleTypes(type).map((member) => ({ kind: '__Type', value: member }))
        : null;
    }
    if (name === 'enumValues')
      return isEnumType(type) ? type.getValues().map((v) => ({ kind: '__EnumValue', value: v })) : null;
    if (name === 'inputFields') {
      return isInputObjectType(type)
        ? Object.values(type.getFields()).map((field) => ({ kind: '__InputValue', value: field }))
        : null;
    }
    return undefined;
  }
  if (kind === '__Field' || kind === '__InputValue') {
    if (name === 'type') return { kind: '__Type', value: value.type };
    if (name === 'args' && kind === '__Field') return value.args.map((arg) => ({ kind: '__InputValue', value: arg }));
    return undefined;
  }
  if (kind === '__Directive' && name === 'args') return value.args.map((arg) => ({ kind: '__InputValue', value: arg }));
  return undefined;
}

export interface OperationEstimate {
  /** Upstream calls the operation will make at most. */
  calls: number;
  /** Fields its answer will hold at most. */
  resultNodes: number;
  /** The longest id list of a root read, to refuse one over MAX_IDS_PER_FIELD by name. */
  longest: { field: string; count: number } | undefined;
}

/**
 * One walk of the document and its variables, before execution, for every limit on what an
 * operation will do.
 *
 * Upstream calls: one per distinct thread id read (the loader dedupes them), one per distinct
 * message read, one per mutation field, and one list call per `messages` connection multiplied by
 * the lists it sits under (`threads(ids: [100 ids]) { messages }` is 100 GETs and 100 lists).
 *
 * Result nodes: every field of the answer, each list's entries counted at the bound its arguments
 * give (`first`/`last`, the ids given) or the schema sets (100 content parts). The loaders answer
 * every repeat of a page from one call, so a page nested under each message of a page costs two
 * calls and still builds 100 × 100 messages: only this count sees that. With the schema, a
 * selection on a union or interface costs what its costliest member type selects; without it,
 * every fragment counts.
 */
export function estimateOperation(
  operation: OperationDefinitionNode,
  fragments: Record<string, FragmentDefinitionNode>,
  variables: Record<string, unknown>,
  schema?: GraphQLSchema,
  /** Counting introspection stops once past this (its nesting is not bounded by the depth limit). */
  maxNodes = Number.POSITIVE_INFINITY,
): OperationEstimate {
  const ids = new Set<string>();
  const messageReads = new Set<string>();
  let calls = 0;
  let nodes = 0;
  let longest: { field: string; count: number } | undefined;

  /** Whether a fragment with this type condition applies to an object of `type`. */
  const applies = (condition: string | undefined, type: GraphQLNamedType | undefined): boolean => {
    if (!condition || !schema || !type || condition === type.name) return true;
    const conditionType = schema.getType(condition);
    return (
      conditionType !== undefined &&
      isAbstractType(conditionType) &&
      isObjectType(type) &&
      schema.isSubType(conditionType, type)
    );
  };

  // Below the root, cost grows linearly with how many objects a selection runs for, so each
  // fragment's cost per object is computed once (a fragment spread many times costs no more work).
  const fragmentCost = new Map<string, Cost>();
  const selectionCost = (selectionSet: SelectionSetNode, type: GraphQLNamedType | undefined, place: Place): Cost => {
    const cost: Cost = { calls: 0, nodes: 0 };
    const add = (more: Cost) => {
      cost.calls += more.calls;
      cost.nodes += more.nodes;
    };
    for (const selection of selectionSet.selections) {
      if (selection.kind === Kind.INLINE_FRAGMENT) {
        if (applies(selection.typeCondition?.name.value, type)) add(selectionCost(selection.selectionSet, type, place));
      } else if (selection.kind === Kind.FRAGMENT_SPREAD) {
        const name = selection.name.value;
        const fragment = fragments[name];
        if (!fragment || !applies(fragment.typeCondition.name.value, type)) continue;
        const memo = `${name}\u0000${type?.name}\u0000${place.threadKnown}\u0000${place.page}`;
        let known = fragmentCost.get(memo);
        if (known === undefined) {
          fragmentCost.set(memo, { calls: 0, nodes: 0 }); // validation has refused cycles; this only guards the walk
          known = selectionCost(fragment.selectionSet, type, place);
          fragmentCost.set(memo, known);
        }
        add(known);
      } else {
        add(fieldCost(selection, type, place));
      }
    }
    return cost;
  };

  /** Per object of `type`: an abstract type costs what its costliest member selects. */
  const objectCost = (selectionSet: SelectionSetNode, type: GraphQLNamedType | undefined, place: Place): Cost => {
    if (!schema || !type || !isAbstractType(type)) return selectionCost(selectionSet, type, place);
    const worst: Cost = { calls: 0, nodes: 0 };
    for (const member of schema.getPossibleTypes(type)) {
      const cost = selectionCost(selectionSet, member, place);
      worst.calls = Math.max(worst.calls, cost.calls);
      worst.nodes = Math.max(worst.nodes, cost.nodes);
    }
    return worst;
  };

  /**
   * Introspection's answer is fixed by the schema, so it is counted on the schema itself: every
   * type, field and argument the selection walks. Its nesting is exempt from the depth limit
   * (`fields { type { fields { type … } } }` multiplies at each level), so counting stops once past
   * the limit, and costs no more than that many steps.
   */
  const introspectionCost = (selectionSet: SelectionSetNode, object: Introspected, known: GraphQLSchema): number => {
    let count = 0;
    for (const selection of selectionSet.selections) {
      if (count > maxNodes) break;
      if (selection.kind === Kind.INLINE_FRAGMENT) {
        const condition = selection.typeCondition?.name.value;
        if (!condition || condition === object.kind) count += introspectionCost(selection.selectionSet, object, known);
      } else if (selection.kind === Kind.FRAGMENT_SPREAD) {
        const fragment = fragments[selection.name.value];
        if (fragment?.typeCondition.name.value === object.kind) {
          count += introspectionCost(fragment.selectionSet, object, known);
        }
      } else {
        count += 1;
        const below = selection.selectionSet;
        if (!below) {
          if (object.kind === '__Directive' && selection.name.value === 'locations')
            count += object.value.locations.length;
          continue;
        }
        const held = introspectedField(known, object, selection.name.value);
        for (const item of Array.isArray(held) ? held : held ? [held] : []) {
          count += introspectionCost(below, item, known);
          if (count > maxNodes) break;
        }
      }
    }
    return count;
  };

  const fieldCost = (field: FieldNode, parent: GraphQLNamedType | undefined, place: Place): Cost => {
    const name = field.name.value;
    if (schema && field.selectionSet && (name === '__schema' || name === '__type')) {
      const described = name === '__schema' ? schema : schema.getType(String(argument(field, 'name', variables)));
      const object: Introspected | undefined =
        described instanceof GraphQLSchema
          ? { kind: '__Schema', value: described }
          : described
            ? { kind: '__Type', value: described }
            : undefined;
      return { calls: 0, nodes: 1 + (object ? introspectionCost(field.selectionSet, object, schema) : 0) };
    }
    const definition =
      parent && (isObjectType(parent) || isInterfaceType(parent)) ? parent.getFields()[name] : undefined;
    const type = definition ? getNullableType(definition.type) : undefined;
    const named = definition ? getNamedType(definition.type) : undefined;
    let entries = 1;
    if (place.page !== undefined && (name === 'nodes' || name === 'edges')) entries = place.page;
    else if (name === 'content') entries = MESSAGE_CONTENT_MAX_PARTS;
    else if (type && isListType(type)) {
      entries = UNKNOWN_LIST_BOUND;
    }
    const below = field.selectionSet;
    if (!below) return { calls: 0, nodes: entries };
    let cost: Cost;
    if (name === 'messages') {
      // One list call, then everything below runs once per message of the page.
      const inner = objectCost(below, named, { threadKnown: true, page: pageSize(field, variables) });
      cost = { calls: 1 + inner.calls, nodes: inner.nodes };
    } else if (name === 'thread') {
      // A message's thread: the thread the connection sits under is loaded already.
      const inner = objectCost(below, named, { threadKnown: true, page: undefined });
      cost = { calls: (place.threadKnown ? 0 : 1) + inner.calls, nodes: inner.nodes };
    } else {
      cost = objectCost(below, named, { threadKnown: place.threadKnown, page: undefined });
    }
    return { calls: entries * cost.calls, nodes: 1 + entries * cost.nodes };
  };

  const rootType =
    operation.operation === 'mutation'
      ? schema?.getMutationType()
      : operation.operation === 'subscription'
        ? schema?.getSubscriptionType()
        : schema?.getQueryType();
  const rootField = (field: FieldNode): GraphQLNamedType | undefined => {
    const definition = rootType?.getFields()[field.name.value];
    return definition ? getNamedType(definition.type) : undefined;
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
    const type = rootField(field);
    if (operation.operation === 'mutation') {
      const inner = below
        ? objectCost(below, type, { threadKnown: THREAD_WRITES.has(name), page: undefined })
        : undefined;
      calls += 1 + (inner?.calls ?? 0);
      nodes += 1 + (inner?.nodes ?? 0);
      return;
    }
    if (name === 'message') {
      const threadId = idKey(argument(field, 'threadId', variables));
      messageReads.add(`${threadId}\u0000${idKey(argument(field, 'id', variables))}`);
      nodes += 1;
      if (below) {
        // The message's thread is the one named by threadId: one more distinct id, not a call per use.
        if (below.selections.some((selection) => selection.kind !== Kind.FIELD || selection.name.value === 'thread')) {
          ids.add(threadId);
        }
        const inner = objectCost(below, type, { threadKnown: true, page: undefined });
        calls += inner.calls;
        nodes += inner.nodes;
      }
      return;
    }
    const read = READ_FIELDS[name];
    if (!read) {
      // `__typename`, `_service`, introspection: no upstream call, but their answer counts.
      nodes += fieldCost(field, rootType ?? undefined, { threadKnown: false, page: undefined }).nodes;
      return;
    }
    const value = argument(field, read.arg, variables);
    const list = value === undefined ? [] : read.list && Array.isArray(value) ? value : [value];
    if (read.list && (!longest || list.length > longest.count)) longest = { field: name, count: list.length };
    for (const id of list) ids.add(idKey(id));
    nodes += 1;
    if (below) {
      const inner = objectCost(below, type, { threadKnown: true, page: undefined });
      calls += list.length * inner.calls;
      nodes += Math.max(list.length, read.list ? 0 : 1) * inner.nodes;
    }
  };
  visitRoot(operation.selectionSet);
  return { calls: calls + ids.size + messageReads.size, resultNodes: nodes, longest };
}

function refuse(error: GatewayError): { errors: GraphQLError[] } {
  return { errors: [new GraphQLError(error.message, { extensions: { ...error.extensions } })] };
}

function useOperationEstimate(maxCalls: number, maxNodes: number): Plugin {
  return {
    onExecute({ args, setResultAndStopExecution }) {
      const document = args.document as DocumentNode;
      const operation = pickOperation(document, args.operationName ?? undefined);
      if (!operation) return;
      const fragments: Record<string, FragmentDefinitionNode> = {};
      for (const definition of document.definitions) {
        if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments[definition.name.value] = definition;
      }
      const { calls, resultNodes, longest } = estimateOperation(
        operation,
        fragments,
        variablesWithDefaults(operation, (args.variableValues ?? {}) as Record<string, unknown>),
        args.schema,
        maxNodes,
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
        setResultAndStopExecution(
          refuse(
            new GatewayError(
              ErrorCode.UPSTREAM_CALL_LIMIT,
              `This operation needs about ${calls} upstream calls, more than the ${maxCalls} one request may make (MAX_UPSTREAM_CALLS); split it.`,
              { extensions: { limit: maxCalls, requested: calls } },
            ),
          ),
        );
        return;
      }
      if (resultNodes > maxNodes) {
        setResultAndStopExecution(
          refuse(
            new GatewayError(
              ErrorCode.RESULT_TOO_LARGE,
              `This operation's answer may hold about ${resultNodes} fields, more than the ${maxNodes} one answer may hold (MAX_RESULT_NODES): ask for smaller pages, fewer aliases, or no connection under each message of a page.`,
              { extensions: { limit: maxNodes, requested: resultNodes } },
            ),
          ),
        );
      }
    },
  };
}
