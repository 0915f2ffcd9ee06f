import SchemaBuilder from '@pothos/core';
import type { GatewayContext } from '../server/context.ts';

export const builder = new SchemaBuilder<{
  Context: GatewayContext;
  Scalars: { JSON: { Input: NonNullable<unknown>; Output: unknown } };
  DefaultFieldNullability: false;
}>({
  defaultFieldNullability: false,
});
