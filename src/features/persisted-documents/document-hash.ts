import { createHash } from 'node:crypto';

/** The sha256 of a document's exact text (UTF-8), as 64 lower-case hex digits: its id everywhere. */
export function documentHash(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/**
 * A document id as clients send it: 64 lower-case hex digits, optionally prefixed `sha256:` (the
 * form GraphQL Code Generator and the GraphQL-over-HTTP persisted documents appendix use). Anything
 * else (upper-case hex, another length, another algorithm) is no id at all: refused, never looked
 * up, so one document never has two spellings in a store.
 */
export function parseDocumentId(raw: unknown): string | undefined {
  if (typeof raw !== 'string') return undefined;
  const match = /^(?:sha256:)?([0-9a-f]{64})$/.exec(raw);
  return match?.[1];
}
