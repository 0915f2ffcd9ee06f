import {
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
  /** The variables whose values the estimate read: the document fixes them, so equal values give an equal estimate. */
  variablesRead: readonly string[];
  /**
   * The variables read only as the key of a loader that one field of the document feeds: whatever
   * their values, that loader gets one key, or none when they are all left out. Only whether each
   * is given changes the estimate (`thread(id: $id)`: one read for every id).
   */
  presenceRead: readonly string[];
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
  /** Per loader, the fields that give it keys, each with the variables its key read. */
  private readonly keyFields = new Map<string, Map<FieldNode, Set<string>>>();
  /** Where a variable read is recorded: `variablesRead`, or the key variables of one field. */
  private reading = this.variablesRead;
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
    // A loader fed by two fields or more gets one key or two: the values of their variables count.
    const presenceOnly: string[] = [];
    for (const fields of this.keyFields.values()) {
      for (const read of fields.values()) {
        for (const name of read) {
          if (fields.size > 1) this.variablesRead.add(name);
          else presenceOnly.push(name);
        }
      }
    }
    return {
      calls: root.calls + batched,
      resultNodes: root.nodes,
      longest: this.longest,
      variablesRead: [...this.variablesRead],
      presenceRead: [...new Set(presenceOnly.filter((name) => !this.variablesRead.has(name)))],
    };
  }

  /**
   * Computes the key `field` gives `loader`, recording the variables it reads as that field's. The
   * fields are the document's own nodes, so which fields feed a loader does not depend on values
   * (a fragment walked twice feeds it from the same nodes).
   */
  private keyFrom<T>(loader: string, field: FieldNode, key: () => T): T {
    let fields = this.keyFields.get(loader);
    if (!fields) {
      fields = new Map();
      this.keyFields.set(loader, fields);
    }
    let read = fields.get(field);
    if (!read) {
      read = new Set();
      fields.set(field, read);
    }
    const outer = this.reading;
    this.reading = read;
    try {
      return key();
    } finally {
      this.reading = outer;
    }
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
        this.reading.add(node.name.value);
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
      let keys: string[];
      if ('idsArg' in batched) {
        // A list of keys: its length and its repeats count, so its values are read as values.
        this.keyFrom(batched.loader, field, () => undefined);
        keys = this.idList(field, batched.idsArg).map(idKey);
      } else {
        const values = this.keyFrom(batched.loader, field, () =>
          batched.keyArgs.map((name) => this.argument(field, name)),
        );
        keys = values.some((value) => value !== undefined) ? [values.map(idKey).join('\u0000')] : [];
      }
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
    if (reads) {
      const key = this.keyFrom(named.loader, field, () => idKey(this.argument(field, named.arg)));
      this.batch(named.loader).add(key);
    }
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
