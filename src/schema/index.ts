import { lexicographicSortSchema } from 'graphql';
import { builder } from './builder.ts';
import { guardEntityRepresentations } from './entities.ts';
import './json.ts';
import './node.ts';
import './thread.ts';
import './deleted-thread.ts';
import './message-content.ts';
import './thread-message.ts';
import './thread-message-connection.ts';
import './deleted-thread-message.ts';
import './page-info.ts';
import './run.ts';
import './run-connection.ts';
import './assistant.ts';
import './viewer.ts';
import './live.ts';

// A federation subgraph schema: the public types plus `_service` and `_entities`.
export const schema = guardEntityRepresentations(
  lexicographicSortSchema(
    builder.toSubGraphSchema({
      linkUrl: 'https://specs.apollo.dev/federation/v2.6',
      federationDirectives: ['@key'],
    }),
  ),
);
