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
};
const documents: Documents = {
    "\n  fragment ThreadFields on Thread {\n    id\n    createdAt\n    metadata\n    toolResources\n  }\n": types.ThreadFieldsFragmentDoc,
    "\n  mutation CreateThread($input: CreateThreadInput) {\n    createThread(input: $input) {\n      ...ThreadFields\n    }\n  }\n": types.CreateThreadDocument,
    "\n  query GetThread($id: ID!) {\n    thread(id: $id) {\n      ...ThreadFields\n    }\n  }\n": types.GetThreadDocument,
    "\n  query GetThreads($ids: [ID!]!) {\n    threads(ids: $ids) {\n      ...ThreadFields\n    }\n  }\n": types.GetThreadsDocument,
    "\n  mutation UpdateThread($id: ID!, $input: UpdateThreadInput!) {\n    updateThread(id: $id, input: $input) {\n      ...ThreadFields\n    }\n  }\n": types.UpdateThreadDocument,
    "\n  mutation DeleteThread($id: ID!) {\n    deleteThread(id: $id) {\n      id\n      deleted\n    }\n  }\n": types.DeleteThreadDocument,
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

export function graphql(source: string) {
  return (documents as any)[source] ?? {};
}

export type DocumentType<TDocumentNode extends DocumentNode<any, any>> = TDocumentNode extends DocumentNode<  infer TType,  any>  ? TType  : never;