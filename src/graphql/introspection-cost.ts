import {
  type FragmentDefinitionNode,
  type GraphQLDirective,
  type GraphQLField,
  GraphQLSchema,
  type GraphQLType,
  isAbstractType,
  isEnumType,
  isInputObjectType,
  isInterfaceType,
  isListType,
  isNonNullType,
  isObjectType,
  Kind,
  type SelectionSetNode,
} from 'graphql';

/** An introspection object as the walk sees it: its type's name and the schema element it describes. */
export type Introspected =
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

/** The introspection object a `__schema` or `__type(name:)` field answers with, if any. */
export function introspectionRoot(schema: GraphQLSchema, name: string, typeName: unknown): Introspected | undefined {
  const described = name === '__schema' ? schema : schema.getType(String(typeName));
  if (described instanceof GraphQLSchema) return { kind: '__Schema', value: described };
  return described ? { kind: '__Type', value: described } : undefined;
}

/**
 * Introspection's answer is fixed by the schema, so it is counted on the schema itself: every
 * type, field and argument the selection walks. Its nesting is exempt from the depth limit
 * (`fields { type { fields { type … } } }` multiplies at each level), so counting stops once past
 * `maxNodes`, and costs no more than that many steps.
 */
export function introspectionCost(
  selectionSet: SelectionSetNode,
  object: Introspected,
  schema: GraphQLSchema,
  fragments: Record<string, FragmentDefinitionNode>,
  maxNodes: number,
): number {
  let count = 0;
  for (const selection of selectionSet.selections) {
    if (count > maxNodes) break;
    if (selection.kind === Kind.INLINE_FRAGMENT) {
      const condition = selection.typeCondition?.name.value;
      if (!condition || condition === object.kind) {
        count += introspectionCost(selection.selectionSet, object, schema, fragments, maxNodes);
      }
    } else if (selection.kind === Kind.FRAGMENT_SPREAD) {
      const fragment = fragments[selection.name.value];
      if (fragment?.typeCondition.name.value === object.kind) {
        count += introspectionCost(fragment.selectionSet, object, schema, fragments, maxNodes);
      }
    } else {
      count += 1;
      const below = selection.selectionSet;
      if (!below) {
        if (object.kind === '__Directive' && selection.name.value === 'locations')
          count += object.value.locations.length;
        continue;
      }
      const held = introspectedField(schema, object, selection.name.value);
      for (const item of Array.isArray(held) ? held : held ? [held] : []) {
        count += introspectionCost(below, item, schema, fragments, maxNodes);
        if (count > maxNodes) break;
      }
    }
  }
  return count;
}
