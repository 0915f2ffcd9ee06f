import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';

/**
 * OpenAI's published OpenAPI description, vendored (test/conformance/README.md says which one), and
 * a check of one raw HTTP answer against the response schema of its operation.
 */
const DOCUMENT_ID = 'https://api.openai.com/openapi.json';
const ERROR_RESPONSE = `${DOCUMENT_ID}#/components/schemas/ErrorResponse`;

interface Operation {
  responses?: Record<string, { $ref?: string; content?: Record<string, { schema?: unknown }> }>;
}

interface OpenApiDocument {
  openapi: string;
  info: { version: string };
  paths: Record<string, Record<string, Operation>>;
  components: { responses?: Record<string, { content?: Record<string, { schema?: unknown }> }> };
}

export const openApi = JSON.parse(
  gunzipSync(readFileSync(new URL('../conformance/openai-openapi.json.gz', import.meta.url))).toString('utf8'),
) as OpenApiDocument;

/**
 * The document is OpenAPI 3.1, yet 111 of its schemas still carry 3.0's `nullable: true` (a few of
 * the Assistants API's among them). 3.1 has no such keyword; its authors mean what 3.1 spells
 * `anyOf: [schema, {type: "null"}]`, so that is what they become (Ajv would otherwise refuse a
 * `nullable` without a `type`).
 */
function nullableAsAnyOf(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(nullableAsAnyOf);
  if (node === null || typeof node !== 'object') return node;
  const { nullable, ...rest } = node as Record<string, unknown>;
  const walked = Object.fromEntries(Object.entries(rest).map(([key, value]) => [key, nullableAsAnyOf(value)]));
  return nullable === true ? { anyOf: [walked, { type: 'null' }] } : walked;
}

// 2020-12 is the dialect of OpenAPI 3.1's schemas. `strict: false`: the document carries OpenAPI's and
// the vendor's keywords (`x-oaiMeta`, `discriminator`, `example`); formats such as `unixtime` are the
// vendor's own, so they are not checked.
const ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: false });
ajv.addSchema({ ...(nullableAsAnyOf(openApi) as object), $id: DOCUMENT_ID });

const compiled = new Map<string, ValidateFunction>();

function validatorFor(ref: string): ValidateFunction {
  let validate = compiled.get(ref);
  if (!validate) {
    validate = ajv.compile({ $ref: ref });
    compiled.set(ref, validate);
  }
  return validate;
}

/** The description's path template for a served path: `/v1/threads/thread_1/messages` -> `/threads/{thread_id}/messages`. */
export function pathTemplate(path: string): string | undefined {
  // The description's server is `https://api.openai.com/v1`: its paths start after `/v1`.
  const segments = path.replace(/^\/v1/, '').split('/');
  return Object.keys(openApi.paths).find((template) => {
    const parts = template.split('/');
    return (
      parts.length === segments.length &&
      parts.every((part, index) => (part.startsWith('{') && part.endsWith('}')) || part === segments[index])
    );
  });
}

/** The `$ref` of the JSON schema the description gives for this operation's answer with `status`. */
export function responseSchemaRef(method: string, path: string, status: number): string {
  // Every error is `{ "error": {…} }` on the wire, on any path (an unknown one too). The description
  // says so (`ErrorResponse`) for 429 and lists few other error statuses per operation; where it names
  // the bare `Error` (a 404 of /responses), the wire form is still the wrapped one
  // (docs/openapi-conformance.md).
  if (status >= 400) return ERROR_RESPONSE;
  const template = pathTemplate(path);
  if (!template) throw new Error(`The description has no path for ${path}`);
  const operation = openApi.paths[template]?.[method.toLowerCase()];
  if (!operation) throw new Error(`The description has no ${method} ${template}`);
  let response = operation.responses?.[String(status)] ?? operation.responses?.default;
  if (response?.$ref) response = openApi.components.responses?.[response.$ref.split('/').pop() ?? ''];
  const schema = response?.content?.['application/json']?.schema as { $ref?: string } | undefined;
  if (!schema?.$ref) throw new Error(`The description gives no JSON schema for ${method} ${template} ${status}`);
  return `${DOCUMENT_ID}${schema.$ref}`;
}

export interface Divergence {
  operation: string;
  status: number;
  schema: string;
  errors: ErrorObject[];
}

/**
 * Where the description is stricter than the API it describes, and the local backend answers as the
 * API does (docs/openapi-conformance.md): an empty list's `first_id` and `last_id` are null (there is
 * no first item), though the list schemas type them as strings.
 */
