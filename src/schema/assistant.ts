import { type Assistant, assistantCursor, cursorAssistantId } from '../domain/assistant.ts';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from '../domain/message-pagination.ts';
import { checkMetadata, checkThreadId } from '../domain/thread-rules.ts';
import {
  checkInstructions,
  checkLength,
  checkTools,
  MAX_ASSISTANT_DESCRIPTION_CHARACTERS,
  MAX_ASSISTANT_NAME_CHARACTERS,
  MAX_ASSISTANT_TOOLS,
} from '../domain/tool-rules.ts';
import { badUserInput } from '../errors.ts';
import type { AssistantFields } from '../upstream/upstream-api.ts';
import { builder } from './builder.ts';
import { idempotentCreate } from './idempotent-create.ts';
import { NodeRef } from './node.ts';
import { PageInfoRef } from './page-info.ts';
import { assertIdempotencyKey } from './run-input.ts';
import { refuse } from './thread-message-input.ts';

export const AssistantRef = builder.objectRef<Assistant>('Assistant').implement({
  description: 'An assistant of the Threads API: a model with instructions and tools, that runs run.',
  interfaces: [NodeRef],
  fields: (t) => ({
    id: t.exposeID('id', {
      description: 'The assistant id (`asst_…`). Assistant ids are globally unique, so they serve as global ids.',
    }),
    name: t.exposeString('name', { nullable: true, description: 'Its name, at most 256 characters.' }),
    description: t.exposeString('description', {
      nullable: true,
      description: 'Its description, at most 512 characters.',
    }),
    model: t.exposeString('model', { description: 'The model it runs.' }),
    instructions: t.exposeString('instructions', {
      nullable: true,
      description: 'Its instructions, at most 256,000 characters.',
    }),
    tools: t.field({
      type: 'JSON',
      description: 'Its tools, in the Threads API’s shape; `[]` when none.',
      resolve: (assistant) => assistant.tools,
    }),
    metadata: t.field({
      type: 'JSON',
      description: 'Up to 16 string key/value pairs attached to it; `{}` when it has none.',
      resolve: (assistant) => assistant.metadata,
    }),
    temperature: t.exposeFloat('temperature', { nullable: true, description: 'Sampling temperature, 0 to 2.' }),
    topP: t.exposeFloat('topP', { nullable: true, description: 'Nucleus sampling, 0 to 1 (the API’s `top_p`).' }),
    createdAt: t.exposeInt('createdAt', {
      nullable: true,
      description: 'When it was created, in Unix seconds; null where an upstream keeps none.',
    }),
  }),
});

interface AssistantInputShape {
  name?: string | null;
  description?: string | null;
  model?: string | null;
  instructions?: string | null;
  tools?: NonNullable<unknown> | null;
  metadata?: NonNullable<unknown> | null;
  temperature?: number | null;
  topP?: number | null;
}

const AssistantInput = builder.inputRef<AssistantInputShape>('AssistantInput').implement({
  description:
    'An assistant’s fields. createAssistant needs `model`; updateAssistant sends only the fields present, each replacing the stored value (an explicit null clears it, except `model` and `tools`).',
  fields: (t) => ({
    name: t.string({ description: 'Its name, at most 256 characters.' }),
    description: t.string({ description: 'Its description, at most 512 characters.' }),
    model: t.string({ description: 'The model it runs; required by createAssistant.' }),
    instructions: t.string({ description: 'Its instructions, at most 256,000 characters.' }),
    tools: t.field({
      type: 'JSON',
      description:
        'Its tools, in the Threads API’s shape (as RunInput.tools): at most 128 (a run is given at most 20), a function’s `parameters` at most 64 KB as JSON.',
    }),
    metadata: t.field({ type: 'JSON', description: 'Up to 16 string pairs (keys ≤ 64, values ≤ 512 characters).' }),
    temperature: t.float({ description: 'Sampling temperature, 0 to 2.' }),
    topP: t.float({ description: 'Nucleus sampling, 0 to 1 (the API’s `top_p`).' }),
  }),
});

