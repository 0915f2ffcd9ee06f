import { type FieldNode, type GraphQLResolveInfo, getNamedType, isObjectType, Kind } from 'graphql';
import { getArgumentValues } from 'graphql/execution/values.js';
import { type ConnectionArgs, planPage } from '../domain/message-pagination.ts';
import type { GatewayContext } from '../graphql/context.ts';
import type { MessageListParams, Thread } from '../upstream/upstream-api.ts';
import { assertThreadId, loadThread } from './thread-input.ts';

/** Fields of a thread that need no read of the thread itself. */
const FREE = new Set(['id', '__typename']);

/**
 * `thread(id) { messages { … } }` is what a chat view asks for. When a selection asks for nothing
 * of the thread but its id and one `messages` connection, the list call alone answers it: the
 * upstream answers 404 for a missing thread, so the thread's own GET would only repeat it. The
 * connection's resolver then finds its page in the request's loader, so the thread costs one
 * upstream call instead of two. Anything else (other fields, fragments, directives, two
 * connections, refused arguments) reads the thread as usual.
 */
export async function loadThreadForSelection(
  ctx: GatewayContext,
  id: string | number,
  info: GraphQLResolveInfo,
): Promise<Thread | null> {
  const threadId = String(id);
  const list = messagesOnlyRead(info, threadId);
  if (!list) return loadThread(ctx, threadId);
  assertThreadId(threadId, 'id');
  try {
    const page = await ctx.loaders.messages.page(threadId, list);
    return page ? { id: threadId, object: 'thread', created_at: 0, metadata: {}, tool_resources: null } : null;
  } catch {
    // The list failed: read the thread as usual, and the connection reports the list's own error.
    return loadThread(ctx, threadId);
  }
}

function messagesOnlyRead(info: GraphQLResolveInfo, threadId: string): MessageListParams | undefined {
  const type = getNamedType(info.returnType);
  const messages = isObjectType(type) ? type.getFields().messages : undefined;
  if (!messages) return undefined;
  let node: FieldNode | undefined;
  for (const fieldNode of info.fieldNodes) {
    for (const selection of fieldNode.selectionSet?.selections ?? []) {
      if (selection.kind !== Kind.FIELD || selection.directives?.length) return undefined;
      if (FREE.has(selection.name.value)) continue;
      if (selection.name.value !== 'messages' || node) return undefined;
      node = selection;
    }
  }
  if (!node) return undefined;
  let args: ConnectionArgs;
  try {
    args = getArgumentValues(messages, node, info.variableValues) as ConnectionArgs;
  } catch {
    return undefined;
  }
  const plan = planPage(
    { first: args.first, after: args.after, last: args.last, before: args.before, order: args.order ?? 'desc' },
    threadId,
  );
  return 'message' in plan ? undefined : plan.list;
}
