import { Kind, type ValueNode } from 'graphql';
import { builder } from './builder.ts';

function literalValue(node: ValueNode, variables: Record<string, unknown> | null | undefined): unknown {
  switch (node.kind) {
    case Kind.STRING:
    case Kind.BOOLEAN:
    case Kind.ENUM:
      return node.value;
    case Kind.INT:
    case Kind.FLOAT:
      return Number(node.value);
    case Kind.NULL:
      return null;
    case Kind.LIST:
      return node.values.map((value) => literalValue(value, variables));
    case Kind.OBJECT:
      return Object.fromEntries(node.fields.map((field) => [field.name.value, literalValue(field.value, variables)]));
    case Kind.VARIABLE:
      return variables?.[node.name.value];
  }
}

builder.scalarType('JSON', {
  description:
    'Any JSON value: object, array, string, number, boolean or null. Objects keep the keys the Threads API uses (snake_case).',
  serialize: (value) => value,
  parseValue: (value) => value as NonNullable<unknown>,
  parseLiteral: (node, variables) => literalValue(node, variables) as NonNullable<unknown>,
});
