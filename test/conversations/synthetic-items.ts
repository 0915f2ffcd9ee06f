import type { Handler, Reply, SeenRequest } from '../helpers/test-upstream.ts';

/**
 * A Conversations upstream whose conversation `conversationId` holds `items` (oldest first), of
 * any type: the local backend stores only messages, and OpenAI's conversations also hold tool
 * calls, reasoning and the like. It serves the item list (limit, order, after) and single items the
 * way the API does; every other request reaches the wrapped local backend.
 */
export function servingItems(
  conversationId: string,
  items: ReadonlyArray<{ id: string; type: string; [field: string]: unknown }>,
): Handler {
  const listPath = `/v1/conversations/${conversationId}/items`;
  return (request: SeenRequest): Reply => {
    const url = new URL(request.path, 'http://upstream.test');
    if (request.method !== 'GET' || !url.pathname.startsWith(listPath)) return { forward: true };
    if (url.pathname === listPath) {
      const limit = Number(url.searchParams.get('limit') ?? '20');
      const ordered = url.searchParams.get('order') === 'asc' ? [...items] : [...items].reverse();
      const after = url.searchParams.get('after');
      const start = after === null ? 0 : ordered.findIndex((item) => item.id === after) + 1;
      if (after !== null && start === 0)
        return { status: 400, body: { error: { message: 'bad after', param: 'after' } } };
      const data = ordered.slice(start, start + limit);
      return {
        status: 200,
        body: {
          object: 'list',
          data,
          first_id: data[0]?.id ?? null,
          last_id: data.at(-1)?.id ?? null,
          has_more: start + limit < ordered.length,
        },
      };
    }
    const itemId = url.pathname.slice(listPath.length + 1);
    const item = items.find((candidate) => candidate.id === itemId);
    return item ? { status: 200, body: item } : { status: 404, body: { error: { message: 'no such item' } } };
  };
}

export function messageItem(id: string, text: string, role = 'user') {
  return {
    id,
    type: 'message',
    status: 'completed',
    role,
    content: [role === 'assistant' ? { type: 'output_text', text, annotations: [] } : { type: 'input_text', text }],
  };
}

export function toolCallItem(id: string) {
  return { id, type: 'function_call', status: 'completed', call_id: `call_${id}`, name: 'lookup', arguments: '{}' };
}
