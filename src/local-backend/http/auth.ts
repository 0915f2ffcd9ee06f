import { type BackendAnswer, type BackendRequest, fail } from './answer.ts';

/** The caller's API key, or the API's 401. */
export type Authenticate = (request: BackendRequest) => { key: string } | { error: BackendAnswer };

/** The API echoed part of a wrong key in its 401 text; we copy that, so the gateway must hide it. */
function redactedKey(key: string): string {
  return key.length <= 8 ? '***' : `${key.slice(0, 3)}***${key.slice(-4)}`;
}

/** Bearer keys: any key when `apiKeys` is empty (the API still requires one), else only those. */
export function bearerAuth(apiKeys: readonly string[]): Authenticate {
  const accepted = new Set(apiKeys);
  return (request) => {
    const match = /^Bearer\s+(\S+)$/i.exec(request.header('authorization') ?? '');
    if (!match?.[1]) {
      return {
        error: fail(401, {
          message: "You didn't provide an API key. Provide it in an Authorization header (Bearer auth).",
          type: 'authentication_error',
          code: 'missing_api_key',
        }),
      };
    }
    const key = match[1];
    if (accepted.size > 0 && !accepted.has(key)) {
      return {
        error: fail(401, {
          message: `Incorrect API key provided: ${redactedKey(key)}.`,
          type: 'authentication_error',
          code: 'invalid_api_key',
        }),
      };
    }
    return { key };
  };
}

/** The Assistants API's routes (threads, messages, runs, assistants) need `OpenAI-Beta: assistants=v2`. */
export function missingBeta(request: BackendRequest): BackendAnswer | undefined {
  if (/\bassistants=v2\b/.test(request.header('openai-beta') ?? '')) return undefined;
  return fail(400, {
    message: 'You must provide the "OpenAI-Beta: assistants=v2" header to use the Assistants API.',
    code: 'invalid_beta',
  });
}

/** The Threads, runs and assistants routes' guard: a key first, then the beta header. */
export function assistantsApiGuard(
  authenticate: Authenticate,
): (request: BackendRequest) => Promise<{ key: string } | { error: BackendAnswer }> {
  return async (request) => {
    const auth = authenticate(request);
    if ('error' in auth) return auth;
    const beta = missingBeta(request);
    return beta ? { error: beta } : auth;
  };
}