/** Validates an AssistantInput by the same rules as a run's; only the fields present are kept. */
function toAssistantFields(input: AssistantInputShape, creating: boolean): AssistantFields {
  const fields: AssistantFields = {};
  if (input.model === null || (creating && input.model === undefined)) {
    throw badUserInput('input.model: an assistant needs a model', 'input.model');
  }
  if (input.model !== undefined) {
    if (input.model.length === 0) throw badUserInput('input.model: must not be empty', 'input.model');
    fields.model = input.model;
  }
  if (input.name !== undefined) {
    if (input.name !== null) refuse(checkLength(input.name, 'input.name', MAX_ASSISTANT_NAME_CHARACTERS));
    fields.name = input.name;
  }
  if (input.description !== undefined) {
    if (input.description !== null) {
      refuse(checkLength(input.description, 'input.description', MAX_ASSISTANT_DESCRIPTION_CHARACTERS));
    }
    fields.description = input.description;
  }
  if (input.instructions !== undefined) {
    if (input.instructions !== null) refuse(checkInstructions(input.instructions, 'input.instructions'));
    fields.instructions = input.instructions;
  }
  if (input.tools === null) throw badUserInput('input.tools: give [] for no tools', 'input.tools');
  if (input.tools !== undefined) {
    refuse(checkTools(input.tools, 'input.tools', MAX_ASSISTANT_TOOLS));
    fields.tools = input.tools as unknown[];
  }
  if (input.metadata !== undefined) {
    if (input.metadata !== null) refuse(checkMetadata(input.metadata, 'input.metadata'));
    fields.metadata = input.metadata as Record<string, string> | null;
  }
  if (input.temperature !== undefined) fields.temperature = input.temperature;
  if (input.topP !== undefined) fields.topP = input.topP;
  return fields;
}

function assistantIdOf(value: string | number, argument: string): string {
  const id = String(value);
  refuse(checkThreadId(id, argument));
  return id;
}

interface AssistantConnection {
  assistants: Assistant[];
  hasNextPage: boolean;
}

const AssistantEdgeRef = builder.objectRef<Assistant>('AssistantEdge').implement({
  description: 'An assistant of a connection, with its cursor.',
  fields: (t) => ({
    cursor: t.string({
      description: 'An opaque cursor for this assistant: pass it as `after`.',
      resolve: (assistant) => assistantCursor(assistant.id),
    }),
    node: t.field({ type: AssistantRef, description: 'The assistant.', resolve: (assistant) => assistant }),
  }),
});

const AssistantConnectionRef = builder.objectRef<AssistantConnection>('AssistantConnection').implement({
  description: 'One page of the assistants, newest first (a Relay connection), forward only.',
  fields: (t) => ({
    edges: t.field({
      type: [AssistantEdgeRef],
      description: 'The assistants of this page with their cursors.',
      extensions: { cost: { listSize: 'page' } },
      resolve: (connection, _args, ctx) => ctx.pace(connection.assistants),
    }),
    nodes: t.field({
      type: [AssistantRef],
      description: 'The assistants of this page (the edges without cursors).',
      extensions: { cost: { listSize: 'page' } },
      resolve: (connection, _args, ctx) => ctx.pace(connection.assistants),
    }),
    pageInfo: t.field({
      type: PageInfoRef,
      description: 'Where this page sits: cursors of its ends and whether more follow.',
      resolve: ({ assistants, hasNextPage }) => {
        const first = assistants[0];
        const last = assistants.at(-1);
        return {
          hasNextPage,
          hasPreviousPage: false,
          startCursor: first ? assistantCursor(first.id) : null,
          endCursor: last ? assistantCursor(last.id) : null,
        };
      },
    }),
  }),
});

const DeletedAssistantRef = builder.objectRef<{ id: string; deleted: boolean }>('DeletedAssistant').implement({
  description: 'The answer to deleteAssistant.',
  fields: (t) => ({
    id: t.exposeID('id', { description: 'The id of the deleted assistant.' }),
    deleted: t.exposeBoolean('deleted', { description: 'True when the assistant is gone.' }),
  }),
});

