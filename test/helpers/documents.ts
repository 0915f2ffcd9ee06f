import { graphql } from '../gql/index.ts';

// The operations the tests run, typed by `npm run codegen` from schema.graphql.

export const ThreadFieldsFragment = graphql(/* GraphQL */ `
  fragment ThreadFields on Thread {
    id
    createdAt
    metadata
    toolResources
  }
`);

export const CreateThreadDocument = graphql(/* GraphQL */ `
  mutation CreateThread($input: CreateThreadInput) {
    createThread(input: $input) {
      ...ThreadFields
    }
  }
`);

export const GetThreadDocument = graphql(/* GraphQL */ `
  query GetThread($id: ID!) {
    thread(id: $id) {
      ...ThreadFields
    }
  }
`);

export const GetThreadsDocument = graphql(/* GraphQL */ `
  query GetThreads($ids: [ID!]!) {
    threads(ids: $ids) {
      ...ThreadFields
    }
  }
`);

export const UpdateThreadDocument = graphql(/* GraphQL */ `
  mutation UpdateThread($id: ID!, $input: UpdateThreadInput!) {
    updateThread(id: $id, input: $input) {
      ...ThreadFields
    }
  }
`);

export const DeleteThreadDocument = graphql(/* GraphQL */ `
  mutation DeleteThread($id: ID!) {
    deleteThread(id: $id) {
      id
      deleted
    }
  }
`);

export const MessageFieldsFragment = graphql(/* GraphQL */ `
  fragment MessageFields on ThreadMessage {
    id
    threadId
    createdAt
    role
    text
    attachments
    metadata
    status
    assistantId
    runId
    content {
      __typename
      ... on TextContent {
        text
        annotations
      }
      ... on ImageFileContent {
        fileId
        detail
      }
      ... on ImageUrlContent {
        url
        detail
      }
      ... on RefusalContent {
        refusal
      }
    }
  }
`);

export const CreateMessageDocument = graphql(/* GraphQL */ `
  mutation CreateMessage($threadId: ID!, $input: ThreadMessageInput!, $idempotencyKey: String) {
    createMessage(threadId: $threadId, input: $input, idempotencyKey: $idempotencyKey) {
      ...MessageFields
    }
  }
`);

export const GetMessageDocument = graphql(/* GraphQL */ `
  query GetMessage($threadId: ID!, $id: ID!) {
    message(threadId: $threadId, id: $id) {
      ...MessageFields
    }
  }
`);

export const UpdateMessageDocument = graphql(/* GraphQL */ `
  mutation UpdateMessage($threadId: ID!, $id: ID!, $metadata: JSON!) {
    updateMessage(threadId: $threadId, id: $id, metadata: $metadata) {
      ...MessageFields
    }
  }
`);

export const DeleteMessageDocument = graphql(/* GraphQL */ `
  mutation DeleteMessage($threadId: ID!, $id: ID!) {
    deleteMessage(threadId: $threadId, id: $id) {
      id
      deleted
    }
  }
`);

export const ThreadMessagesDocument = graphql(/* GraphQL */ `
  query ThreadMessages(
    $id: ID!
    $first: Int
    $after: String
    $last: Int
    $before: String
    $order: MessageOrder
  ) {
    thread(id: $id) {
      id
      messages(first: $first, after: $after, last: $last, before: $before, order: $order) {
        edges {
          cursor
          node {
            id
            text
          }
        }
        pageInfo {
          hasNextPage
          hasPreviousPage
          startCursor
          endCursor
        }
      }
    }
  }
`);
