/* eslint-disable */
import * as types from './graphql.js';
import type { TypedDocumentNode as DocumentNode } from '@graphql-typed-document-node/core';

/**
 * Map of all GraphQL operations in the project.
 *
 * This map has several performance disadvantages:
 * 1. It is not tree-shakeable, so it will include all operations in the project.
 * 2. It is not minifiable, so the string of a GraphQL query will be multiple times inside the bundle.
 * 3. It does not support dead code elimination, so it will add unused operations.
 *
 * Therefore it is highly recommended to use the babel or swc plugin for production.
 * Learn more about it here: https://the-guild.dev/graphql/codegen/plugins/presets/preset-client#reducing-bundle-size
 */
type Documents = {
    "\n  fragment ThreadFields on Thread {\n    id\n    createdAt\n    metadata\n    toolResources\n  }\n": typeof types.ThreadFieldsFragmentDoc,
    "\n  mutation CreateThread($input: CreateThreadInput) {\n    createThread(input: $input) {\n      ...ThreadFields\n    }\n  }\n": typeof types.CreateThreadDocument,
    "\n  query GetThread($id: ID!) {\n    thread(id: $id) {\n      ...ThreadFields\n    }\n  }\n": typeof types.GetThreadDocument,
    "\n  query GetThreads($ids: [ID!]!) {\n    threads(ids: $ids) {\n      ...ThreadFields\n    }\n  }\n": typeof types.GetThreadsDocument,
    "\n  mutation UpdateThread($id: ID!, $input: UpdateThreadInput!) {\n    updateThread(id: $id, input: $input) {\n      ...ThreadFields\n    }\n  }\n": typeof types.UpdateThreadDocument,
    "\n  mutation DeleteThread($id: ID!) {\n    deleteThread(id: $id) {\n      id\n      deleted\n    }\n  }\n": typeof types.DeleteThreadDocument,
    "\n  fragment MessageFields on ThreadMessage {\n    id\n    threadId\n    createdAt\n    role\n    text\n    attachments\n    metadata\n    status\n    assistantId\n    runId\n    content {\n      __typename\n      ... on TextContent {\n        text\n        annotations\n      }\n      ... on ImageFileContent {\n        fileId\n        detail\n      }\n      ... on ImageUrlContent {\n        url\n        detail\n      }\n      ... on RefusalContent {\n        refusal\n      }\n    }\n  }\n": typeof types.MessageFieldsFragmentDoc,
    "\n  mutation CreateMessage($threadId: ID!, $input: ThreadMessageInput!, $idempotencyKey: String) {\n    createMessage(threadId: $threadId, input: $input, idempotencyKey: $idempotencyKey) {\n      ...MessageFields\n    }\n  }\n": typeof types.CreateMessageDocument,
    "\n  query GetMessage($threadId: ID!, $id: ID!) {\n    message(threadId: $threadId, id: $id) {\n      ...MessageFields\n    }\n  }\n": typeof types.GetMessageDocument,
    "\n  mutation UpdateMessage($threadId: ID!, $id: ID!, $metadata: JSON!) {\n    updateMessage(threadId: $threadId, id: $id, metadata: $metadata) {\n      ...MessageFields\n    }\n  }\n": typeof types.UpdateMessageDocument,
    "\n  mutation DeleteMessage($threadId: ID!, $id: ID!) {\n    deleteMessage(threadId: $threadId, id: $id) {\n      id\n      deleted\n    }\n  }\n": typeof types.DeleteMessageDocument,
    "\n  query ThreadMessages(\n    $id: ID!\n    $first: Int\n    $after: String\n    $last: Int\n    $before: String\n    $order: MessageOrder\n  ) {\n    thread(id: $id) {\n      id\n      messages(first: $first, after: $after, last: $last, before: $before, order: $order) {\n        edges {\n          cursor\n          node {\n            id\n            text\n          }\n        }\n        pageInfo {\n          hasNextPage\n          hasPreviousPage\n          startCursor\n          endCursor\n        }\n      }\n    }\n  }\n": typeof types.ThreadMessagesDocument,
    "\n  fragment RunFields on Run {\n    id\n    runId\n    threadId\n    assistantId\n    status\n    model\n    instructions\n    tools\n    metadata\n    createdAt\n    startedAt\n    completedAt\n    failedAt\n    cancelledAt\n    lastError {\n      code\n      message\n    }\n    incompleteReason\n    requiredToolCalls {\n      id\n      name\n      arguments\n    }\n    usage {\n      promptTokens\n      completionTokens\n      totalTokens\n    }\n  }\n": typeof types.RunFieldsFragmentDoc,
    "\n  mutation CreateRun($threadId: ID!, $input: RunInput!, $idempotencyKey: String) {\n    createRun(threadId: $threadId, input: $input, idempotencyKey: $idempotencyKey) {\n      ...RunFields\n    }\n  }\n": typeof types.CreateRunDocument,
    "\n  query GetRun($threadId: ID!, $id: ID!) {\n    run(threadId: $threadId, id: $id) {\n      ...RunFields\n      messages {\n        id\n        role\n        text\n        runId\n      }\n    }\n  }\n": typeof types.GetRunDocument,
    "\n  mutation SubmitToolOutputs($threadId: ID!, $runId: ID!, $toolOutputs: [ToolOutputInput!]!) {\n    submitToolOutputs(threadId: $threadId, runId: $runId, toolOutputs: $toolOutputs) {\n      ...RunFields\n    }\n  }\n": typeof types.SubmitToolOutputsDocument,
    "\n  mutation CancelRun($threadId: ID!, $runId: ID!) {\n    cancelRun(threadId: $threadId, runId: $runId) {\n      ...RunFields\n    }\n  }\n": typeof types.CancelRunDocument,
    "\n  query ThreadRuns($id: ID!, $first: Int, $after: String, $order: MessageOrder) {\n    thread(id: $id) {\n      id\n      runs(first: $first, after: $after, order: $order) {\n        edges {\n          cursor\n          node {\n            id\n            runId\n            status\n            thread {\n              id\n            }\n          }\n        }\n        pageInfo {\n          hasNextPage\n          endCursor\n        }\n      }\n    }\n  }\n": typeof types.ThreadRunsDocument,
    "\n  query ThreadRunMessages($id: ID!) {\n    thread(id: $id) {\n      runs(first: 100, order: ASC) {\n        nodes {\n          runId\n          messages {\n            id\n            text\n            runId\n          }\n        }\n      }\n    }\n  }\n": typeof types.ThreadRunMessagesDocument,
    "\n  query RunNode($id: ID!) {\n    node(id: $id) {\n      __typename\n      id\n      ... on Run {\n        runId\n        threadId\n        status\n      }\n      ... on Assistant {\n        model\n      }\n    }\n  }\n": typeof types.RunNodeDocument,
    "\n  fragment AssistantFields on Assistant {\n    id\n    name\n    description\n    model\n    instructions\n    tools\n    metadata\n    temperature\n    topP\n    createdAt\n  }\n": typeof types.AssistantFieldsFragmentDoc,
    "\n  mutation CreateAssistant($input: AssistantInput!, $idempotencyKey: String) {\n    createAssistant(input: $input, idempotencyKey: $idempotencyKey) {\n      ...AssistantFields\n    }\n  }\n": typeof types.CreateAssistantDocument,
    "\n  query GetAssistant($id: ID!) {\n    assistant(id: $id) {\n      ...AssistantFields\n    }\n  }\n": typeof types.GetAssistantDocument,
    "\n  query ListAssistants($first: Int, $after: String) {\n    assistants(first: $first, after: $after) {\n      edges {\n        cursor\n        node {\n          id\n          name\n        }\n      }\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n    }\n  }\n": typeof types.ListAssistantsDocument,
    "\n  mutation UpdateAssistant($id: ID!, $input: AssistantInput!) {\n    updateAssistant(id: $id, input: $input) {\n      ...AssistantFields\n    }\n  }\n": typeof types.UpdateAssistantDocument,
    "\n  mutation DeleteAssistant($id: ID!) {\n    deleteAssistant(id: $id) {\n      id\n      deleted\n    }\n  }\n": typeof types.DeleteAssistantDocument,
    "\n  query ViewerThreadIds(\n    $first: Int\n    $after: String\n    $last: Int\n    $before: String\n    $order: MessageOrder\n    $metadata: JSON\n  ) {\n    viewer {\n      threads(first: $first, after: $after, last: $last, before: $before, order: $order, metadata: $metadata) {\n        totalCount\n        edges {\n          cursor\n          node {\n            id\n          }\n        }\n        pageInfo {\n          hasNextPage\n          hasPreviousPage\n          startCursor\n          endCursor\n        }\n      }\n    }\n  }\n": typeof types.ViewerThreadIdsDocument,
    "\n  query ViewerThreads($first: Int, $after: String, $metadata: JSON) {\n    viewer {\n      threads(first: $first, after: $after, metadata: $metadata) {\n        nodes {\n          ...ThreadFields\n        }\n        pageInfo {\n          hasNextPage\n          endCursor\n        }\n      }\n    }\n  }\n": typeof types.ViewerThreadsDocument,
    "\n  query Sidebar {\n    viewer {\n      threads(first: 50) {\n        nodes {\n          id\n        }\n      }\n    }\n  }\n": typeof types.SidebarDocument,
    "\n  mutation AdoptThread($id: ID!) {\n    adoptThread(id: $id) {\n      ...ThreadFields\n    }\n  }\n": typeof types.AdoptThreadDocument,
    "\n  mutation ForgetThread($id: ID!) {\n    forgetThread(id: $id)\n  }\n": typeof types.ForgetThreadDocument,
    "\n  mutation StartEchoRun($threadId: ID!) {\n    createRun(threadId: $threadId, input: { model: \"echo\" }) {\n      id\n      runId\n      status\n    }\n  }\n": typeof types.StartEchoRunDocument,
    "\n  subscription WatchRun($threadId: ID!, $runId: ID!, $after: String) {\n    runEvents(threadId: $threadId, runId: $runId, after: $after) {\n      __typename\n      ... on RunStatusChanged {\n        cursor\n        run {\n          id\n          status\n        }\n      }\n      ... on MessageTextDelta {\n        cursor\n        messageId\n        index\n        text\n      }\n      ... on MessageCompleted {\n        cursor\n        message {\n          id\n          text\n        }\n      }\n    }\n  }\n": typeof types.WatchRunDocument,
};
const documents: Documents = {
    "\n  fragment ThreadFields on Thread {\n    id\n    createdAt\n    metadata\n    toolResources\n  }\n": types.ThreadFieldsFragmentDoc,
    "\n  mutation CreateThread($input: CreateThreadInput) {\n    createThread(input: $input) {\n      ...ThreadFields\n    }\n  }\n": types.CreateThreadDocument,
    "\n  query GetThread($id: ID!) {\n    thread(id: $id) {\n      ...ThreadFields\n    }\n  }\n": types.GetThreadDocument,
    "\n  query GetThreads($ids: [ID!]!) {\n    threads(ids: $ids) {\n      ...ThreadFields\n    }\n  }\n": types.GetThreadsDocument,
    "\n  mutation UpdateThread($id: ID!, $input: UpdateThreadInput!) {\n    updateThread(id: $id, input: $input) {\n      ...ThreadFields\n    }\n  }\n": types.UpdateThreadDocument,
    "\n  mutation DeleteThread($id: ID!) {\n    deleteThread(id: $id) {\n      id\n      deleted\n    }\n  }\n": types.DeleteThreadDocument,
    "\n  fragment MessageFields on ThreadMessage {\n    id\n    threadId\n    createdAt\n    role\n    text\n    attachments\n    metadata\n    status\n    assistantId\n    runId\n    content {\n      __typename\n      ... on TextContent {\n        text\n        annotations\n      }\n      ... on ImageFileContent {\n        fileId\n        detail\n      }\n      ... on ImageUrlContent {\n        url\n        detail\n      }\n      ... on RefusalContent {\n        refusal\n      }\n    }\n  }\n": types.MessageFieldsFragmentDoc,
    "\n  mutation CreateMessage($threadId: ID!, $input: ThreadMessageInput!, $idempotencyKey: String) {\n    createMessage(threadId: $threadId, input: $input, idempotencyKey: $idempotencyKey) {\n      ...MessageFields\n    }\n  }\n": types.CreateMessageDocument,
    "\n  query GetMessage($threadId: ID!, $id: ID!) {\n    message(threadId: $threadId, id: $id) {\n      ...MessageFields\n    }\n  }\n": types.GetMessageDocument,
    "\n  mutation UpdateMessage($threadId: ID!, $id: ID!, $metadata: JSON!) {\n    updateMessage(threadId: $threadId, id: $id, metadata: $metadata) {\n      ...MessageFields\n    }\n  }\n": types.UpdateMessageDocument,
    "\n  mutation DeleteMessage($threadId: ID!, $id: ID!) {\n    deleteMessage(threadId: $threadId, id: $id) {\n      id\n      deleted\n    }\n  }\n": types.DeleteMessageDocument,
    "\n  query ThreadMessages(\n    $id: ID!\n    $first: Int\n    $after: String\n    $last: Int\n    $before: String\n    $order: MessageOrder\n  ) {\n    thread(id: $id) {\n      id\n      messages(first: $first, after: $after, last: $last, before: $before, order: $order) {\n        edges {\n          cursor\n          node {\n            id\n            text\n          }\n        }\n        pageInfo {\n          hasNextPage\n          hasPreviousPage\n          startCursor\n          endCursor\n        }\n      }\n    }\n  }\n": types.ThreadMessagesDocument,
    "\n  fragment RunFields on Run {\n    id\n    runId\n    threadId\n    assistantId\n    status\n    model\n    instructions\n    tools\n    metadata\n    createdAt\n    startedAt\n    completedAt\n    failedAt\n    cancelledAt\n    lastError {\n      code\n      message\n    }\n    incompleteReason\n    requiredToolCalls {\n      id\n      name\n      arguments\n    }\n    usage {\n      promptTokens\n      completionTokens\n      totalTokens\n    }\n  }\n": types.RunFieldsFragmentDoc,
    "\n  mutation CreateRun($threadId: ID!, $input: RunInput!, $idempotencyKey: String) {\n    createRun(threadId: $threadId, input: $input, idempotencyKey: $idempotencyKey) {\n      ...RunFields\n    }\n  }\n": types.CreateRunDocument,
    "\n  query GetRun($threadId: ID!, $id: ID!) {\n    run(threadId: $threadId, id: $id) {\n      ...RunFields\n      messages {\n        id\n        role\n        text\n        runId\n      }\n    }\n  }\n": types.GetRunDocument,
    "\n  mutation SubmitToolOutputs($threadId: ID!, $runId: ID!, $toolOutputs: [ToolOutputInput!]!) {\n    submitToolOutputs(threadId: $threadId, runId: $runId, toolOutputs: $toolOutputs) {\n      ...RunFields\n    }\n  }\n": types.SubmitToolOutputsDocument,
    "\n  mutation CancelRun($threadId: ID!, $runId: ID!) {\n    cancelRun(threadId: $threadId, runId: $runId) {\n      ...RunFields\n    }\n  }\n": types.CancelRunDocument,
    "\n  query ThreadRuns($id: ID!, $first: Int, $after: String, $order: MessageOrder) {\n    thread(id: $id) {\n      id\n      runs(first: $first, after: $after, order: $order) {\n        edges {\n          cursor\n          node {\n            id\n            runId\n            status\n            thread {\n              id\n            }\n          }\n        }\n        pageInfo {\n          hasNextPage\n          endCursor\n        }\n      }\n    }\n  }\n": types.ThreadRunsDocument,
    "\n  query ThreadRunMessages($id: ID!) {\n    thread(id: $id) {\n      runs(first: 100, order: ASC) {\n        nodes {\n          runId\n          messages {\n            id\n            text\n            runId\n          }\n        }\n      }\n    }\n  }\n": types.ThreadRunMessagesDocument,
    "\n  query RunNode($id: ID!) {\n    node(id: $id) {\n      __typename\n      id\n      ... on Run {\n        runId\n        threadId\n        status\n      }\n      ... on Assistant {\n        model\n      }\n    }\n  }\n": types.RunNodeDocument,
    "\n  fragment AssistantFields on Assistant {\n    id\n    name\n    description\n    model\n    instructions\n    tools\n    metadata\n    temperature\n    topP\n    createdAt\n  }\n": types.AssistantFieldsFragmentDoc,
    "\n  mutation CreateAssistant($input: AssistantInput!, $idempotencyKey: String) {\n    createAssistant(input: $input, idempotencyKey: $idempotencyKey) {\n      ...AssistantFields\n    }\n  }\n": types.CreateAssistantDocument,
    "\n  query GetAssistant($id: ID!) {\n    assistant(id: $id) {\n      ...AssistantFields\n    }\n  }\n": types.GetAssistantDocument,
    "\n  query ListAssistants($first: Int, $after: String) {\n    assistants(first: $first, after: $after) {\n      edges {\n        cursor\n        node {\n          id\n          name\n        }\n      }\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n    }\n  }\n": types.ListAssistantsDocument,
    "\n  mutation UpdateAssistant($id: ID!, $input: AssistantInput!) {\n    updateAssistant(id: $id, input: $input) {\n      ...AssistantFields\n    }\n  }\n": types.UpdateAssistantDocument,
    "\n  mutation DeleteAssistant($id: ID!) {\n    deleteAssistant(id: $id) {\n      id\n      deleted\n    }\n  }\n": types.DeleteAssistantDocument,
    "\n  query ViewerThreadIds(\n    $first: Int\n    $after: String\n    $last: Int\n    $before: String\n    $order: MessageOrder\n    $metadata: JSON\n  ) {\n    viewer {\n      threads(first: $first, after: $after, last: $last, before: $before, order: $order, metadata: $metadata) {\n        totalCount\n        edges {\n          cursor\n          node {\n            id\n          }\n        }\n        pageInfo {\n          hasNextPage\n          hasPreviousPage\n          startCursor\n          endCursor\n        }\n      }\n    }\n  }\n": types.ViewerThreadIdsDocument,
    "\n  query ViewerThreads($first: Int, $after: String, $metadata: JSON) {\n    viewer {\n      threads(first: $first, after: $after, metadata: $metadata) {\n        nodes {\n          ...ThreadFields\n        }\n        pageInfo {\n          hasNextPage\n          endCursor\n        }\n      }\n    }\n  }\n": types.ViewerThreadsDocument,
    "\n  query Sidebar {\n    viewer {\n      threads(first: 50) {\n        nodes {\n          id\n        }\n      }\n    }\n  }\n": types.SidebarDocument,
    "\n  mutation AdoptThread($id: ID!) {\n    adoptThread(id: $id) {\n      ...ThreadFields\n    }\n  }\n": types.AdoptThreadDocument,
    "\n  mutation ForgetThread($id: ID!) {\n    forgetThread(id: $id)\n  }\n": types.ForgetThreadDocument,
    "\n  mutation StartEchoRun($threadId: ID!) {\n    createRun(threadId: $threadId, input: { model: \"echo\" }) {\n      id\n      runId\n      status\n    }\n  }\n": types.StartEchoRunDocument,
    "\n  subscription WatchRun($threadId: ID!, $runId: ID!, $after: String) {\n    runEvents(threadId: $threadId, runId: $runId, after: $after) {\n      __typename\n      ... on RunStatusChanged {\n        cursor\n        run {\n          id\n          status\n        }\n      }\n      ... on MessageTextDelta {\n        cursor\n        messageId\n        index\n        text\n      }\n      ... on MessageCompleted {\n        cursor\n        message {\n          id\n          text\n        }\n      }\n    }\n  }\n": types.WatchRunDocument,
};

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 *
 *
 * @example
 * ```ts
 * const query = graphql(`query GetUser($id: ID!) { user(id: $id) { name } }`);
 * ```
 *
 * The query argument is unknown!
 * Please regenerate the types.
 */
