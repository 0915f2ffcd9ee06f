import { depthBeyond } from '../../domain/json-depth.ts';
import { isPlainObject } from '../../domain/thread-rules.ts';
import { type BackendAnswer, type BackendRequest, fail } from './answer.ts';

/** Levels a request body may nest (a function's `parameters` schema included). */
export const MAX_BODY_DEPTH = 64;

/**
 * The body as JSON (an empty body is `{}`), or the API's 400. A JSON schema or metadata nests a
 * few levels; a body of thousands would fail later when serialised or copied, so it is refused here.
 */
export function parseJson(text: string): { body: unknown } | { error: BackendAnswer } {
  if (text.trim() === '') return { body: {} };
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return {
      error: fail(400, { message: 'We could not parse the JSON body of your request.', code: 'invalid_json' }),
    };
  }
  if (depthBeyond(body, MAX_BODY_DEPTH + 1)) {
    return { error: fail(400, { message: `The body nests deeper than ${MAX_BODY_DEPTH} levels.` }) };
  }
  return { body };
}

/** The body as a JSON object, or the API's 400; its text is kept for the idempotency fingerprint. */
export async function readObject(
  request: BackendRequest,
): Promise<{ body: Record<string, unknown>; text: string } | { error: BackendAnswer }> {
  const text = await request.text();
  const parsed = parseJson(text);
  if ('error' in parsed) return parsed;
  if (!isPlainObject(parsed.body)) return { error: fail(400, { message: 'The body must be a JSON object.' }) };
  return { body: parsed.body, text };
}

/** The Threads and runs routes' 400 for a body field they do not know. */
export function unknownField(body: Record<string, unknown>, allowed: ReadonlySet<string>): BackendAnswer | null {
  const extra = Object.keys(body).find((key) => !allowed.has(key));
  if (extra === undefined) return null;
  return fail(400, { message: `Unrecognized request argument supplied: ${extra}`, param: extra });
}
