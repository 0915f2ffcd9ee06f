import { readFileSync } from 'node:fs';
import { ConfigError } from '../../config/config.ts';
import { documentHash, parseDocumentId } from './document-hash.ts';

/** The documents a TRUSTED_DOCUMENTS gateway executes, by the sha256 of their exact text. */
export type TrustedManifest = ReadonlyMap<string, string>;

/**
 * Reads a manifest in either format:
 * - GraphQL Code Generator's client preset (`persistedDocuments: true`): `{ "sha256:<hex>": "<document>" }`;
 * - Apollo's (`@apollo/generate-persisted-query-manifest`): `{ "format": "apollo-persisted-query-manifest",
 *   "version": 1, "operations": [{ "id": "<hex>", "body": "<document>", … }] }`.
 * Every id must be the sha256 of its document: the same hash a client computes, and the one the
 * gateway checks a document sent in full against. Anything else stops start-up with one line.
 */
export function loadTrustedManifest(path: string): TrustedManifest {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    const reason = error instanceof SyntaxError ? 'is not valid JSON' : 'cannot be read';
    throw new ConfigError(`TRUSTED_DOCUMENTS: ${path} ${reason}`);
  }
  const entries = manifestEntries(raw, path);
  const manifest = new Map<string, string>();
  for (const [id, text] of entries) {
    if (typeof text !== 'string' || text.trim() === '') {
      throw new ConfigError(`TRUSTED_DOCUMENTS: the document of ${JSON.stringify(id)} in ${path} is not a string`);
    }
    const hash = parseDocumentId(id);
    if (hash === undefined || hash !== documentHash(text)) {
      throw new ConfigError(
        `TRUSTED_DOCUMENTS: ${JSON.stringify(id)} in ${path} is not the sha256 of its document ` +
          "(generate it with the client preset's default hashAlgorithm, sha256)",
      );
    }
    manifest.set(hash, text);
  }
  if (manifest.size === 0) throw new ConfigError(`TRUSTED_DOCUMENTS: ${path} holds no documents`);
  return manifest;
}

function manifestEntries(raw: unknown, path: string): Array<[unknown, unknown]> {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ConfigError(`TRUSTED_DOCUMENTS: ${path} must hold a JSON object of hash -> document`);
  }
  const object = raw as Record<string, unknown>;
  if (object.format !== 'apollo-persisted-query-manifest') return Object.entries(object);
  if (object.version !== 1 || !Array.isArray(object.operations)) {
    throw new ConfigError(`TRUSTED_DOCUMENTS: ${path} is not an Apollo persisted query manifest of version 1`);
  }
  return object.operations.map((operation: unknown) => {
    const { id, body } = (operation ?? {}) as { id?: unknown; body?: unknown };
    return [id, body];
  });
}
