/** The operation GraphiQL opens with: run it as is against the local backend. */
export const GRAPHIQL_DEFAULT_QUERY = /* GraphQL */ `# Welcome to the Threads GraphQL gateway.
# Run "CreateThread", copy the id it returns into the variables as "id", then run "ReadThread".

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
    toolResources
  }
}

query ReadThread($id: ID!) {
  thread(id: $id) {
    id
    createdAt
    metadata
  }
}
`;