builder.queryFields((t) => ({
  assistant: t.field({
    type: AssistantRef,
    nullable: true,
    description: 'The assistant with this id, or null when there is none.',
    args: { id: t.arg.id({ required: true, description: 'The assistant id (`asst_…`).' }) },
    extensions: { cost: { batched: { loader: 'assistant', keyArgs: ['id'] } } },
    resolve: (_root, args, ctx) => ctx.loaders.runs.assistant(assistantIdOf(args.id, 'id')),
  }),
  assistants: t.field({
    type: AssistantConnectionRef,
    extensions: {
      cost: { upstreamCalls: 1, page: { fromArgs: ['first'], default: DEFAULT_PAGE_SIZE, max: MAX_PAGE_SIZE } },
    },
    description: `The assistants, newest first, one page per upstream list call: \`first\` (default ${DEFAULT_PAGE_SIZE}) after the \`after\` cursor.`,
    args: {
      first: t.arg.int({ description: `At most this many assistants, 1 to ${MAX_PAGE_SIZE}.` }),
      after: t.arg.string({ description: 'Page forward from the assistant with this cursor (not included).' }),
    },
    resolve: async (_root, args, ctx): Promise<AssistantConnection> => {
      const limit = args.first ?? DEFAULT_PAGE_SIZE;
      if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE_SIZE) {
        throw badUserInput(`first: must be from 1 to ${MAX_PAGE_SIZE}, got ${limit}`, 'first');
      }
      let after: string | undefined;
      if (args.after != null) {
        after = cursorAssistantId(args.after);
        if (after === undefined) throw badUserInput('after: not a cursor the assistants handed out', 'after');
      }
      const page = await ctx.upstream.listAssistants(
        after ? { limit, order: 'desc', after } : { limit, order: 'desc' },
      );
      for (const assistant of page.data) ctx.loaders.runs.primeAssistant(assistant.id, assistant);
      return { assistants: page.data, hasNextPage: page.hasMore && page.data.length > 0 };
    },
  }),
}));

builder.mutationFields((t) => ({
  createAssistant: t.field({
    type: AssistantRef,
    description:
      'Creates an assistant. Never sent upstream twice by the gateway; when the outcome is unknown the error says `extensions.outcome: "unknown"`, and a retry with the same `idempotencyKey` is safe.',
    args: {
      input: t.arg({ type: AssistantInput, required: true, description: 'The new assistant; `model` is required.' }),
      idempotencyKey: t.arg.string({
        description:
          'Makes the create safe to retry: the same key from the same caller within 24 hours returns the assistant first created for it; the same key with a different input is IDEMPOTENCY_CONFLICT. 1 to 255 printable ASCII characters.',
      }),
    },
    extensions: { cost: { upstreamCalls: 1 } },
    resolve: async (_root, args, ctx) => {
      const body = toAssistantFields(args.input, true);
      assertIdempotencyKey(args.idempotencyKey, 'idempotencyKey');
      const assistant = await idempotentCreate(
        ctx,
        args.idempotencyKey,
        { createAssistant: body },
        'assistant',
        (key) => ctx.upstream.createAssistant(body, key),
      );
      ctx.loaders.runs.primeAssistant(assistant.id, assistant);
      return assistant;
    },
  }),
  updateAssistant: t.field({
    type: AssistantRef,
    description: 'Changes an assistant: only the fields present are sent. A missing assistant is `NOT_FOUND`.',
    args: {
      id: t.arg.id({ required: true, description: 'The assistant id (`asst_…`).' }),
      input: t.arg({ type: AssistantInput, required: true, description: 'The fields to replace.' }),
    },
    extensions: { cost: { upstreamCalls: 1 } },
    resolve: async (_root, args, ctx) => {
      const id = assistantIdOf(args.id, 'id');
      const assistant = await ctx.upstream.updateAssistant(id, toAssistantFields(args.input, false));
      ctx.loaders.runs.primeAssistant(id, assistant);
      return assistant;
    },
  }),
  deleteAssistant: t.field({
    type: DeletedAssistantRef,
    description: 'Deletes an assistant. A missing assistant is `NOT_FOUND`; later reads in the same request see null.',
    args: { id: t.arg.id({ required: true, description: 'The assistant id (`asst_…`).' }) },
    extensions: { cost: { upstreamCalls: 1 } },
    resolve: async (_root, args, ctx) => {
      const id = assistantIdOf(args.id, 'id');
      const deleted = await ctx.upstream.deleteAssistant(id);
      ctx.loaders.runs.primeAssistant(id, null);
      return deleted;
    },
  }),
}));
