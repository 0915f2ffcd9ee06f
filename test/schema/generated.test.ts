import { readFileSync } from 'node:fs';
import { generate } from '@graphql-codegen/cli';
import {
  buildClientSchema,
  type GraphQLNamedType,
  getIntrospectionQuery,
  isInputObjectType,
  isInterfaceType,
  isObjectType,
  printSchema,
} from 'graphql';
import { describe, expect, it } from 'vitest';
import codegenConfig from '../../codegen.ts';
import { schema } from '../../src/schema/index.ts';
import { execute, testGateway } from '../helpers/gateway.ts';

const root = new URL('../../', import.meta.url);

describe('generated files', () => {
  it('schema.graphql is the printed Pothos schema (run `npm run schema` when this fails)', () => {
    expect(readFileSync(new URL('schema.graphql', root), 'utf8')).toBe(`${printSchema(schema)}\n`);
  });

  it('introspection serves the same schema as schema.graphql', async () => {
    const result = await execute(testGateway(), getIntrospectionQuery());
    const served = buildClientSchema(result.data as never);
    expect(printSchema(served)).toBe(readFileSync(new URL('schema.graphql', root), 'utf8').trimEnd());
  });

  it('the committed codegen output is current (run `npm run codegen` when this fails)', async () => {
    const outputs = await generate({ ...codegenConfig, cwd: root.pathname, silent: true }, false);
    expect(outputs.length).toBeGreaterThan(0);
    for (const output of outputs) {
      expect(readFileSync(new URL(output.filename, root), 'utf8'), output.filename).toBe(output.content);
    }
  });
});

describe('the schema contract', () => {
  it('has the fixed names and types', () => {
    const printed = printSchema(schema);
    for (const line of [
      'scalar JSON',
      'thread(\n',
      'threads(\n',
      '): [Thread]!',
      'createThread(\n',
      'updateThread(\n',
      'deleteThread(\n',
      'id: ID!',
      'createdAt: Int!',
      'metadata: JSON!',
      'toolResources: JSON\n',
      'deleted: Boolean!',
      'role: ThreadMessageRole!',
      'content: JSON!',
      'messages: [ThreadMessageInput!]',
      'input: UpdateThreadInput!',
    ]) {
      expect(printed).toContain(line);
    }
    expect(Object.keys(schema.getQueryType()?.getFields() ?? {})).toEqual(
      expect.arrayContaining(['thread', 'threads']),
    );
    expect(schema.getType('ThreadMessageRole')?.toString()).toBe('ThreadMessageRole');
  });

  it('describes every type, field, argument and enum value', () => {
    const missing: string[] = [];
    // Federation's own types and fields (`_service`, `_entities`, `_Any`, `link__…`) come from the spec.
    const ours = (name: string) => !name.startsWith('_') && !name.startsWith('link__');
    const types = Object.values(schema.getTypeMap()).filter((type: GraphQLNamedType) => ours(type.name));
    for (const type of types) {
      if (['String', 'Boolean', 'Int', 'Float', 'ID'].includes(type.name)) continue;
      if (!type.description) missing.push(type.name);
      if (isObjectType(type) || isInterfaceType(type)) {
        for (const field of Object.values(type.getFields()).filter((candidate) => ours(candidate.name))) {
          if (!field.description) missing.push(`${type.name}.${field.name}`);
          for (const arg of field.args) if (!arg.description) missing.push(`${type.name}.${field.name}(${arg.name})`);
        }
      }
      if (isInputObjectType(type)) {
        for (const field of Object.values(type.getFields())) {
          if (!field.description) missing.push(`${type.name}.${field.name}`);
        }
      }
      if ('getValues' in type) {
        for (const value of type.getValues()) if (!value.description) missing.push(`${type.name}.${value.name}`);
      }
    }
    expect(missing).toEqual([]);
  });
});
