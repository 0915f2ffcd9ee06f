import { valueFromASTUntyped } from 'graphql';
import { builder } from './builder.ts';

builder.scalarType('JSON', {
  description:
    'Any JSON value: object, array, string, number, boolean or null. Objects keep the keys the Threads API uses (snake_case).',
  serialize: (value) => value,
  parseValue: (value) => value as NonNullable<unknown>,
  parseLiteral: (node, variables) => valueFromASTUntyped(node, variables) as NonNullable<unknown>,
});
