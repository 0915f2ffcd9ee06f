import { describe, expect, it } from 'vitest';
import {
  checkMessageItem,
  fromConversationParts,
  readRole,
  toConversationParts,
  toMessageItem,
} from '../../src/domain/conversation-items.ts';
import {
  refuseMessage,
  refuseMessageUpdate,
  refuseThreadCreate,
  refuseThreadUpdate,
  toConversationCreate,
  toMessage,
  toThread,
} from '../../src/upstream/conversations/mapping.ts';

describe('content parts, graph to Conversations', () => {
  const parts = [
    { type: 'text', text: 'hello' },
    { type: 'image_url', image_url: { url: 'https://example.com/a.png', detail: 'high' } },
    { type: 'image_file', image_file: { file_id: 'file_1' } },
  ];

  it('sends text as input_text for USER, SYSTEM and DEVELOPER, images as input_image', () => {
    for (const role of ['user', 'system', 'developer']) {
      expect(toConversationParts(role, parts)).toEqual([
        { type: 'input_text', text: 'hello' },
        { type: 'input_image', image_url: 'https://example.com/a.png', detail: 'high' },
        { type: 'input_image', file_id: 'file_1', detail: 'auto' },
      ]);
    }
  });

  it('sends text as output_text for ASSISTANT, keeping annotations of read-shaped parts', () => {
    expect(toConversationParts('assistant', [{ type: 'text', text: 'hi' }])).toEqual([
      { type: 'output_text', text: 'hi', annotations: [] },
    ]);
    const annotation = { type: 'file_path', file_path: { file_id: 'f' }, text: 'x', start_index: 0, end_index: 1 };
    expect(
      toConversationParts('assistant', [{ type: 'text', text: { value: 'hi', annotations: [annotation] } }]),
    ).toEqual([{ type: 'output_text', text: 'hi', annotations: [annotation] }]);
  });

  it('keeps a plain string content a string', () => {
    expect(toMessageItem('user', 'Where is my order?')).toEqual({
      type: 'message',
      role: 'user',
      content: 'Where is my order?',
    });
  });
});

describe('content parts, Conversations to graph', () => {
  it('reads input_text, output_text and text as text, output_text with its annotations', () => {
    const annotation = { type: 'url_citation', url: 'https://a.example', start_index: 0, end_index: 1, title: 't' };
    expect(
      fromConversationParts([
        { type: 'input_text', text: 'a' },
        { type: 'output_text', text: 'b', annotations: [annotation] },
        { type: 'text', text: 'c' },
      ]),
    ).toEqual([
      { type: 'text', text: { value: 'a', annotations: [] } },
      { type: 'text', text: { value: 'b', annotations: [annotation] } },
      { type: 'text', text: { value: 'c', annotations: [] } },
    ]);
  });

  it('reads input_image as an image file or URL, refusal as a refusal, and skips the rest', () => {
    expect(
      fromConversationParts([
        { type: 'input_image', file_id: 'file_1', image_url: null, detail: 'low' },
        { type: 'input_image', image_url: 'https://example.com/b.png', file_id: null, detail: 'auto' },
        { type: 'refusal', refusal: 'no' },
        { type: 'input_file', file_id: 'file_2' },
        { type: 'computer_screenshot', image_url: 'x', file_id: null, detail: 'auto' },
        { type: 'reasoning_text', text: 'thinking' },
      ]),
    ).toEqual([
      { type: 'image_file', image_file: { file_id: 'file_1', detail: 'low' } },
      { type: 'image_url', image_url: { url: 'https://example.com/b.png', detail: 'auto' } },
      { type: 'refusal', refusal: 'no' },
    ]);
  });

  it('reads a string content as one text part', () => {
    expect(fromConversationParts('hi')).toEqual([{ type: 'text', text: { value: 'hi', annotations: [] } }]);
  });

  it('maps known roles through and any other role to unknown', () => {
    expect(['user', 'assistant', 'system', 'developer', 'tool'].map(readRole)).toEqual([
      'user',
      'assistant',
      'system',
      'developer',
      'tool',
    ]);
    expect(['critic', 'discriminator', 'unknown', 7].map(readRole)).toEqual([
      'unknown',
      'unknown',
      'unknown',
      'unknown',
    ]);
  });
});

