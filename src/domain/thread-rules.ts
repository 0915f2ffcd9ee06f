/**
 * The documented limits of the Threads API (Assistants API v2), as pure checks.
 *
 * Both the gateway (to refuse bad input before any upstream call) and the embedded local backend
 * (to answer 400 the way the API does) use them, so the two can never disagree about a limit.
 * Every check takes the name the caller knows the value by and returns a problem naming it, or null.
 */

/** Thread and message ids alike: no request can reach an upstream path other than the API's. */
export const THREAD_ID_PATTERN = /^[A-Za-z0-9_-]{1,128}$/;
/** Most ids one field takes: `threads(ids:)`, `nodes(ids:)`, `_entities(representations:)`. */
export const MAX_IDS_PER_FIELD = 100;
/**
 * Characters of any other id the API takes: file ids (`file-` and about 24 letters and digits),
 * vector store ids (`vs_` and about 24). Real ids are far shorter; without a bound, 20 file ids
 * of 45 KB each made one thread 900 KB that no count limit saw.
 */
export const OBJECT_ID_MAX_LENGTH = 128;
export const METADATA_MAX_PAIRS = 16;
export const METADATA_KEY_MAX_LENGTH = 64;
export const METADATA_VALUE_MAX_LENGTH = 512;
export const CODE_INTERPRETER_MAX_FILE_IDS = 20;
export const FILE_SEARCH_MAX_VECTOR_STORES = 1;
/**
 * Characters (code points) of one message's content, all parts together: text values, image URLs
 * and file ids. The Threads API documents 256,000 characters per message; the gateway and the
 * local backend refuse more before anything is stored.
 */
export const MESSAGE_CONTENT_MAX_CHARACTERS = 256_000;
/** Content parts of one message. */
export const MESSAGE_CONTENT_MAX_PARTS = 100;
/** The roles the Threads API takes as input. */
export const MESSAGE_ROLES = ['user', 'assistant'] as const;
export const CONTENT_PART_TYPES = ['text', 'image_file', 'image_url'] as const;
export const ATTACHMENT_TOOL_TYPES = ['code_interpreter', 'file_search'] as const;

export type MessageRole = (typeof MESSAGE_ROLES)[number];

/** One reason a value breaks the API's rules; `param` is the name the caller used for it. */
export interface RuleProblem {
  param: string;
  message: string;
}

type Check = RuleProblem | null;

