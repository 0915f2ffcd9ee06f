import {
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLField,
  type GraphQLNamedType,
  type GraphQLObjectType,
  type GraphQLSchema,
  getNamedType,
  getNullableType,
  isAbstractType,
  isInterfaceType,
  isListType,
  isObjectType,
  Kind,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type ValueNode,
} from 'graphql';
import type { FieldCost, SizeFromArgs } from './field-cost.ts';
import { introspectionCost, introspectionRoot } from './introspection-cost.ts';

export interface OperationEstimate {
  /** Upstream calls the operation will make at most. */
  calls: number;
  /** Fields its answer will hold at most. */
  resultNodes: number;
  /** The longest id list (`listSize: { idsArg }`), to refuse one over MAX_IDS_PER_FIELD by name. */
  longest: { field: string; argument: string; count: number } | undefined;
  /** The variables the estimate read: the document fixes them, so equal values give an equal estimate. */
  variablesRead: readonly string[];
}

/** What a selection costs, per object it runs for or in all. */
interface Cost {
  /** Upstream calls, besides the operation-wide batches. */
  calls: number;
  /** Fields the answer will hold (its keys, each list's entries counted at the list's bound). */
  nodes: number;
}

/** Where a selection sits. */
interface Place {
  /** Entities loaded above it (`loads`), sorted: a field `unlessLoaded` one of them makes no call. */
  loaded: readonly string[];
  /** Set only on a connection's own selection: the entries of its `listSize: 'page'` lists. */
  page: number | undefined;
}

const ROOT: Place = { loaded: [], page: undefined };

/** A list that declares no `listSize` counts as this many entries (the test of the schema's costs finds none). */
const UNKNOWN_LIST_BOUND = 100;

function idKey(value: unknown): string {
  if (value && typeof value === 'object') return JSON.stringify((value as { id?: unknown }).id ?? value);
  return String(value);
}

function withLoaded(loaded: readonly string[], entity: string | undefined): readonly string[] {
  if (entity === undefined || loaded.includes(entity)) return loaded;
  return [...loaded, entity].sort();
}

/**
 * One walk of the document and its variables, before execution, for every limit on what an
 * operation will do. It knows no field names: each field's cost is declared on the field
 * (`extensions.cost`, see FieldCost).
 *
 * Upstream calls: each field's `upstreamCalls` per object it runs for (a list's entries multiply
 * what runs below them: `threads(ids: [100 ids]) { messages }` is 100 list calls), plus one per
 * distinct key of each loader batch (`thread(id)` read ten times is one GET).
 *
 * Result nodes: every field of the answer, each list's entries counted at its `listSize`. The
 * loaders answer every repeat of a page from one call, so a page nested under each message of a
 * page costs two calls and still builds 100 × 100 messages: only this count sees that. A selection
 * on a union or interface costs what its costliest member type selects.
 */
class OperationWalk {
  private readonly batches = new Map<string, Set<string>>();
  private readonly variablesRead = new Set<string>();
  private longest: OperationEstimate['longest'];
  // Below the root, cost grows linearly with how many objects a selection runs for, so each
  // fragment's cost per object is computed once (a fragment spread many times costs no more work).
  private readonly fragmentCosts = new Map<string, Cost>();

  constructor(
    private readonly schema: GraphQLSchema,
    private readonly fragments: Record<string, FragmentDefinitionNode>,
    private readonly variables: Record<string, unknown>,
    /** Counting introspection stops once past this (its nesting is not bounded by the depth limit). */
    private readonly maxNodes: number,
  ) {}

  estimate(operation: OperationDefinitionNode): OperationEstimate {
    const rootType =
      operation.operation === 'mutation'
        ? this.schema.getMutationType()
        : operation.operation === 'subscription'
          ? this.schema.getSubscriptionType()
          : this.schema.getQueryType();
    const root = rootType ? this.rootCost(operation.selectionSet, rootType, new Set()) : { calls: 0, nodes: 0 };
    let batched = 0;
    for (const keys of this.batches.values()) batched += keys.size;
    return {
      calls: root.calls + batched,
      resultNodes: root.nodes,
      longest: this.longest,
      variablesRead: [...this.variablesRead],
    };
  }

