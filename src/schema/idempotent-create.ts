import { ErrorCode, GatewayError } from '../errors.ts';
import type { GatewayContext } from '../graphql/context.ts';

/**
 * A create with an optional `idempotencyKey` argument, the way createMessage does it: with a key,
 * the same key and input answer what was first created (never a second create), and the same key
 * with another input is IDEMPOTENCY_CONFLICT naming the argument. `params` is what makes two inputs
 * the same: the whole validated input and whatever the create is scoped to (its thread).
 */
export async function idempotentCreate<T>(
  ctx: GatewayContext,
  key: string | null | undefined,
  params: Record<string, unknown>,
  what: string,
  create: (upstreamKey?: string) => Promise<T>,
): Promise<T> {
  if (key == null) return create();
  try {
    return await ctx.idempotentCreates.run(ctx.callerId, key, params, (upstreamKey) => create(upstreamKey));
  } catch (error) {
    if (error instanceof GatewayError && error.code === ErrorCode.IDEMPOTENCY_CONFLICT) {
      throw new GatewayError(
        ErrorCode.IDEMPOTENCY_CONFLICT,
        `idempotencyKey was already used with a different input; use a new key for a new ${what}.`,
        { extensions: { argument: 'idempotencyKey' } },
      );
    }
    throw error;
  }
}
