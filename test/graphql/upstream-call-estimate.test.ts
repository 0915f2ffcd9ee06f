import { type FragmentDefinitionNode, Kind, type OperationDefinitionNode, parse } from 'graphql';
import { describe, expect, it } from 'vitest';
import { estimateOperation } from './estimate-operation.ts';

function estimate(source: string, variables: Record<string, unknown> = {}): number {
  const document = parse(source);
  const operation = document.definitions.find(
    (definition): definition is OperationDefinitionNode => definition.kind === Kind.OPERATION_DEFINITION,
  );
  const fragments: Record<string, FragmentDefinitionNode> = {};
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments[definition.name.value] = definition;
  }
  if (!operation) throw new Error('no operation');
  return estimateOperation(operation, fragments, variables).calls;
}

describe('the upstream-call estimate, before execution', () => {
  const ids = Array.from({ length: 100 }, (_, index) => `thread_${index}`);

  it.each([
    ['one thread', '{ thread(id: "t") { id } }', 1],
    ['a thread and its messages', '{ thread(id: "t") { messages { nodes { id } } } }', 2],
    [
      '100 threads with their messages',
      'query($ids: [ID!]!) { threads(ids: $ids) { messages { nodes { id } } } }',
      200,
    ],
    [
      'two connections under 100 threads',
      'query($ids: [ID!]!) { threads(ids: $ids) { a: messages(first: 1) { nodes { id } } b: messages(last: 1) { nodes { id } } } }',
      300,
    ],
    ['a message and its thread', '{ message(threadId: "t", id: "m") { thread { id } } }', 2],
    [
      'messages asking for their known thread',
      '{ thread(id: "t") { messages(first: 50) { nodes { thread { id } } } } }',
      2,
    ],
    [
      'a connection under each message of a page',
      '{ thread(id: "t") { messages(first: 10) { nodes { thread { messages(first: 3) { nodes { id } } } } } } }',
      12,
    ],
    [
      'a createMessage and its thread',
      'mutation { createMessage(threadId: "t", input: {role: USER, content: "x"}) { thread { id } } }',
      2,
    ],
    ['a createThread and its messages', 'mutation { createThread { messages { nodes { id } } } }', 2],
    ['a run and its messages', '{ run(threadId: "t", id: "r") { messages { id } } }', 2],
    [
      'a page of runs with their messages',
      '{ thread(id: "t") { runs(first: 10) { nodes { thread { id } messages { id } } } } }',
      12,
    ],
    [
      'a submitToolOutputs reads the run first',
      'mutation { submitToolOutputs(threadId: "t", runId: "r", toolOutputs: []) { id } }',
      2,
    ],
    ['a cancelRun reads the run first', 'mutation { cancelRun(threadId: "t", runId: "r") { id } }', 2],
    ['a createRun', 'mutation { createRun(threadId: "t", input: {model: "m"}) { id } }', 1],
    ['a page of assistants', '{ assistants { nodes { id } } }', 1],
    [
      'a fragment spread many times costs per object, computed once',
      'query($ids: [ID!]!) { threads(ids: $ids) { ...M ...M } } fragment M on Thread { messages { nodes { id } } }',
      300,
    ],
  ])('%s', (_name, source, calls) => {
    expect(estimate(source, { ids })).toBe(calls);
  });
});