export function graphql(source: string): unknown;

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment ThreadFields on Thread {\n    id\n    createdAt\n    metadata\n    toolResources\n  }\n"): (typeof documents)["\n  fragment ThreadFields on Thread {\n    id\n    createdAt\n    metadata\n    toolResources\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CreateThread($input: CreateThreadInput) {\n    createThread(input: $input) {\n      ...ThreadFields\n    }\n  }\n"): (typeof documents)["\n  mutation CreateThread($input: CreateThreadInput) {\n    createThread(input: $input) {\n      ...ThreadFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query GetThread($id: ID!) {\n    thread(id: $id) {\n      ...ThreadFields\n    }\n  }\n"): (typeof documents)["\n  query GetThread($id: ID!) {\n    thread(id: $id) {\n      ...ThreadFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query GetThreads($ids: [ID!]!) {\n    threads(ids: $ids) {\n      ...ThreadFields\n    }\n  }\n"): (typeof documents)["\n  query GetThreads($ids: [ID!]!) {\n    threads(ids: $ids) {\n      ...ThreadFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation UpdateThread($id: ID!, $input: UpdateThreadInput!) {\n    updateThread(id: $id, input: $input) {\n      ...ThreadFields\n    }\n  }\n"): (typeof documents)["\n  mutation UpdateThread($id: ID!, $input: UpdateThreadInput!) {\n    updateThread(id: $id, input: $input) {\n      ...ThreadFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation DeleteThread($id: ID!) {\n    deleteThread(id: $id) {\n      id\n      deleted\n    }\n  }\n"): (typeof documents)["\n  mutation DeleteThread($id: ID!) {\n    deleteThread(id: $id) {\n      id\n      deleted\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment MessageFields on ThreadMessage {\n    id\n    threadId\n    createdAt\n    role\n    text\n    attachments\n    metadata\n    status\n    assistantId\n    runId\n    content {\n      __typename\n      ... on TextContent {\n        text\n        annotations\n      }\n      ... on ImageFileContent {\n        fileId\n        detail\n      }\n      ... on ImageUrlContent {\n        url\n        detail\n      }\n      ... on RefusalContent {\n        refusal\n      }\n    }\n  }\n"): (typeof documents)["\n  fragment MessageFields on ThreadMessage {\n    id\n    threadId\n    createdAt\n    role\n    text\n    attachments\n    metadata\n    status\n    assistantId\n    runId\n    content {\n      __typename\n      ... on TextContent {\n        text\n        annotations\n      }\n      ... on ImageFileContent {\n        fileId\n        detail\n      }\n      ... on ImageUrlContent {\n        url\n        detail\n      }\n      ... on RefusalContent {\n        refusal\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CreateMessage($threadId: ID!, $input: ThreadMessageInput!, $idempotencyKey: String) {\n    createMessage(threadId: $threadId, input: $input, idempotencyKey: $idempotencyKey) {\n      ...MessageFields\n    }\n  }\n"): (typeof documents)["\n  mutation CreateMessage($threadId: ID!, $input: ThreadMessageInput!, $idempotencyKey: String) {\n    createMessage(threadId: $threadId, input: $input, idempotencyKey: $idempotencyKey) {\n      ...MessageFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query GetMessage($threadId: ID!, $id: ID!) {\n    message(threadId: $threadId, id: $id) {\n      ...MessageFields\n    }\n  }\n"): (typeof documents)["\n  query GetMessage($threadId: ID!, $id: ID!) {\n    message(threadId: $threadId, id: $id) {\n      ...MessageFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation UpdateMessage($threadId: ID!, $id: ID!, $metadata: JSON!) {\n    updateMessage(threadId: $threadId, id: $id, metadata: $metadata) {\n      ...MessageFields\n    }\n  }\n"): (typeof documents)["\n  mutation UpdateMessage($threadId: ID!, $id: ID!, $metadata: JSON!) {\n    updateMessage(threadId: $threadId, id: $id, metadata: $metadata) {\n      ...MessageFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation DeleteMessage($threadId: ID!, $id: ID!) {\n    deleteMessage(threadId: $threadId, id: $id) {\n      id\n      deleted\n    }\n  }\n"): (typeof documents)["\n  mutation DeleteMessage($threadId: ID!, $id: ID!) {\n    deleteMessage(threadId: $threadId, id: $id) {\n      id\n      deleted\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query ThreadMessages(\n    $id: ID!\n    $first: Int\n    $after: String\n    $last: Int\n    $before: String\n    $order: MessageOrder\n  ) {\n    thread(id: $id) {\n      id\n      messages(first: $first, after: $after, last: $last, before: $before, order: $order) {\n        edges {\n          cursor\n          node {\n            id\n            text\n          }\n        }\n        pageInfo {\n          hasNextPage\n          hasPreviousPage\n          startCursor\n          endCursor\n        }\n      }\n    }\n  }\n"): (typeof documents)["\n  query ThreadMessages(\n    $id: ID!\n    $first: Int\n    $after: String\n    $last: Int\n    $before: String\n    $order: MessageOrder\n  ) {\n    thread(id: $id) {\n      id\n      messages(first: $first, after: $after, last: $last, before: $before, order: $order) {\n        edges {\n          cursor\n          node {\n            id\n            text\n          }\n        }\n        pageInfo {\n          hasNextPage\n          hasPreviousPage\n          startCursor\n          endCursor\n        }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment RunFields on Run {\n    id\n    runId\n    threadId\n    assistantId\n    status\n    model\n    instructions\n    tools\n    metadata\n    createdAt\n    startedAt\n    completedAt\n    failedAt\n    cancelledAt\n    lastError {\n      code\n      message\n    }\n    incompleteReason\n    requiredToolCalls {\n      id\n      name\n      arguments\n    }\n    usage {\n      promptTokens\n      completionTokens\n      totalTokens\n    }\n  }\n"): (typeof documents)["\n  fragment RunFields on Run {\n    id\n    runId\n    threadId\n    assistantId\n    status\n    model\n    instructions\n    tools\n    metadata\n    createdAt\n    startedAt\n    completedAt\n    failedAt\n    cancelledAt\n    lastError {\n      code\n      message\n    }\n    incompleteReason\n    requiredToolCalls {\n      id\n      name\n      arguments\n    }\n    usage {\n      promptTokens\n      completionTokens\n      totalTokens\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CreateRun($threadId: ID!, $input: RunInput!, $idempotencyKey: String) {\n    createRun(threadId: $threadId, input: $input, idempotencyKey: $idempotencyKey) {\n      ...RunFields\n    }\n  }\n"): (typeof documents)["\n  mutation CreateRun($threadId: ID!, $input: RunInput!, $idempotencyKey: String) {\n    createRun(threadId: $threadId, input: $input, idempotencyKey: $idempotencyKey) {\n      ...RunFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query GetRun($threadId: ID!, $id: ID!) {\n    run(threadId: $threadId, id: $id) {\n      ...RunFields\n      messages {\n        id\n        role\n        text\n        runId\n      }\n    }\n  }\n"): (typeof documents)["\n  query GetRun($threadId: ID!, $id: ID!) {\n    run(threadId: $threadId, id: $id) {\n      ...RunFields\n      messages {\n        id\n        role\n        text\n        runId\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation SubmitToolOutputs($threadId: ID!, $runId: ID!, $toolOutputs: [ToolOutputInput!]!) {\n    submitToolOutputs(threadId: $threadId, runId: $runId, toolOutputs: $toolOutputs) {\n      ...RunFields\n    }\n  }\n"): (typeof documents)["\n  mutation SubmitToolOutputs($threadId: ID!, $runId: ID!, $toolOutputs: [ToolOutputInput!]!) {\n    submitToolOutputs(threadId: $threadId, runId: $runId, toolOutputs: $toolOutputs) {\n      ...RunFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CancelRun($threadId: ID!, $runId: ID!) {\n    cancelRun(threadId: $threadId, runId: $runId) {\n      ...RunFields\n    }\n  }\n"): (typeof documents)["\n  mutation CancelRun($threadId: ID!, $runId: ID!) {\n    cancelRun(threadId: $threadId, runId: $runId) {\n      ...RunFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query ThreadRuns($id: ID!, $first: Int, $after: String, $order: MessageOrder) {\n    thread(id: $id) {\n      id\n      runs(first: $first, after: $after, order: $order) {\n        edges {\n          cursor\n          node {\n            id\n            runId\n            status\n            thread {\n              id\n            }\n          }\n        }\n        pageInfo {\n          hasNextPage\n          endCursor\n        }\n      }\n    }\n  }\n"): (typeof documents)["\n  query ThreadRuns($id: ID!, $first: Int, $after: String, $order: MessageOrder) {\n    thread(id: $id) {\n      id\n      runs(first: $first, after: $after, order: $order) {\n        edges {\n          cursor\n          node {\n            id\n            runId\n            status\n            thread {\n              id\n            }\n          }\n        }\n        pageInfo {\n          hasNextPage\n          endCursor\n        }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query ThreadRunMessages($id: ID!) {\n    thread(id: $id) {\n      runs(first: 100, order: ASC) {\n        nodes {\n          runId\n          messages {\n            id\n            text\n            runId\n          }\n        }\n      }\n    }\n  }\n"): (typeof documents)["\n  query ThreadRunMessages($id: ID!) {\n    thread(id: $id) {\n      runs(first: 100, order: ASC) {\n        nodes {\n          runId\n          messages {\n            id\n            text\n            runId\n          }\n        }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query RunNode($id: ID!) {\n    node(id: $id) {\n      __typename\n      id\n      ... on Run {\n        runId\n        threadId\n        status\n      }\n      ... on Assistant {\n        model\n      }\n    }\n  }\n"): (typeof documents)["\n  query RunNode($id: ID!) {\n    node(id: $id) {\n      __typename\n      id\n      ... on Run {\n        runId\n        threadId\n        status\n      }\n      ... on Assistant {\n        model\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment AssistantFields on Assistant {\n    id\n    name\n    description\n    model\n    instructions\n    tools\n    metadata\n    temperature\n    topP\n    createdAt\n  }\n"): (typeof documents)["\n  fragment AssistantFields on Assistant {\n    id\n    name\n    description\n    model\n    instructions\n    tools\n    metadata\n    temperature\n    topP\n    createdAt\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CreateAssistant($input: AssistantInput!, $idempotencyKey: String) {\n    createAssistant(input: $input, idempotencyKey: $idempotencyKey) {\n      ...AssistantFields\n    }\n  }\n"): (typeof documents)["\n  mutation CreateAssistant($input: AssistantInput!, $idempotencyKey: String) {\n    createAssistant(input: $input, idempotencyKey: $idempotencyKey) {\n      ...AssistantFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query GetAssistant($id: ID!) {\n    assistant(id: $id) {\n      ...AssistantFields\n    }\n  }\n"): (typeof documents)["\n  query GetAssistant($id: ID!) {\n    assistant(id: $id) {\n      ...AssistantFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query ListAssistants($first: Int, $after: String) {\n    assistants(first: $first, after: $after) {\n      edges {\n        cursor\n        node {\n          id\n          name\n        }\n      }\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n    }\n  }\n"): (typeof documents)["\n  query ListAssistants($first: Int, $after: String) {\n    assistants(first: $first, after: $after) {\n      edges {\n        cursor\n        node {\n          id\n          name\n        }\n      }\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation UpdateAssistant($id: ID!, $input: AssistantInput!) {\n    updateAssistant(id: $id, input: $input) {\n      ...AssistantFields\n    }\n  }\n"): (typeof documents)["\n  mutation UpdateAssistant($id: ID!, $input: AssistantInput!) {\n    updateAssistant(id: $id, input: $input) {\n      ...AssistantFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation DeleteAssistant($id: ID!) {\n    deleteAssistant(id: $id) {\n      id\n      deleted\n    }\n  }\n"): (typeof documents)["\n  mutation DeleteAssistant($id: ID!) {\n    deleteAssistant(id: $id) {\n      id\n      deleted\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query ViewerThreadIds(\n    $first: Int\n    $after: String\n    $last: Int\n    $before: String\n    $order: MessageOrder\n    $metadata: JSON\n  ) {\n    viewer {\n      threads(first: $first, after: $after, last: $last, before: $before, order: $order, metadata: $metadata) {\n        totalCount\n        edges {\n          cursor\n          node {\n            id\n          }\n        }\n        pageInfo {\n          hasNextPage\n          hasPreviousPage\n          startCursor\n          endCursor\n        }\n      }\n    }\n  }\n"): (typeof documents)["\n  query ViewerThreadIds(\n    $first: Int\n    $after: String\n    $last: Int\n    $before: String\n    $order: MessageOrder\n    $metadata: JSON\n  ) {\n    viewer {\n      threads(first: $first, after: $after, last: $last, before: $before, order: $order, metadata: $metadata) {\n        totalCount\n        edges {\n          cursor\n          node {\n            id\n          }\n        }\n        pageInfo {\n          hasNextPage\n          hasPreviousPage\n          startCursor\n          endCursor\n        }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query ViewerThreads($first: Int, $after: String, $metadata: JSON) {\n    viewer {\n      threads(first: $first, after: $after, metadata: $metadata) {\n        nodes {\n          ...ThreadFields\n        }\n        pageInfo {\n          hasNextPage\n          endCursor\n        }\n      }\n    }\n  }\n"): (typeof documents)["\n  query ViewerThreads($first: Int, $after: String, $metadata: JSON) {\n    viewer {\n      threads(first: $first, after: $after, metadata: $metadata) {\n        nodes {\n          ...ThreadFields\n        }\n        pageInfo {\n          hasNextPage\n          endCursor\n        }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Sidebar {\n    viewer {\n      threads(first: 50) {\n        nodes {\n          id\n        }\n      }\n    }\n  }\n"): (typeof documents)["\n  query Sidebar {\n    viewer {\n      threads(first: 50) {\n        nodes {\n          id\n        }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation AdoptThread($id: ID!) {\n    adoptThread(id: $id) {\n      ...ThreadFields\n    }\n  }\n"): (typeof documents)["\n  mutation AdoptThread($id: ID!) {\n    adoptThread(id: $id) {\n      ...ThreadFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation ForgetThread($id: ID!) {\n    forgetThread(id: $id)\n  }\n"): (typeof documents)["\n  mutation ForgetThread($id: ID!) {\n    forgetThread(id: $id)\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation StartEchoRun($threadId: ID!) {\n    createRun(threadId: $threadId, input: { model: \"echo\" }) {\n      id\n      runId\n      status\n    }\n  }\n"): (typeof documents)["\n  mutation StartEchoRun($threadId: ID!) {\n    createRun(threadId: $threadId, input: { model: \"echo\" }) {\n      id\n      runId\n      status\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription WatchRun($threadId: ID!, $runId: ID!, $after: String) {\n    runEvents(threadId: $threadId, runId: $runId, after: $after) {\n      __typename\n      ... on RunStatusChanged {\n        cursor\n        run {\n          id\n          status\n        }\n      }\n      ... on MessageTextDelta {\n        cursor\n        messageId\n        index\n        text\n      }\n      ... on MessageCompleted {\n        cursor\n        message {\n          id\n          text\n        }\n      }\n    }\n  }\n"): (typeof documents)["\n  subscription WatchRun($threadId: ID!, $runId: ID!, $after: String) {\n    runEvents(threadId: $threadId, runId: $runId, after: $after) {\n      __typename\n      ... on RunStatusChanged {\n        cursor\n        run {\n          id\n          status\n        }\n      }\n      ... on MessageTextDelta {\n        cursor\n        messageId\n        index\n        text\n      }\n      ... on MessageCompleted {\n        cursor\n        message {\n          id\n          text\n        }\n      }\n    }\n  }\n"];

export function graphql(source: string) {
  return (documents as any)[source] ?? {};
}

export type DocumentType<TDocumentNode extends DocumentNode<any, any>> = TDocumentNode extends DocumentNode<  infer TType,  any>  ? TType  : never;