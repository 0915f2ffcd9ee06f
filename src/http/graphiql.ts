/** The operation GraphiQL opens with: run it as is against the local backend. */
export const GRAPHIQL_DEFAULT_QUERY = /* GraphQL */ `# Welcome to the Threads GraphQL gateway.
# 1. Run "CreateThread" and copy the id it returns into the variables as "id".
# 2. Run "CreateMessage" to add a message, then "ReadThread" to page through the messages.
# 3. Run "StartRun" (the built-in "echo" model answers offline), copy its id into the variables as
#    "runId", and run "WatchRun" to see its events as they come (or "ReadRun" to read it once).

mutation CreateThread {
  createThread(
    input: {
      metadata: { topic: "hello" }
      messages: [{ role: USER, content: "Hi! What can you do?" }]
    }
  ) {
    id
    createdAt
    metadata
  }
}

mutation CreateMessage($id: ID!) {
  createMessage(
    threadId: $id
    input: { role: ASSISTANT, content: "I can answer questions about your order." }
  ) {
    id
    role
    text
  }
}

query ReadThread($id: ID!, $after: String) {
  thread(id: $id) {
    id
    metadata
    messages(first: 10, after: $after, order: ASC) {
      edges {
        cursor
        node {
          id
          role
          createdAt
          content {
            ... on TextContent {
              text
            }
            ... on ImageUrlContent {
              url
            }
          }
        }
      }
      pageInfo {
        hasNextPage
        endCursor
      }
    }
  }
}

mutation StartRun($id: ID!) {
  createRun(threadId: $id, input: { model: "echo", instructions: "Answer briefly." }) {
    id
    status
  }
}

subscription WatchRun($id: ID!, $runId: ID!) {
  runEvents(threadId: $id, runId: $runId) {
    __typename
    ... on RunStatusChanged { cursor run { status } }
    ... on MessageTextDelta { text }
    ... on MessageCompleted { message { role text } }
  }
}

query ReadRun($id: ID!, $runId: ID!) {
  run(threadId: $id, id: $runId) {
    status
    messages {
      role
      text
    }
    usage {
      totalTokens
    }
  }
}
`;
