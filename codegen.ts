import type { CodegenConfig } from '@graphql-codegen/cli';

// Typed documents for the tests (and the README's client snippets), from the committed public schema.
const config: CodegenConfig = {
  schema: 'schema.graphql',
  documents: ['test/**/*.ts', '!test/gql/**'],
  ignoreNoDocuments: false,
  emitLegacyCommonJSImports: false,
  generates: {
    'test/gql/': {
      preset: 'client',
      // `persistedDocuments` also writes test/gql/persisted-documents.json (sha256 hash -> document), the
      // manifest a gateway started with TRUSTED_DOCUMENTS executes, and puts each hash on its document.
      presetConfig: { fragmentMasking: false, persistedDocuments: true },
      config: {
        scalars: { JSON: 'unknown' },
        enumsAsTypes: true,
        useTypeImports: true,
      },
    },
    // Apollo Client's `possibleTypes` for the unions and interfaces (`MessageContent`, `Node`): without it
    // InMemoryCache cannot match `... on TextContent` and friends, warns, and may drop fields. The version-3
    // format is the one Apollo Client 4 reads.
    'test/gql/possible-types.ts': {
      plugins: ['fragment-matcher'],
      config: { apolloClientVersion: 3, useExplicitTyping: true, deterministic: true },
    },
  },
};

export default config;
