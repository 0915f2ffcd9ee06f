import {
  characters,
  checkObjectId,
  isPlainObject,
  MESSAGE_CONTENT_MAX_CHARACTERS,
  MESSAGE_CONTENT_MAX_PARTS,
  type RuleProblem,
} from './thread-rules.ts';

/**
 * The Conversations API's message items, and how their content maps to the Threads API's parts.
 *
 * Both the Conversations adapter (to send the graph's messages and read items back) and the
 * embedded local backend's Conversations routes (which store items as Threads messages) use these
 * pure functions, so the two directions of the mapping are written once.
 */

/** Most items `POST /v1/conversations` takes in one body (the API's own limit). */
export const CONVERSATION_MAX_INITIAL_ITEMS = 20;
/** Roles a message item can carry as input. */
export const CONVERSATION_INPUT_ROLES = ['user', 'assistant', 'system', 'developer'] as const;
/** Roles the graph knows by name when reading; any other role reads as `unknown`. */
export const KNOWN_MESSAGE_ROLES = ['user', 'assistant', 'system', 'developer', 'tool'] as const;

export type ImageDetail = 'auto' | 'low' | 'high';

/** A content part of a message item, as the Conversations API carries it. */
export type ConversationPart =
  | { type: 'input_text'; text: string }
  | { type: 'output_text'; text: string; annotations: unknown[] }
  | { type: 'input_image'; detail: ImageDetail; image_url?: string; file_id?: string }
  | { type: 'refusal'; refusal: string };

/** A message item as sent: `content` stays a string when it was given as one. */
export interface MessageItemInput {
  type: 'message';
  role: string;
  content: string | ConversationPart[];
}

/** A content part in the Threads API's read shape (what the graph serves). */
export type ThreadsPart =
  | { type: 'text'; text: { value: string; annotations: unknown[] } }
  | { type: 'image_file'; image_file: { file_id: string; detail: string | null } }
  | { type: 'image_url'; image_url: { url: string; detail: string | null } }
  | { type: 'refusal'; refusal: string };

function detailOf(value: unknown): ImageDetail {
  return value === 'low' || value === 'high' ? value : 'auto';
}

/**
 * Threads parts (the input shape `{type: "text", text: "…"}` or the read shape
 * `{type: "text", text: {value, annotations}}`) become Conversations parts: text is `output_text`
 * for the assistant and `input_text` for every other role; images become `input_image`.
 */
export function toConversationParts(role: string, parts: readonly unknown[]): ConversationPart[] {
  const out: ConversationPart[] = [];
  for (const part of parts) {
    if (!isPlainObject(part)) continue;
    switch (part.type) {
      case 'text': {
        const text = part.text;
        const value = typeof text === 'string' ? text : isPlainObject(text) ? text.value : undefined;
        if (typeof value !== 'string') break;
        const annotations = isPlainObject(text) && Array.isArray(text.annotations) ? text.annotations : [];
        out.push(
          role === 'assistant'
            ? { type: 'output_text', text: value, annotations: structuredClone(annotations) }
            : { type: 'input_text', text: value },
        );
        break;
      }
      case 'image_url': {
        const image = part.image_url;
        if (isPlainObject(image) && typeof image.url === 'string') {
          out.push({ type: 'input_image', image_url: image.url, detail: detailOf(image.detail) });
        }
        break;
      }
      case 'image_file': {
        const file = part.image_file;
        if (isPlainObject(file) && typeof file.file_id === 'string') {
          out.push({ type: 'input_image', file_id: file.file_id, detail: detailOf(file.detail) });
        }
        break;
      }
      case 'refusal':
        if (typeof part.refusal === 'string') out.push({ type: 'refusal', refusal: part.refusal });
        break;
    }
  }
  return out;
}

/** One message to send as an item: a string content stays a string. */
export function toMessageItem(role: string, content: string | readonly unknown[]): MessageItemInput {
  return { type: 'message', role, content: typeof content === 'string' ? content : toConversationParts(role, content) };
}

/**
 * Conversations parts become Threads parts: `input_text`, `output_text` and `text` are text (with
 * `output_text`'s annotations as given), `input_image` an image by file id or by URL, `refusal` a
 * refusal. Any other part (files, screenshots, reasoning text, …) has no Threads equivalent and is
 * skipped, as an unknown Threads part is. A string content is one text part.
 */
