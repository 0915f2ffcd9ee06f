import type { StoredResponse } from '../store/response-store.ts';

/**
 * A stored response as the API answers it. `usage` is left out until there is one and the deprecated
 * `user` when none was given: the API's description types both as never null (and requires neither).
 * Usage counts no cache writes (`cache_write_tokens`, which responses stored before it lack).
 */
export function wireResponse(response: StoredResponse) {
  const { usage, user, ...rest } = response;
  return {
    ...rest,
    ...(usage
      ? { usage: { ...usage, input_tokens_details: { cache_write_tokens: 0, ...usage.input_tokens_details } } }
      : {}),
    ...(user === null ? {} : { user }),
  };
}
