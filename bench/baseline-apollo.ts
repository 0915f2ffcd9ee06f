import { RESTDataSource } from '@apollo/datasource-rest';
import { ApolloServer } from '@apollo/server';
import { startStandaloneServer } from '@apollo/server/standalone';
import { GraphQLScalarType } from 'graphql';
import { answerHeapQueries } from './serve-gateway.ts';

// The baseline: the same schema built the way people usually build it, Apollo Server 5 with one
// RESTDataSource per request, default settings. Used only by `npm run bench`.
const baseURL = `${process.env.OPENAI_BASE_URL}/`;
const apiKey = process.env.OPENAI_API_KEY ?? '';

interface Thread {
  id: string;
  created_at: number;
  metadata: Record<string, string> | null;
  tool_resources: unknown;
}

interface Message {
  id: string;
  created_at: number;
  role: string;
  content: Array<{ type: string; text?: { value: string } }>;
}

interface MessageList {
  data: Message[];
  has_more: boolean;
}

class ThreadsAPI extends RESTDataSource {
  override baseURL = baseURL;
  override willSendRequest(_path: string, request: { headers: Record<string, string> }) {
    request.headers.authorization = `Bearer ${apiKey}`;
    request.headers['openai-beta'] = 'assistants=v2';
  }
  async getThread(id: string): Promise<Thread | null> {
    try {
      return await this.get<Thread>(`threads/${encodeURIComponent(id)}`);
    } catch (error) {
      if ((error as { extensions?: { response?: { status?: number } } }).extensions?.response?.status === 404)
        return null;
      throw error;
    }
  }
  createThread(body: unknown) {
    return this.post<Thread>('threads', { body: body as object });
  }
  updateThread(id: string, body: unknown) {
    return this.post<Thread>(`threads/${encodeURIComponent(id)}`, { body: body as object });
  }
  listMessages(threadId: string, limit: number, order: string) {
    return this.get<MessageList>(`threads/${encodeURIComponent(threadId)}/messages`, {
      params: { limit: String(limit), order },
    });
  }
  deleteThread(id: string) {
    return this.delete<{ id: string; deleted: boolean }>(`threads/${encodeURIComponent(id)}`);
  }
}

const typeDefs = /* GraphQL */ `
  scalar JSON
  type Thread {
    id: ID!
    createdAt: Int!
    metadata: JSON!
    toolResources: JSON
    messages(first: Int, order: MessageOrder = DESC): ThreadMessageConnection!
  }
  enum MessageOrder { ASC DESC }
  enum ThreadMessageRole { USER ASSISTANT UNKNOWN }
  type ThreadMessage { id: ID! role: ThreadMessageRole! text: String! createdAt: Int }
  type ThreadMessageEdge { cursor: String! node: ThreadMessage! }
  type PageInfo { hasNextPage: Boolean! hasPreviousPage: Boolean! startCursor: String endCursor: String }
  type ThreadMessageConnection { edges: [ThreadMessageEdge!]! nodes: [ThreadMessage!]! pageInfo: PageInfo! }
  type DeletedThread { id: ID! deleted: Boolean! }
  input UpdateThreadInput { metadata: JSON toolResources: JSON }
  input CreateThreadInput { toolResources: JSON metadata: JSON }
  type Query { thread(id: ID!): Thread threads(ids: [ID!]!): [Thread]! }
  type Mutation {
    createThread(input: CreateThreadInput): Thread!
    updateThread(id: ID!, input: UpdateThreadInput!): Thread!
    deleteThread(id: ID!): DeletedThread!
  }
`;

interface Context {
  dataSources: { threads: ThreadsAPI };
}

const resolvers = {
  JSON: new GraphQLScalarType({ name: 'JSON' }),
  Thread: {
    createdAt: (thread: Thread) => thread.created_at,
    metadata: (thread: Thread) => thread.metadata ?? {},
    toolResources: (thread: Thread) => thread.tool_resources ?? null,
    messages: async (
      thread: Thread,
      { first, order }: { first?: number | null; order: 'ASC' | 'DESC' },
      { dataSources }: Context,
    ) => {
      const page = await dataSources.threads.listMessages(thread.id, first ?? 20, order.toLowerCase());
      return {
        edges: page.data.map((message) => ({
          cursor: Buffer.from(`msg:${message.id}`).toString('base64url'),
          node: message,
        })),
        nodes: page.data,
        pageInfo: {
          hasNextPage: page.has_more,
          hasPreviousPage: false,
          startCursor: page.data[0] ? Buffer.from(`msg:${page.data[0].id}`).toString('base64url') : null,
          endCursor: page.data.at(-1) ? Buffer.from(`msg:${page.data.at(-1)?.id}`).toString('base64url') : null,
        },
      };
    },
  },
  ThreadMessage: {
    createdAt: (message: Message) => message.created_at,
    role: (message: Message) =>
      message.role === 'user' || message.role === 'assistant' ? message.role.toUpperCase() : 'UNKNOWN',
    text: (message: Message) =>
      message.content.flatMap((part) => (part.type === 'text' && part.text ? [part.text.value] : [])).join('\n'),
  },
  Query: {
    thread: (_: unknown, { id }: { id: string }, { dataSources }: Context) => dataSources.threads.getThread(id),
    threads: (_: unknown, { ids }: { ids: string[] }, { dataSources }: Context) =>
      Promise.all(ids.map((id) => dataSources.threads.getThread(id))),
  },
  Mutation: {
    createThread: (
      _: unknown,
      { input }: { input?: { metadata?: unknown; toolResources?: unknown } },
      { dataSources }: Context,
    ) => dataSources.threads.createThread({ metadata: input?.metadata, tool_resources: input?.toolResources }),
    updateThread: (
      _: unknown,
      { id, input }: { id: string; input: { metadata?: unknown; toolResources?: unknown } },
      { dataSources }: Context,
    ) => dataSources.threads.updateThread(id, { metadata: input.metadata, tool_resources: input.toolResources }),
    deleteThread: (_: unknown, { id }: { id: string }, { dataSources }: Context) =>
      dataSources.threads.deleteThread(id),
  },
};

const server = new ApolloServer<Context>({ typeDefs, resolvers });
const { url } = await startStandaloneServer(server, {
  // The same listen backlog as our gateway gets in the bench, so 1,000 connects at once are fair to both.
  listen: {
    port: Number(process.env.PORT ?? 0),
    host: '127.0.0.1',
    backlog: Number(process.env.BENCH_BACKLOG ?? 4096),
  },
  context: async () => ({ dataSources: { threads: new ThreadsAPI() } }),
});
process.send?.({ url });
answerHeapQueries();
