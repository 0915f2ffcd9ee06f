import { lexicographicSortSchema } from 'graphql';
import { builder } from './builder.ts';
import './json.ts';
import './thread.ts';
import './deleted-thread.ts';

export const schema = lexicographicSortSchema(builder.toSchema());
