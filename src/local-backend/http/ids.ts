import { THREAD_ID_PATTERN } from '../../domain/thread-rules.ts';
import type { BackendAnswer } from './answer.ts';

/** One `{…}` segment of a route's path: the id it names, or the route's answer for an id it cannot be. */
export type IdRule = (raw: string) => { id: string } | { error: BackendAnswer };

/**
 * A path segment as text; a malformed percent-encoding (`%E0%A4%A`, `%ZZ`) is no id at all, so the
 * route answers 404 as for any id it does not have, never a 500 from a thrown URIError.
 */
export function decodeSegment(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}

/** An id of the API's id shape; the 404 names it decoded when it decodes (Threads, Conversations). */
export function decodedId(notFound: (id: string) => BackendAnswer): IdRule {
  return (raw) => {
    const id = decodeSegment(raw);
    return id !== undefined && THREAD_ID_PATTERN.test(id) ? { id } : { error: notFound(id ?? raw) };
  };
}

/** The same, with the 404 naming the segment as it came (runs and assistants). */
export function rawShownId(notFound: (segment: string) => BackendAnswer): IdRule {
  return (raw) => {
    const id = decodeSegment(raw);
    return id !== undefined && THREAD_ID_PATTERN.test(id) ? { id } : { error: notFound(raw) };
  };
}
