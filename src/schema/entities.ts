import { type GraphQLSchema, isObjectType } from 'graphql';
import { badUserInput } from '../errors.ts';

interface SubgraphExtensions {
  apollo?: { subgraph?: { resolveReference?: unknown } };
}

/**
 * `_entities` comes from @apollo/subgraph, whose resolver throws a plain Error for a `__typename`
 * that is not a type of the schema (masked as INTERNAL_SERVER_ERROR, failing every entry), and hands
 * a representation of a type without a reference resolver (`ThreadMessage`, `Query`) to that
 * type's fields as if it were one. A representation is caller input: one that names no entity type
 * of this subgraph fails its own entry with BAD_USER_INPUT, like a malformed id does, and the
 * others resolve.
 */
export function guardEntityRepresentations(schema: GraphQLSchema): GraphQLSchema {
  const fields = schema.getQueryType()?.getFields();
  const field = fields?._entities;
  const resolve = field?.resolve;
  if (!field || !resolve) return schema;
  // @apollo/subgraph defines these two, so their costs are declared here: every reference is a
  // thread read through the request's loader; the SDL is the schema's own.
  field.extensions = {
    ...field.extensions,
    cost: {
      batched: { loader: 'thread', idsArg: 'representations' },
      listSize: { idsArg: 'representations' },
      loads: 'Thread',
    },
  };
  if (fields._service) fields._service.extensions = { ...fields._service.extensions, cost: { upstreamCalls: 0 } };
  const entityTypes = Object.values(schema.getTypeMap())
    .filter((type) => isObjectType(type) && (type.extensions as SubgraphExtensions).apollo?.subgraph?.resolveReference)
    .map((type) => type.name);
  const refusal = (index: number) =>
    badUserInput(
      `representations[${index}].__typename: must name an entity type of this subgraph (${entityTypes.join(', ')})`,
      'representations',
    );
  field.resolve = async (source, args: { representations?: unknown }, context, info) => {
    const representations = Array.isArray(args.representations) ? args.representations : [];
    const served = representations.filter((representation) => {
      const typename = (representation as { __typename?: unknown } | null)?.__typename;
      return typeof typename === 'string' && entityTypes.includes(typename);
    });
    const resolved = (await resolve(source, { ...args, representations: served }, context, info)) as unknown[];
    // Back into the caller's order; an Error as a list entry is that entry's error.
    let next = 0;
    return representations.map((representation, index) =>
      served.includes(representation) ? resolved[next++] : refusal(index),
    );
  };
  return schema;
}
