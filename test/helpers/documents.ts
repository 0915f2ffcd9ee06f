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