describe('threads and items', () => {
  it('reads a conversation as a Thread with tool resources null', () => {
    expect(
      toThread({ id: 'conv_1', object: 'conversation', created_at: 1_700_000_000, metadata: { a: 'b' } }, 'conv_1'),
    ).toEqual({
      id: 'conv_1',
      object: 'thread',
      created_at: 1_700_000_000,
      metadata: { a: 'b' },
      tool_resources: null,
    });
    expect(() => toThread({ id: 'x', object: 'thread.deleted', created_at: 1 })).toThrow();
    expect(() => toThread({ id: 'conv_2', object: 'conversation', created_at: 1 }, 'conv_1')).toThrow();
  });

  it('reads a message item with no timestamp, metadata, attachments, assistant or run', () => {
    expect(
      toMessage(
        {
          id: 'msg_1',
          type: 'message',
          role: 'assistant',
          status: 'completed',
          content: [{ type: 'output_text', text: 'hi', annotations: [] }],
        },
        'conv_1',
      ),
    ).toEqual({
      id: 'msg_1',
      thread_id: 'conv_1',
      created_at: null,
      role: 'assistant',
      content: [{ type: 'text', text: { value: 'hi', annotations: [] } }],
      attachments: null,
      metadata: {},
      status: 'completed',
      assistant_id: null,
      run_id: null,
    });
  });

  it('reads an item that is not a message as null', () => {
    expect(
      toMessage({ id: 'fc_1', type: 'function_call', name: 'f', arguments: '{}', call_id: 'c' }, 'conv_1'),
    ).toBeNull();
    expect(toMessage({ id: 'rs_1', type: 'reasoning', summary: [] }, 'conv_1')).toBeNull();
  });

  it('builds the create body: messages as items, metadata as given', () => {
    expect(
      toConversationCreate({
        metadata: { customer: 'c_42' },
        messages: [
          { role: 'user', content: 'Where is my order?' },
          { role: 'assistant', content: [{ type: 'text', text: 'Shipped.' }] },
        ],
      }),
    ).toEqual({
      metadata: { customer: 'c_42' },
      items: [
        { type: 'message', role: 'user', content: 'Where is my order?' },
        { type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'Shipped.', annotations: [] }] },
      ],
    });
  });
});

describe('what the Conversations API cannot carry', () => {
  it('refuses tool resources on create and update, naming the field and the API', () => {
    for (const refusal of [
      refuseThreadCreate({ tool_resources: { code_interpreter: { file_ids: ['f'] } } }),
      refuseThreadUpdate({ tool_resources: { file_search: { vector_store_ids: ['vs'] } } }),
    ]) {
      expect(refusal).toMatchObject({ kind: 'unsupported', argument: 'input.toolResources' });
      expect(refusal?.message).toMatch(/toolResources.*Conversations API/);
    }
    expect(refuseThreadCreate({ tool_resources: null })).toBeNull();
    expect(refuseThreadUpdate({ tool_resources: null, metadata: {} })).toBeNull();
  });

  it('refuses attachments, non-empty message metadata and roles items cannot take', () => {
    expect(
      refuseMessage({ role: 'user', content: 'x', attachments: [{ file_id: 'f', tools: [] }] }, 'input.'),
    ).toMatchObject({
      kind: 'unsupported',
      argument: 'input.attachments',
    });
    expect(refuseMessage({ role: 'user', content: 'x', metadata: { a: 'b' } }, 'input.')).toMatchObject({
      argument: 'input.metadata',
    });
    expect(refuseMessage({ role: 'tool', content: 'x' }, 'input.')).toMatchObject({ argument: 'input.role' });
    expect(refuseMessage({ role: 'user', content: 'x', metadata: {}, attachments: [] }, 'input.')).toBeNull();
    expect(
      refuseThreadCreate({
        messages: [
          { role: 'user', content: 'a' },
          { role: 'user', content: 'b', metadata: { k: 'v' } },
        ],
      }),
    ).toMatchObject({ argument: 'input.messages[1].metadata' });
    expect(refuseMessageUpdate().message).toMatch(/updateMessage.*Conversations API/);
  });

  it('refuses more than 20 initial messages as a limit, naming it', () => {
    const messages = Array.from({ length: 21 }, () => ({ role: 'user' as const, content: 'x' }));
    expect(refuseThreadCreate({ messages })).toMatchObject({ kind: 'limit', argument: 'input.messages' });
    expect(refuseThreadCreate({ messages })?.message).toMatch(/at most 20/);
    expect(refuseThreadCreate({ messages: messages.slice(0, 20) })).toBeNull();
  });
});

describe('message items the local backend accepts', () => {
  it('takes message items with input roles and text or image parts', () => {
    expect(checkMessageItem({ type: 'message', role: 'user', content: 'hi' }, 'items[0]')).toBeNull();
    expect(
      checkMessageItem({ role: 'developer', content: [{ type: 'input_text', text: 'x' }] }, 'items[0]'),
    ).toBeNull();
    expect(
      checkMessageItem(
        { role: 'assistant', content: [{ type: 'output_text', text: 'x', annotations: [] }] },
        'items[0]',
      ),
    ).toBeNull();
  });

  it('refuses other item types, unknown roles, empty content and bad images, naming the param', () => {
    expect(checkMessageItem({ type: 'function_call', role: 'user', content: 'x' }, 'items[0]')?.param).toBe(
      'items[0].type',
    );
    expect(checkMessageItem({ role: 'critic', content: 'x' }, 'items[1]')?.param).toBe('items[1].role');
    expect(checkMessageItem({ role: 'user', content: '' }, 'items[0]')?.param).toBe('items[0].content');
    expect(
      checkMessageItem({ role: 'user', content: [{ type: 'input_image', detail: 'auto' }] }, 'items[0]')?.param,
    ).toBe('items[0].content[0]');
  });
});