function problem(param: string, message: string): RuleProblem {
  return { param, message: `${param}: ${message}` };
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** `param.field`, or `field` for a top-level body (param ""). */
function join(param: string, field: string): string {
  return param ? `${param}.${field}` : field;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return `a ${typeof value}`;
}

function isNonEmptyString(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0;
}

/**
 * Length in characters as people count them (Unicode code points), so an emoji is one character,
 * not the two UTF-16 units `String.length` counts.
 */
export function characters(value: string): number {
  let count = 0;
  for (const _ of value) count++;
  return count;
}

/** Thread and message ids share one rule. */
export function checkThreadId(id: unknown, param: string): Check {
  if (typeof id !== 'string') return problem(param, `must be a string, got ${describe(id)}`);
  if (!THREAD_ID_PATTERN.test(id)) {
    return problem(param, 'must be 1 to 128 characters from A-Z, a-z, 0-9, "_" and "-"');
  }
  return null;
}

/**
 * metadata: an object of at most 16 string pairs, keys up to 64 and values up to 512 characters,
 * counted in code points (exactly at the limit is accepted).
 */
export function checkMetadata(value: unknown, param: string): Check {
  if (!isPlainObject(value)) return problem(param, `must be an object, got ${describe(value)}`);
  const keys = Object.keys(value);
  if (keys.length > METADATA_MAX_PAIRS) {
    return problem(param, `may hold at most ${METADATA_MAX_PAIRS} keys, got ${keys.length}`);
  }
  for (const key of keys) {
    if (characters(key) > METADATA_KEY_MAX_LENGTH) {
      return problem(param, `key "${key.slice(0, 16)}…" is longer than ${METADATA_KEY_MAX_LENGTH} characters`);
    }
    const entry = value[key];
    if (typeof entry !== 'string') {
      return problem(`${param}.${key}`, `must be a string, got ${describe(entry)}`);
    }
    if (characters(entry) > METADATA_VALUE_MAX_LENGTH) {
      return problem(`${param}.${key}`, `is longer than ${METADATA_VALUE_MAX_LENGTH} characters`);
    }
  }
  return null;
}

/** A file or vector store id: a non-empty string of at most OBJECT_ID_MAX_LENGTH characters. */
export function checkObjectId(value: unknown, param: string): Check {
  if (!isNonEmptyString(value)) return problem(param, 'must be a non-empty string');
  if (value.length > OBJECT_ID_MAX_LENGTH) {
    return problem(param, `must be an id of at most ${OBJECT_ID_MAX_LENGTH} characters, got ${value.length}`);
  }
  return null;
}

function checkIdArray(value: unknown, param: string, max: number): Check {
  if (!Array.isArray(value)) return problem(param, `must be an array of strings, got ${describe(value)}`);
  if (value.length > max) return problem(param, `may hold at most ${max} entries, got ${value.length}`);
  for (const [index, entry] of value.entries()) {
    const found = checkObjectId(entry, `${param}[${index}]`);
    if (found) return found;
  }
  return null;
}

function checkSection(value: unknown, param: string, field: string, max: number): Check {
  if (!isPlainObject(value)) return problem(param, `must be an object, got ${describe(value)}`);
  for (const key of Object.keys(value)) {
    if (key !== field) return problem(`${param}.${key}`, `is not a known field (only "${field}")`);
  }
  if (value[field] === undefined) return null;
  return checkIdArray(value[field], `${param}.${field}`, max);
}

/** tool_resources: only `code_interpreter.file_ids` (≤ 20) and `file_search.vector_store_ids` (≤ 1). */
export function checkToolResources(value: unknown, param: string): Check {
  if (!isPlainObject(value)) return problem(param, `must be an object, got ${describe(value)}`);
  for (const key of Object.keys(value)) {
    const section = value[key];
    if (key === 'code_interpreter') {
      const found = checkSection(section, `${param}.${key}`, 'file_ids', CODE_INTERPRETER_MAX_FILE_IDS);
      if (found) return found;
    } else if (key === 'file_search') {
      const found = checkSection(section, `${param}.${key}`, 'vector_store_ids', FILE_SEARCH_MAX_VECTOR_STORES);
      if (found) return found;
    } else {
      return problem(`${param}.${key}`, 'is not a known section (only "code_interpreter" and "file_search")');
    }
  }
  return null;
}

function checkContentPart(part: unknown, param: string): Check {
  if (!isPlainObject(part)) return problem(param, `must be an object, got ${describe(part)}`);
  switch (part.type) {
    case 'text':
      return typeof part.text === 'string' && part.text.length > 0
        ? null
        : problem(`${param}.text`, 'must be a non-empty string');
    case 'image_file': {
      const file = part.image_file;
      if (!isPlainObject(file)) return problem(`${param}.image_file.file_id`, 'must be a non-empty string');
      return (
        checkObjectId(file.file_id, `${param}.image_file.file_id`) ??
        checkImageDetail(file.detail, `${param}.image_file.detail`)
      );
    }
    case 'image_url': {
      const image = part.image_url;
      if (!isPlainObject(image) || !isNonEmptyString(image.url)) {
        return problem(`${param}.image_url.url`, 'must be a non-empty string');
      }
      return checkImageDetail(image.detail, `${param}.image_url.detail`);
    }
    default:
      return problem(`${param}.type`, `must be one of ${CONTENT_PART_TYPES.join(', ')}`);
  }
}

function checkImageDetail(detail: unknown, param: string): Check {
  if (detail === undefined || detail === 'auto' || detail === 'low' || detail === 'high') return null;
  return problem(param, 'must be "auto", "low" or "high"');
}

function partCharacters(part: Record<string, unknown>): number {
  const inner = part[String(part.type)];
  if (typeof inner === 'string') return characters(inner);
  if (!isPlainObject(inner)) return 0;
  const text = inner.url ?? inner.file_id;
  return typeof text === 'string' ? characters(text) : 0;
}

function tooLong(param: string, count: number): RuleProblem {
  return problem(
    param,
    `holds ${count} characters, more than the ${MESSAGE_CONTENT_MAX_CHARACTERS} a message may hold`,
  );
}

/**
 * A message's content: a non-empty string, or a non-empty array of at most 100 text / image
 * content parts; at most 256,000 characters in all.
 */
export function checkMessageContent(value: unknown, param: string): Check {
  if (typeof value === 'string') {
    if (value.length === 0) return problem(param, 'must not be empty');
    // Past the cap in UTF-16 units already means nothing; count code points only near it.
    if (value.length > MESSAGE_CONTENT_MAX_CHARACTERS) {
      const count = characters(value);
      if (count > MESSAGE_CONTENT_MAX_CHARACTERS) return tooLong(param, count);
    }
    return null;
  }
  if (!Array.isArray(value)) {
    return problem(param, `must be a string or an array of content parts, got ${describe(value)}`);
  }
  if (value.length === 0) return problem(param, 'must hold at least one content part');
  if (value.length > MESSAGE_CONTENT_MAX_PARTS) {
    return problem(param, `may hold at most ${MESSAGE_CONTENT_MAX_PARTS} content parts, got ${value.length}`);
  }
  let total = 0;
  for (const [index, part] of value.entries()) {
    const found = checkContentPart(part, `${param}[${index}]`);
    if (found) return found;
    total += partCharacters(part as Record<string, unknown>);
  }
  return total > MESSAGE_CONTENT_MAX_CHARACTERS ? tooLong(param, total) : null;
}

/** attachments: an array of `{file_id, tools}` where tools are code_interpreter / file_search. */
export function checkAttachments(value: unknown, param: string): Check {
  if (!Array.isArray(value)) return problem(param, `must be an array, got ${describe(value)}`);
  for (const [index, attachment] of value.entries()) {
    const at = `${param}[${index}]`;
    if (!isPlainObject(attachment)) return problem(at, `must be an object, got ${describe(attachment)}`);
    for (const key of Object.keys(attachment)) {
      if (key !== 'file_id' && key !== 'tools') return problem(`${at}.${key}`, 'is not a known field');
    }
    const badId = checkObjectId(attachment.file_id, `${at}.file_id`);
    if (badId) return badId;
    if (!Array.isArray(attachment.tools)) return problem(`${at}.tools`, 'must be an array of tools');
    for (const [toolIndex, tool] of attachment.tools.entries()) {
      const type = isPlainObject(tool) ? tool.type : undefined;
      if (!(ATTACHMENT_TOOL_TYPES as readonly unknown[]).includes(type)) {
        return problem(`${at}.tools[${toolIndex}].type`, `must be one of ${ATTACHMENT_TOOL_TYPES.join(', ')}`);
      }
    }
  }
  return null;
}

const WIRE_MESSAGE_FIELDS = new Set(['role', 'content', 'attachments', 'metadata']);

/** One message of a thread-creation or message-creation body, in the API's wire format. */
export function checkWireMessage(value: unknown, param: string): Check {
  if (!isPlainObject(value)) return problem(param, `must be an object, got ${describe(value)}`);
  const extra = Object.keys(value).find((key) => !WIRE_MESSAGE_FIELDS.has(key));
  if (extra !== undefined) return problem(join(param, extra), 'is not a known field');
  if (!(MESSAGE_ROLES as readonly unknown[]).includes(value.role)) {
    return problem(join(param, 'role'), `must be one of ${MESSAGE_ROLES.join(', ')}`);
  }
  return (
    checkMessageContent(value.content, join(param, 'content')) ??
    (value.attachments == null ? null : checkAttachments(value.attachments, join(param, 'attachments'))) ??
    (value.metadata == null ? null : checkMetadata(value.metadata, join(param, 'metadata')))
  );
}