export function fromConversationParts(content: unknown): ThreadsPart[] {
  if (typeof content === 'string') return [{ type: 'text', text: { value: content, annotations: [] } }];
  if (!Array.isArray(content)) return [];
  const out: ThreadsPart[] = [];
  for (const part of content) {
    if (!isPlainObject(part)) continue;
    switch (part.type) {
      case 'input_text':
      case 'output_text':
      case 'text':
        if (typeof part.text === 'string') {
          const annotations = part.type === 'output_text' && Array.isArray(part.annotations) ? part.annotations : [];
          out.push({ type: 'text', text: { value: part.text, annotations: structuredClone(annotations) } });
        }
        break;
      case 'input_image': {
        const detail = typeof part.detail === 'string' ? part.detail : null;
        if (typeof part.file_id === 'string' && part.file_id !== '') {
          out.push({ type: 'image_file', image_file: { file_id: part.file_id, detail } });
        } else if (typeof part.image_url === 'string' && part.image_url !== '') {
          out.push({ type: 'image_url', image_url: { url: part.image_url, detail } });
        }
        break;
      }
      case 'refusal':
        if (typeof part.refusal === 'string') out.push({ type: 'refusal', refusal: part.refusal });
        break;
    }
  }
  return out;
}

/** A role as the graph knows it: a known name, else `unknown` (e.g. `critic`, `discriminator`). */
export function readRole(role: unknown): string {
  return typeof role === 'string' && (KNOWN_MESSAGE_ROLES as readonly string[]).includes(role) ? role : 'unknown';
}

function problem(param: string, message: string): RuleProblem {
  return { param, message: `${param}: ${message}` };
}

function checkPart(part: unknown, param: string): RuleProblem | null {
  if (!isPlainObject(part)) return problem(param, 'must be an object');
  switch (part.type) {
    case 'input_text':
    case 'output_text':
      return typeof part.text === 'string' ? null : problem(`${param}.text`, 'must be a string');
    case 'input_image': {
      const byUrl = typeof part.image_url === 'string' && part.image_url !== '';
      const byFile = typeof part.file_id === 'string' && part.file_id !== '';
      if (byUrl === byFile) return problem(param, 'must have exactly one of image_url and file_id');
      if (byFile) {
        const badId = checkObjectId(part.file_id, `${param}.file_id`);
        if (badId) return badId;
      }
      if (part.detail !== undefined && !['auto', 'low', 'high'].includes(String(part.detail))) {
        return problem(`${param}.detail`, 'must be "auto", "low" or "high"');
      }
      return null;
    }
    case 'refusal':
      return typeof part.refusal === 'string' ? null : problem(`${param}.refusal`, 'must be a string');
    default:
      return problem(`${param}.type`, 'must be one of input_text, output_text, input_image, refusal');
  }
}

/**
 * One input item, as the local backend accepts it: a message item (`type` may be omitted, as the
 * API's "easy" input message allows) with an input role and a non-empty string or parts content.
 */
export function checkMessageItem(value: unknown, param: string): RuleProblem | null {
  if (!isPlainObject(value)) return problem(param, 'must be an object');
  if (value.type !== undefined && value.type !== 'message') {
    return problem(`${param}.type`, 'only "message" items are supported by this server');
  }
  if (!(CONVERSATION_INPUT_ROLES as readonly unknown[]).includes(value.role)) {
    return problem(`${param}.role`, `must be one of ${CONVERSATION_INPUT_ROLES.join(', ')}`);
  }
  const { content } = value;
  if (typeof content === 'string') {
    if (content === '') return problem(`${param}.content`, 'must not be empty');
    return tooLong(`${param}.content`, content.length > MESSAGE_CONTENT_MAX_CHARACTERS ? characters(content) : 0);
  }
  if (!Array.isArray(content) || content.length === 0) {
    return problem(`${param}.content`, 'must be a non-empty string or a non-empty array of content parts');
  }
  // A message item is stored as a Threads message: the same caps hold for both routes.
  if (content.length > MESSAGE_CONTENT_MAX_PARTS) {
    return problem(
      `${param}.content`,
      `may hold at most ${MESSAGE_CONTENT_MAX_PARTS} content parts, got ${content.length}`,
    );
  }
  let total = 0;
  for (const [index, part] of content.entries()) {
    const found = checkPart(part, `${param}.content[${index}]`);
    if (found) return found;
    total += partCharacters(part as Record<string, unknown>);
  }
  return tooLong(`${param}.content`, total);
}

/** The characters a checked part stores: its text, refusal, image URL or file id. */
function partCharacters(part: Record<string, unknown>): number {
  const text = part.text ?? part.refusal ?? part.image_url ?? part.file_id;
  return typeof text === 'string' ? characters(text) : 0;
}

function tooLong(param: string, count: number): RuleProblem | null {
  if (count <= MESSAGE_CONTENT_MAX_CHARACTERS) return null;
  return problem(
    param,
    `holds ${count} characters, more than the ${MESSAGE_CONTENT_MAX_CHARACTERS} a message may hold`,
  );
}
