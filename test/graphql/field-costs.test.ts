import SchemaBuilder from '@pothos/core';
import {
  type GraphQLField,
  type GraphQLSchema,
  getNamedType,
  getNullableType,
  isListType,
  isObjectType,
  Kind,
  type OperationDefinitionNode,
  parse,
} from 'graphql';
import { describe, expect, it } from 'vitest';
import { estimateOperation } from '../../src/graphql/operation-estimate.ts';
import { fragmentsOf, OperationEstimates } from '../../src/graphql/operation-estimates.ts';
import { schema } from '../../src/schema/index.ts';

type Field = GraphQLField<unknown, unknown>;

/** Whether the field's resolver takes the context, and so may reach a loader or the upstream. */
function takesContext(field: Field): boolean {
  // Pothos's `t.expose…` fields read a property of the parent.
  if (field.extensions.pothosExposedField) return false;
  const original = field.extensions.pothosOriginalResolve;
  const resolve = typeof original === 'function' ? original : field.resolve;
  return (resolve?.length ?? 0) >= 3;
}

/** Every way a field can leave the operation estimate without its cost, or declare one that cannot apply. */
function costProblems(checked: GraphQLSchema): string[] {
  const problems: string[] = [];
  const roots = new Set([checked.getQueryType(), checked.getMutationType(), checked.getSubscriptionType()]);
  const fields: Array<[string, Field]> = [];
  for (const type of Object.values(checked.getTypeMap())) {
    if (!isObjectType(type) || type.name.startsWith('__')) continue;
    for (const field of Object.values(type.getFields())) fields.push([`${type.name}.${field.name}`, field]);
    const isRoot = roots.has(type);
    for (const field of Object.values(type.getFields())) {
      const name = `${type.name}.${field.name}`;
      const cost = field.extensions.cost;
      const list = isListType(getNullableType(field.type));
      if (!cost) {
        if (isRoot) problems.push(`${name}: a root field declares its cost`);
        else if (list) problems.push(`${name}: a list declares its cost (listSize)`);
        else if (takesContext(field)) problems.push(`${name}: its resolver takes the context but it declares no cost`);
        continue;
      }
      if (list !== (cost.listSize !== undefined)) problems.push(`${name}: listSize is for list fields, and every one`);
      const size = cost.listSize;
      const args = [
        ...(typeof size === 'object' ? ('idsArg' in size ? [size.idsArg] : size.fromArgs) : []),
        ...(cost.page?.fromArgs ?? []),
        ...(cost.batched ? ('idsArg' in cost.batched ? [cost.batched.idsArg] : cost.batched.keyArgs) : []),
        ...(cost.namesByArg ? [cost.namesByArg.arg] : []),
      ];
      for (const arg of args) {
        if (!field.args.some((candidate) => candidate.name === arg)) problems.push(`${name}: has no argument ${arg}`);
      }
    }
  }
  // A `listSize: 'page'` list is sized by the connection field above it: every field answering
  // with its type declares `page`, and every `page` reaches such a list.
  for (const [name, field] of fields) {
    const type = getNamedType(field.type);
    const paged =
      isObjectType(type) && Object.values(type.getFields()).some((f) => f.extensions.cost?.listSize === 'page');
    if (paged !== (field.extensions.cost?.page !== undefined)) {
      problems.push(`${name}: answers with ${type.name}, so it declares page if and only if its lists are 'page'`);
    }
  }
  return problems;
}

function operationOf(source: string): { operation: OperationDefinitionNode; document: ReturnType<typeof parse> } {
  const document = parse(source);
  const operation = document.definitions.find(
    (definition): definition is OperationDefinitionNode => definition.kind === Kind.OPERATION_DEFINITION,
  );
  if (!operation) throw new Error('no operation');
  return { operation, document };
}

