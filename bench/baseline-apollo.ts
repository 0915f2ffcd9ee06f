import { RESTDataSource } from '@apollo/datasource-rest';
import { ApolloServer } from '@apollo/server';
import { startStandaloneServer } from '@apollo/server/standalone';
import { GraphQLScalarType } from 'graphql';

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
  deleteThread(id: string) {
    return this.delete<{ id: string; deleted: boolean }>(`threads/${encodeURIComponent(id)}`);
  }
}

const typeDefs = /* GraphQL */ `
  scalar JSON
  type Thread { id: ID! createdAt: Int! metadata: JSON! toolResources: JSON }
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
