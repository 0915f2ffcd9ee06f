import SchemaBuilder from '@pothos/core';
import DirectivePlugin from '@pothos/plugin-directives';
import FederationPlugin from '@pothos/plugin-federation';
import type { GatewayContext } from '../graphql/context.ts';
// Types every field's `extensions.cost`, which the operation estimate reads (see FieldCost).
import type {} from '../graphql/field-cost.ts';

export const builder = new SchemaBuilder<{
  Context: GatewayContext;
  Scalars: { JSON: { Input: NonNullable<unknown>; Output: unknown } };
  DefaultFieldNullability: false;
}>({
  plugins: [DirectivePlugin, FederationPlugin],
  defaultFieldNullability: false,
});