  /** Root fields run once each: a named fragment spread twice at the root is counted once. */
  private rootCost(selectionSet: SelectionSetNode, rootType: GraphQLObjectType, seen: Set<string>): Cost {
    const cost: Cost = { calls: 0, nodes: 0 };
    for (const selection of selectionSet.selections) {
      let more: Cost | undefined;
      if (selection.kind === Kind.FIELD) more = this.fieldCost(selection, rootType, ROOT);
      else if (selection.kind === Kind.INLINE_FRAGMENT) more = this.rootCost(selection.selectionSet, rootType, seen);
      else if (!seen.has(selection.name.value)) {
        seen.add(selection.name.value);
        const fragment = this.fragments[selection.name.value];
        if (fragment) more = this.rootCost(fragment.selectionSet, rootType, seen);
      }
      cost.calls += more?.calls ?? 0;
      cost.nodes += more?.nodes ?? 0;
    }
    return cost;
  }

  private argument(field: FieldNode, name: string): unknown {
    const arg = field.arguments?.find((candidate) => candidate.name.value === name);
    return arg ? this.value(arg.value) : undefined;
  }

  private value(node: ValueNode): unknown {
    switch (node.kind) {
      case Kind.VARIABLE:
        this.variablesRead.add(node.name.value);
        return this.variables[node.name.value];
      case Kind.LIST:
        return node.values.map((value) => this.value(value));
      case Kind.OBJECT:
        return Object.fromEntries(node.fields.map((field) => [field.name.value, this.value(field.value)]));
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

  private idList(field: FieldNode, name: string): unknown[] {
    const value = this.argument(field, name);
    return value === undefined ? [] : Array.isArray(value) ? value : [value];
  }

  private sizeFromArgs(field: FieldNode, size: SizeFromArgs): number {
    // Every argument is read, given or not, so the variables read do not depend on their values.
    const given = size.fromArgs.map((name) => this.argument(field, name)).find((value) => value != null);
    const count = Number(given ?? size.default);
    return Number.isInteger(count) && count >= 1 ? Math.min(count, size.max) : size.max;
  }

  /** Whether a fragment with this type condition applies to an object of `type`. */
  private applies(condition: string | undefined, type: GraphQLNamedType | undefined): boolean {
    if (!condition || !type || condition === type.name) return true;
    const conditionType = this.schema.getType(condition);
    return (
      conditionType !== undefined &&
      isAbstractType(conditionType) &&
      isObjectType(type) &&
      this.schema.isSubType(conditionType, type)
    );
  }

  private selectionCost(selectionSet: SelectionSetNode, type: GraphQLNamedType | undefined, place: Place): Cost {
    const cost: Cost = { calls: 0, nodes: 0 };
    for (const selection of selectionSet.selections) {
      let more: Cost | undefined;
      if (selection.kind === Kind.INLINE_FRAGMENT) {
        if (this.applies(selection.typeCondition?.name.value, type))
          more = this.selectionCost(selection.selectionSet, type, place);
      } else if (selection.kind === Kind.FRAGMENT_SPREAD) {
        more = this.fragmentCost(selection.name.value, type, place);
      } else {
        more = this.fieldCost(selection, type, place);
      }
      cost.calls += more?.calls ?? 0;
      cost.nodes += more?.nodes ?? 0;
    }
    return cost;
  }

  private fragmentCost(name: string, type: GraphQLNamedType | undefined, place: Place): Cost | undefined {
    const fragment = this.fragments[name];
    if (!fragment || !this.applies(fragment.typeCondition.name.value, type)) return undefined;
    const memo = `${name}\u0000${type?.name}\u0000${place.loaded.join(',')}\u0000${place.page}`;
    let known = this.fragmentCosts.get(memo);
    if (known === undefined) {
      this.fragmentCosts.set(memo, { calls: 0, nodes: 0 }); // validation has refused cycles; this only guards the walk
      known = this.selectionCost(fragment.selectionSet, type, place);
      this.fragmentCosts.set(memo, known);
    }
    return known;
  }

  /** Per object of `type`: an abstract type costs what its costliest member selects. */
  private objectCost(selectionSet: SelectionSetNode, type: GraphQLNamedType, place: Place): Cost {
    if (!isAbstractType(type)) return this.selectionCost(selectionSet, type, place);
    const worst: Cost = { calls: 0, nodes: 0 };
    for (const member of this.schema.getPossibleTypes(type)) {
      const cost = this.selectionCost(selectionSet, member, place);
      worst.calls = Math.max(worst.calls, cost.calls);
      worst.nodes = Math.max(worst.nodes, cost.nodes);
    }
    return worst;
  }

  private fieldCost(field: FieldNode, parent: GraphQLNamedType | undefined, place: Place): Cost {
    const name = field.name.value;
    const below = field.selectionSet;
    if (below && (name === '__schema' || name === '__type')) {
      const object = introspectionRoot(this.schema, name, this.argument(field, 'name'));
      const count = object ? introspectionCost(below, object, this.schema, this.fragments, this.maxNodes) : 0;
      return { calls: 0, nodes: 1 + count };
    }
    const definition =
      parent && (isObjectType(parent) || isInterfaceType(parent)) ? parent.getFields()[name] : undefined;
    const cost = definition?.extensions.cost;
    const entries = this.entries(field, definition, cost, place);
    const calls = this.ownCalls(field, cost, place) + (this.readsEach(field, cost) ? entries : 0);
    if (!below || !definition) return { calls, nodes: entries };
    const type = getNamedType(definition.type);
    const inner = this.objectCost(below, type, {
      loaded: withLoaded(
        withLoaded(withLoaded(place.loaded, cost?.loads), this.namedEntity(field, cost, type)),
        cost?.readsEach?.entity,
      ),
      page: cost?.page ? this.sizeFromArgs(field, cost.page) : undefined,
    });
    return { calls: calls + entries * inner.calls, nodes: 1 + entries * inner.nodes };
  }

  /** How many entries the field's answer holds: 1 unless it is a list. */
  private entries(
    field: FieldNode,
    definition: GraphQLField<unknown, unknown> | undefined,
    cost: FieldCost | undefined,
    place: Place,
  ): number {
    const size = cost?.listSize;
    if (size === undefined) return definition && isListType(getNullableType(definition.type)) ? UNKNOWN_LIST_BOUND : 1;
    if (size === 'page') return place.page ?? UNKNOWN_LIST_BOUND;
    if (typeof size === 'number') return size;
    if ('fromArgs' in size) return this.sizeFromArgs(field, size);
    const count = this.idList(field, size.idsArg).length;
    if (!this.longest || count > this.longest.count) {
      this.longest = { field: field.name.value, argument: size.idsArg, count };
    }
    return count;
  }

  /** The field's own calls per object it runs for; its batched reads join the operation's batches. */
  private ownCalls(field: FieldNode, cost: FieldCost | undefined, place: Place): number {
    if (!cost) return 0;
    const batched = cost.batched;
    if (batched) {
      const keys =
        'idsArg' in batched
          ? this.idList(field, batched.idsArg).map(idKey)
          : [batched.keyArgs.map((name) => this.argument(field, name))]
              .filter((values) => values.some((value) => value !== undefined))
              .map((values) => values.map(idKey).join('\u0000'));
      for (const key of keys) this.batch(batched.loader).add(key);
    }
    return cost.unlessLoaded !== undefined && place.loaded.includes(cost.unlessLoaded) ? 0 : (cost.upstreamCalls ?? 0);
  }

  /** `readsEach`: whether the selection asks for more than the free fields (a fragment may). */
  private readsEach(field: FieldNode, cost: FieldCost | undefined): boolean {
    const free = cost?.readsEach?.free;
    if (!free || !field.selectionSet) return false;
    return field.selectionSet.selections.some(
      (selection) => selection.kind !== Kind.FIELD || !free.includes(selection.name.value),
    );
  }

  /**
   * `namesByArg`: the entity named by an argument is loaded below the field, one more key of its
   * loader when the selection may read it (a field `unlessLoaded` it, or a fragment).
   */
  private namedEntity(field: FieldNode, cost: FieldCost | undefined, type: GraphQLNamedType): string | undefined {
    const named = cost?.namesByArg;
    if (!named) return undefined;
    const fields = isObjectType(type) || isInterfaceType(type) ? type.getFields() : {};
    const reads = field.selectionSet?.selections.some(
      (selection) =>
        selection.kind !== Kind.FIELD || fields[selection.name.value]?.extensions.cost?.unlessLoaded === named.entity,
    );
    if (reads) this.batch(named.loader).add(idKey(this.argument(field, named.arg)));
    return named.entity;
  }

  private batch(loader: string): Set<string> {
    let keys = this.batches.get(loader);
    if (!keys) {
      keys = new Set();
      this.batches.set(loader, keys);
    }
    return keys;
  }
}

/** What an operation will do, from its document, variables (defaults applied) and the schema's field costs. */
export function estimateOperation(
  operation: OperationDefinitionNode,
  fragments: Record<string, FragmentDefinitionNode>,
  variables: Record<string, unknown>,
  schema: GraphQLSchema,
  maxNodes = Number.POSITIVE_INFINITY,
): OperationEstimate {
  return new OperationWalk(schema, fragments, variables, maxNodes).estimate(operation);
}

/** Estimates kept at most per operation of a document, one per set of values of the variables read. */
const ESTIMATES_PER_OPERATION = 32;

interface KnownOperation {
  schema: GraphQLSchema;
  fragments: Record<string, FragmentDefinitionNode>;
  /** The variables the walk reads; undefined until it has run once. */
  variablesRead: readonly string[] | undefined;
  /** Estimates by the values of those variables. */
  estimates: Map<string, OperationEstimate>;
}

/**
 * Estimates remembered per document: Yoga's parser cache hands repeats of a query the same
 * DocumentNode, so a repeat walks nothing. What the walk reads of the variables is fixed by the
 * document, so an estimate is kept by the values of those alone (none for most operations).
 */
export class OperationEstimates {
  private readonly documents = new WeakMap<DocumentNode, Map<OperationDefinitionNode, KnownOperation>>();

  constructor(private readonly maxNodes: number) {}

  estimate(
    document: DocumentNode,
    operation: OperationDefinitionNode,
    variables: Record<string, unknown>,
    schema: GraphQLSchema,
  ): OperationEstimate {
    let operations = this.documents.get(document);
    if (!operations) {
      operations = new Map();
      this.documents.set(document, operations);
    }
    let known = operations.get(operation);
    if (!known || known.schema !== schema) {
      known = { schema, fragments: fragmentsOf(document), variablesRead: undefined, estimates: new Map() };
      operations.set(operation, known);
    }
    const cached = known.variablesRead && known.estimates.get(valuesKey(known.variablesRead, variables));
    if (cached) return cached;
    const estimate = estimateOperation(operation, known.fragments, variables, schema, this.maxNodes);
    known.variablesRead = estimate.variablesRead;
    if (known.estimates.size >= ESTIMATES_PER_OPERATION) known.estimates.clear();
    known.estimates.set(valuesKey(estimate.variablesRead, variables), estimate);
    return estimate;
  }
}

export function fragmentsOf(document: DocumentNode): Record<string, FragmentDefinitionNode> {
  const fragments: Record<string, FragmentDefinitionNode> = {};
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments[definition.name.value] = definition;
  }
  return fragments;
}

/** The values of these variables as one string; a variable left out differs from one sent as null. */
function valuesKey(names: readonly string[], variables: Record<string, unknown>): string {
  return JSON.stringify(names.map((name) => (variables[name] === undefined ? [] : [variables[name]])));
}
