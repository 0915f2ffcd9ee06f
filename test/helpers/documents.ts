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

export const RunFieldsFragment = graphql(/* GraphQL */ `
  fragment RunFields on Run {
    id
    runId
    threadId
    assistantId
    status
    model
    instructions
    tools
    metadata
    createdAt
    startedAt
    completedAt
    failedAt
    cancelledAt
    lastError {
      code
      message
    }
    incompleteReason
    requiredToolCalls {
      id
      name
      arguments
    }
    usage {
      promptTokens
      completionTokens
      totalTokens
    }
  }
`);

export const CreateRunDocument = graphql(/* GraphQL */ `
  mutation CreateRun($threadId: ID!, $input: RunInput!, $idempotencyKey: String) {
    createRun(threadId: $threadId, input: $input, idempotencyKey: $idempotencyKey) {
      ...RunFields
    }
  }
`);

export const GetRunDocument = graphql(/* GraphQL */ `
  query GetRun($threadId: ID!, $id: ID!) {
    run(threadId: $threadId, id: $id) {
      ...RunFields
      messages {
        id
        role
        text
        runId
      }
    }
  }
`);

export const SubmitToolOutputsDocument = graphql(/* GraphQL */ `
  mutation SubmitToolOutputs($threadId: ID!, $runId: ID!, $toolOutputs: [ToolOutputInput!]!) {
    submitToolOutputs(threadId: $threadId, runId: $runId, toolOutputs: $toolOutputs) {
      ...RunFields
    }
  }
`);

export const CancelRunDocument = graphql(/* GraphQL */ `
  mutation CancelRun($threadId: ID!, $runId: ID!) {
    cancelRun(threadId: $threadId, runId: $runId) {
      ...RunFields
    }
  }
`);

export const ThreadRunsDocument = graphql(/* GraphQL */ `
  query ThreadRuns($id: ID!, $first: Int, $after: String, $order: MessageOrder) {
    thread(id: $id) {
      id
      runs(first: $first, after: $after, order: $order) {
        edges {
          cursor
          node {
            id
            runId
            status
            thread {
              id
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
`);

export const ThreadRunMessagesDocument = graphql(/* GraphQL */ `
  query ThreadRunMessages($id: ID!) {
    thread(id: $id) {
      runs(first: 100, order: ASC) {
        nodes {
          runId
          messages {
            id
            text
            runId
          }
        }
      }
    }
  }
`);

export const RunNodeDocument = graphql(/* GraphQL */ `
  query RunNode($id: ID!) {
    node(id: $id) {
      __typename
      id
      ... on Run {
        runId
        threadId
        status
      }
      ... on Assistant {
        model
      }
    }
  }
`);

export const AssistantFieldsFragment = graphql(/* GraphQL */ `
  fragment AssistantFields on Assistant {
    id
    name
    description
    model
    instructions
    tools
    metadata
    temperature
    topP
    createdAt
  }
`);

export const CreateAssistantDocument = graphql(/* GraphQL */ `
  mutation CreateAssistant($input: AssistantInput!, $idempotencyKey: String) {
    createAssistant(input: $input, idempotencyKey: $idempotencyKey) {
      ...AssistantFields
    }
  }
`);

export const GetAssistantDocument = graphql(/* GraphQL */ `
  query GetAssistant($id: ID!) {
    assistant(id: $id) {
      ...AssistantFields
    }
  }
`);

export const ListAssistantsDocument = graphql(/* GraphQL */ `
  query ListAssistants($first: Int, $after: String) {
    assistants(first: $first, after: $after) {
      edges {
        cursor
        node {
          id
          name
        }
      }
      pageInfo {
        hasNextPage
        endCursor
      }
    }
  }
`);

export const UpdateAssistantDocument = graphql(/* GraphQL */ `
  mutation UpdateAssistant($id: ID!, $input: AssistantInput!) {
    updateAssistant(id: $id, input: $input) {
      ...AssistantFields
    }
  }
`);

export const DeleteAssistantDocument = graphql(/* GraphQL */ `
  mutation DeleteAssistant($id: ID!) {
    deleteAssistant(id: $id) {
      id
      deleted
    }
  }
`);

export const ViewerThreadIdsDocument = graphql(/* GraphQL */ `
  query ViewerThreadIds(
    $first: Int
    $after: String
    $last: Int
    $before: String
    $order: MessageOrder
    $metadata: JSON
  ) {
    viewer {
      threads(first: $first, after: $after, last: $last, before: $before, order: $order, metadata: $metadata) {
        totalCount
        edges {
          cursor
          node {
            id
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

export const ViewerThreadsDocument = graphql(/* GraphQL */ `
  query ViewerThreads($first: Int, $after: String, $metadata: JSON) {
    viewer {
      threads(first: $first, after: $after, metadata: $metadata) {
        nodes {
          ...ThreadFields
        }
        pageInfo {
          hasNextPage
          endCursor
        }
      }
    }
  }
`);

export const SidebarDocument = graphql(/* GraphQL */ `
  query Sidebar {
    viewer {
      threads(first: 50) {
        nodes {
          id
        }
      }
    }
  }
`);

export const AdoptThreadDocument = graphql(/* GraphQL */ `
  mutation AdoptThread($id: ID!) {
    adoptThread(id: $id) {
      ...ThreadFields
    }
  }
`);

export const ForgetThreadDocument = graphql(/* GraphQL */ `
  mutation ForgetThread($id: ID!) {
    forgetThread(id: $id)
  }
`);

export const StartEchoRunDocument = graphql(/* GraphQL */ `
  mutation StartEchoRun($threadId: ID!) {
    createRun(threadId: $threadId, input: { model: "echo" }) {
      id
      runId
      status
    }
  }
`);

export const WatchRunDocument = graphql(/* GraphQL */ `
  subscription WatchRun($threadId: ID!, $runId: ID!, $after: String) {
    runEvents(threadId: $threadId, runId: $runId, after: $after) {
      __typename
      ... on RunStatusChanged {
        cursor
        run {
          id
          status
        }
      }
      ... on MessageTextDelta {
        cursor
        messageId
        index
        text
      }
      ... on MessageCompleted {
        cursor
        message {
          id
          text
        }
      }
    }
  }
`);