/** A schema as a new type file might write it: a connection, a read by id, a write. */
function runsSchema(withCosts: boolean): GraphQLSchema {
  const builder = new SchemaBuilder<{ Context: { load(id: string): unknown } }>({});
  const Run = builder.objectRef<{ id: string }>('Run').implement({
    fields: (t) => ({
      id: t.exposeID('id'),
      steps: t.stringList({ resolve: () => [], ...(withCosts && { extensions: { cost: { listSize: 50 } } }) }),
      thread: t.string({
        nullable: true,
        resolve: (run, _args, ctx) => String(ctx.load(run.id)),
        ...(withCosts && { extensions: { cost: { upstreamCalls: 1 } } }),
      }),
    }),
  });
  const RunPage = builder.objectRef<{ id: string }[]>('RunPage').implement({
    fields: (t) => ({
      items: t.field({
        type: [Run],
        resolve: (page) => page,
        ...(withCosts && { extensions: { cost: { listSize: 'page' } } }),
      }),
    }),
  });
  builder.queryType({
    fields: (t) => ({
      runs: t.field({
        type: RunPage,
        args: { first: t.arg.int(), last: t.arg.int() },
        resolve: () => [],
        ...(withCosts && {
          extensions: { cost: { upstreamCalls: 1, page: { fromArgs: ['first', 'last'], default: 20, max: 100 } } },
        }),
      }),
      run: t.field({
        type: Run,
        nullable: true,
        args: { id: t.arg.id({ required: true }) },
        resolve: () => null,
        ...(withCosts && { extensions: { cost: { batched: { loader: 'run', keyArgs: ['id'] } } } }),
      }),
    }),
  });
  builder.mutationType({
    fields: (t) => ({
      cancelRun: t.boolean({
        args: { id: t.arg.id({ required: true }) },
        resolve: () => true,
        ...(withCosts && { extensions: { cost: { upstreamCalls: 1 } } }),
      }),
    }),
  });
  return builder.toSchema();
}

describe('each field declares its own cost', () => {
  it('every root field, list and context-taking resolver of the gateway’s schema declares one', () => {
    expect(costProblems(schema)).toEqual([]);
  });

  it('catches a new field that forgets its cost', () => {
    expect(costProblems(runsSchema(false)).sort()).toEqual([
      'Mutation.cancelRun: a root field declares its cost',
      'Query.run: a root field declares its cost',
      'Query.runs: a root field declares its cost',
      'Run.steps: a list declares its cost (listSize)',
      'Run.thread: its resolver takes the context but it declares no cost',
      'RunPage.items: a list declares its cost (listSize)',
    ]);
    expect(costProblems(runsSchema(true))).toEqual([]);
  });

  it('the estimate reads the costs the fields declare, whatever their names', () => {
    const estimate = (source: string, withCosts: boolean) => {
      const { operation, document } = operationOf(source);
      return estimateOperation(operation, fragmentsOf(document), {}, runsSchema(withCosts));
    };
    const source = '{ runs(last: 30) { items { steps thread } } a: run(id: "r") { id } b: run(id: "r") { id } }';
    // runs: 1 list call, 30 runs each reading their thread; run(id: "r") twice is one read.
    expect(estimate(source, true)).toMatchObject({ calls: 1 + 30 + 1, resultNodes: 2 + 30 * (50 + 1) + 4 });
    // The same names without declared costs: no calls, lists at the 100 of an unknown bound.
    expect(estimate(source, false)).toMatchObject({ calls: 0, resultNodes: 2 + 100 * (100 + 1) + 4 });
  });
});

describe('estimates are kept per document', () => {
  it('walks a repeat of a document once, and again for other values of the variables it reads', () => {
    const { operation, document } = operationOf(
      'query($ids: [ID!]!, $unused: Int) { threads(ids: $ids) { messages { nodes { id } } } }',
    );
    const estimates = new OperationEstimates(50_000);
    const two = estimates.estimate(document, operation, { ids: ['thread_a', 'thread_b'] }, schema);
    expect(two.calls).toBe(4);
    expect(estimates.estimate(document, operation, { ids: ['thread_a', 'thread_b'], unused: 1 }, schema)).toBe(two);
    expect(estimates.estimate(document, operation, { ids: ['thread_a'] }, schema).calls).toBe(2);
    expect(estimates.estimate(document, operation, {}, schema).calls).toBe(0);
  });

  it('keeps one estimate for every id a single key field reads, and reads the values when two fields feed one loader', () => {
    const estimates = new OperationEstimates(50_000);
    const one = operationOf('query($id: ID!) { thread(id: $id) { id metadata } }');
    const first = estimates.estimate(one.document, one.operation, { id: 'thread_a' }, schema);
    expect(first.calls).toBe(1);
    // Another id is the same estimate, not a walk and an entry of its own.
    expect(estimates.estimate(one.document, one.operation, { id: 'thread_b' }, schema)).toBe(first);
    // Left out, it loads nothing.
    expect(estimates.estimate(one.document, one.operation, {}, schema).calls).toBe(0);

    const two = operationOf('query($x: ID!, $y: ID!) { a: thread(id: $x) { id } b: thread(id: $y) { id } }');
    expect(estimates.estimate(two.document, two.operation, { x: 'thread_a', y: 'thread_a' }, schema).calls).toBe(1);
    expect(estimates.estimate(two.document, two.operation, { x: 'thread_a', y: 'thread_b' }, schema).calls).toBe(2);
    expect(estimates.estimate(two.document, two.operation, { x: 'thread_c', y: 'thread_c' }, schema).calls).toBe(1);
  });
});
