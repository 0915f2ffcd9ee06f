import { createHash, randomInt } from 'node:crypto';

const ID_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/**
 * `prefix_` followed by 24 random letters and digits (about 143 bits), as the API's ids are.
 * Random, not counted, so instances sharing one database never hand out the same id.
 */
export function newObjectId(prefix: string): string {
  let id = `${prefix}_`;
  for (let i = 0; i < 24; i++) id += ID_ALPHABET[randomInt(ID_ALPHABET.length)];
  return id;
}

/**
 * `prefix_` and 24 letters and digits derived from `source`: the same source always names the same
 * object (a run step is named by the message or tool calls it is about, never stored itself).
 */
export function derivedObjectId(prefix: string, source: string): string {
  const digest = createHash('sha256').update(source).digest();
  let id = `${prefix}_`;
  for (let i = 0; i < 24; i++) id += ID_ALPHABET[(digest[i] as number) % ID_ALPHABET.length];
  return id;
}
