/**
 * What a field costs, declared on the field itself (`extensions: { cost: … }` in its Pothos
 * options; Pothos hands `extensions` to the GraphQLField, and printing the schema leaves them out)
 * and read by the operation estimate, which knows no field names.
 *
 * Not `@pothos/plugin-complexity`: it scores a field as a number per parent times a list's size,
 * which cannot say what the upstream is charged here: one call per distinct id for the whole
 * operation, because the request's loaders batch and dedupe (`thread(id)` asked ten times is one
 * GET), and no call at all for a thread the operation has loaded already above.
 */
export interface FieldCost {
  /** Upstream calls each time the field resolves, so once per parent object: a write or a list call is 1. Default 0. */
  upstreamCalls?: number;
  /**
   * The field reads through one of the request's loaders: one upstream call per distinct key in
   * the whole operation, however often it is asked for. `loader` names the batch (fields reading
   * through the same loader share their keys); the key is the values of `keyArgs` together, or
   * each entry of the list argument `idsArg`.
   */
  batched?: { loader: string; keyArgs: readonly string[] } | { loader: string; idsArg: string };
  /** How many entries the field's list holds at most. A list field without it counts 100. */
  listSize?: ListSize;
  /** A connection: how many entries the lists of its answer marked `listSize: 'page'` hold. */
  page?: SizeFromArgs;
  /** The entity the field answers with (`'Thread'`): loaded for every field below it. */
  loads?: string;
  /**
   * The field's `upstreamCalls` read this entity (a message's `thread`): none when the operation
   * has it loaded above the field already, as the request's loader answers them then.
   */
  unlessLoaded?: string;
  /**
   * The field's answer belongs to an entity named by one of its arguments (`message(threadId:)`
   * names the message's thread): below it that entity is loaded, at the price of one more key of
   * `loader` (the argument's value), counted when the selection may read it.
   */
  namesByArg?: { entity: string; loader: string; arg: string };
  /**
   * Each entry of the field's answer (each object, for a field that is no list) is that entity,
   * read through the request's loader by the connection above (one call per entry) when the
   * selection asks for more than the `free` fields; asked for those alone, it reads nothing.
   */
  readsEach?: { entity: string; free: readonly string[] };
}

/** How many entries a list holds at most. */
export type ListSize =
  /** A fixed bound (a message's content parts). */
  | number
  /** One entry per entry of this list argument (`threads(ids:)`). */
  | { idsArg: string }
  /** From page-size arguments of the list field itself. */
  | SizeFromArgs
  /** The page of the connection field it sits under (a connection's `nodes` and `edges`). */
  | 'page';

/**
 * A page size from arguments: the first of `fromArgs` given (`first`, then `last`), `default`
 * when none is, and `max` when it is above `max` or not an integer of at least 1.
 */
export interface SizeFromArgs {
  fromArgs: readonly string[];
  default: number;
  max: number;
}

declare module 'graphql' {
  interface GraphQLFieldExtensions<_TSource, _TContext, _TArgs> {
    /** What the field costs; see FieldCost. */
    cost?: FieldCost;
  }
}