function isDescriptionGap(error: ErrorObject, body: unknown): boolean {
  const list = body as { data?: unknown; first_id?: unknown; last_id?: unknown } | null;
  return (
    (error.instancePath === '/first_id' || error.instancePath === '/last_id') &&
    error.keyword === 'type' &&
    Array.isArray(list?.data) &&
    list.data.length === 0 &&
    list.first_id === null &&
    list.last_id === null
  );
}

/** Checks one answer; `undefined` when it validates, else what it breaks. */
export function checkAnswer(method: string, path: string, status: number, body: unknown): Divergence | undefined {
  const ref = responseSchemaRef(method, path, status);
  const validate = validatorFor(ref);
  if (validate(body)) return undefined;
  const errors = (validate.errors ?? []).filter((error) => !isDescriptionGap(error, body));
  if (errors.length === 0) return undefined;
  return { operation: `${method} ${pathTemplate(path) ?? path}`, status, schema: ref.split('/').pop() ?? ref, errors };
}

/** A divergence in a few lines: the schema, then each failed keyword at its place in the answer. */
export function describeDivergence(divergence: Divergence): string {
  const lines = divergence.errors
    .filter((error) => !['anyOf', 'oneOf', 'if'].includes(error.keyword))
    .slice(0, 12)
    .map((error) => `  ${error.instancePath || '/'} ${error.message ?? ''} ${JSON.stringify(error.params)}`);
  return `${divergence.operation} ${divergence.status} does not validate as ${divergence.schema}:\n${lines.join('\n')}`;
}

type SchemaNode = {
  $ref?: string;
  oneOf?: SchemaNode[];
  anyOf?: SchemaNode[];
  properties?: Record<string, SchemaNode>;
} & {
  enum?: unknown[];
};

function schemaNamed(name: string): SchemaNode {
  return (openApi.components as { schemas: Record<string, SchemaNode> }).schemas[name] ?? {};
}

/**
 * The streamed events the description defines, each with the JSON pointer of its schema, read from
 * the description itself: the Assistants API's `AssistantStreamEvent` (an SSE `event:` name and
 * the schema of its `data`) and the Responses API's `ResponseStreamEvent` (the event's `type` and
 * the schema of the whole event, which is the `data`).
 */
export const streamEventSchemas = {
  assistant: new Map<string, string>(),
  response: new Map<string, string>(),
};

function collectAssistantEvents(node: SchemaNode, pointer: string): void {
  if (node.$ref) {
    const name = node.$ref.split('/').pop() ?? '';
    collectAssistantEvents(schemaNamed(name), `#/components/schemas/${name}`);
    return;
  }
  for (const key of ['oneOf', 'anyOf'] as const) {
    for (const [index, variant] of (node[key] ?? []).entries()) {
      collectAssistantEvents(variant, `${pointer}/${key}/${index}`);
    }
  }
  const event = node.properties?.event?.enum?.[0];
  if (typeof event === 'string') streamEventSchemas.assistant.set(event, `${pointer}/properties/data`);
}

collectAssistantEvents({ $ref: '#/components/schemas/AssistantStreamEvent' }, '');
for (const variant of schemaNamed('ResponseStreamEvent').anyOf ?? []) {
  const name = variant.$ref?.split('/').pop() ?? '';
  const type = schemaNamed(name).properties?.type?.enum?.[0];
  if (typeof type === 'string') streamEventSchemas.response.set(type, `#/components/schemas/${name}`);
}

/**
 * Checks one streamed event: `assistant` for a run's stream (`event:` name, its `data` parsed),
 * `response` for a response's (`event:` name, which must be the data's `type`). `undefined` when
 * the event is one the description defines and its data validates, else what it breaks.
 */
export function checkStreamEvent(
  family: 'assistant' | 'response',
  event: string,
  data: unknown,
): Divergence | undefined {
  const pointer = streamEventSchemas[family].get(event);
  const operation = `${family} stream event ${event}`;
  const typed = family === 'response' ? (data as { type?: unknown } | null)?.type : event;
  if (!pointer || typed !== event) {
    const message = pointer ? `event: ${event} carries type ${String(typed)}` : 'the description defines no such event';
    return {
      operation,
      status: 200,
      schema: 'none',
      errors: [{ instancePath: '', keyword: 'event', params: {}, message } as ErrorObject],
    };
  }
  const validate = validatorFor(`${DOCUMENT_ID}${pointer}`);
  if (validate(data)) return undefined;
  return { operation, status: 200, schema: pointer.split('/schemas/').pop() ?? pointer, errors: validate.errors ?? [] };
}
