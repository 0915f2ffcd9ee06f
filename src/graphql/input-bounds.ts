import {
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  GraphQLError,
  type GraphQLSchema,
  Kind,
  type OperationDefinitionNode,
  type SelectionSetNode,
  visit,
} from 'graphql';
import { getArgumentValues } from 'graphql/execution/values.js';
import type { Plugin } from 'graphql-yoga';
import { depthBeyond } from '../domain/json-depth.ts';
import { ErrorCode } from '../errors.ts';
import { pickOperation, variablesWithDefaults } from './operation-values.ts';

/**
 * Bounds on what a request's values can make the gateway hold, checked before execution:
 *
 * - Depth: no variable value nests deeper than MAX_JSON_DEPTH. Checked without recursion, so a
 *   hostile value cannot overflow the stack here, and refused before anything else (the JSON
 *   scalar, `_entities` representations, the budget estimate) walks it.
 * - Write bytes: the argument values of a mutation's root fields are measured after variables are
 *   expanded (one variable referenced from 300 places counts 300 times, as it would be sent 300
 *   times) and summed; over MAX_BODY_BYTES, nothing runs and nothing goes upstream. Measuring stops
 *   at the limit, so the measurement itself never allocates what it refuses.
 */
export function useInputBounds({ maxDepth, maxWriteBytes }: { maxDepth: number; maxWriteBytes: number }): Plugin {
  return {
    onExecute({ args, setResultAndStopExecution }) {
      const variables = (args.variableValues ?? {}) as Record<string, unknown>;
      const deepest = depthBeyond(variables, maxDepth + 1);
      if (deepest) {
        setResultAndStopExecution({
          errors: [
            badInput(`A value in the variables nests deeper than ${maxDepth} levels (MAX_JSON_DEPTH).`, { maxDepth }),
          ],
        });
        return;
      }
      const document = args.document as DocumentNode;
      if (literalDepth(document) > maxDepth) {
        setResultAndStopExecution({
          errors: [
            badInput(`A value written in the document nests deeper than ${maxDepth} levels (MAX_JSON_DEPTH).`, {
              maxDepth,
            }),
          ],
        });
        return;
      }
      const operation = pickOperation(document, args.operationName ?? undefined);
      if (operation?.operation !== 'mutation') return;
      const expanded = variablesWithDefaults(operation, variables);
      const bytes = writeBytes(args.schema as GraphQLSchema, document, operation, expanded, maxWriteBytes);
      if (bytes > maxWriteBytes) {
        setResultAndStopExecution({
          errors: [
            badInput(
              `This operation would send more than ${maxWriteBytes} bytes upstream (MAX_BODY_BYTES, counted after variables are expanded); split it.`,
              { limit: maxWriteBytes },
            ),
          ],
        });
      }
    },
  };
}

const literalDepths = new WeakMap<DocumentNode, number>();

/** The deepest nesting of list and object literals in the document (graphql-js's visit is iterative). */
function literalDepth(document: DocumentNode): number {
  // Yoga's parse cache hands the same document object to every request with the same text.
  const known = literalDepths.get(document);
  if (known !== undefined) return known;
  let depth = 0;
  let deepest = 0;
  const enter = () => {
    depth++;
    if (depth > deepest) deepest = depth;
  };
  const leave = () => {
    depth--;
  };
  visit(document, {
    ListValue: { enter, leave },
    ObjectValue: { enter, leave },
  });
  literalDepths.set(document, deepest);
  return deepest;
}

function badInput(message: string, extensions: Record<string, unknown>): GraphQLError {
  return new GraphQLError(message, { extensions: { code: ErrorCode.BAD_USER_INPUT, ...extensions } });
}

/** The JSON size of `value` in bytes, or any number above `cap` once it is known to exceed it. */
export function jsonBytes(value: unknown, cap: number): number {
  let total = 0;
  const stack: unknown[] = [value];
  while (stack.length > 0 && total <= cap) {
    const current = stack.pop();
    if (current === null || current === undefined) total += 4;
    else if (typeof current === 'string') total += Buffer.byteLength(current, 'utf8') + 2;
    else if (typeof current === 'number' || typeof current === 'boolean') total += String(current).length;
    else if (Array.isArray(current)) {
      total += 2 + current.length;
      for (const item of current) stack.push(item);
    } else if (typeof current === 'object') {
      const entries = Object.entries(current);
      total += 2 + entries.length;
      for (const [key, item] of entries) {
        total += Buffer.byteLength(key, 'utf8') + 3;
        stack.push(item);
      }
    }
  }
  return total;
}

function writeBytes(
  schema: GraphQLSchema,
  document: DocumentNode,
  operation: OperationDefinitionNode,
  variables: Record<string, unknown>,
  cap: number,
): number {
  const mutationType = schema.getMutationType();
  if (!mutationType) return 0;
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  }
  const fields: FieldNode[] = [];
  const seen = new Set<string>();
  const collect = (selectionSet: SelectionSetNode): void => {
    for (const selection of selectionSet.selections) {
      if (selection.kind === Kind.FIELD) fields.push(selection);
      else if (selection.kind === Kind.INLINE_FRAGMENT) collect(selection.selectionSet);
      else if (!seen.has(selection.name.value)) {
        seen.add(selection.name.value);
        const fragment = fragments.get(selection.name.value);
        if (fragment) collect(fragment.selectionSet);
      }
    }
  };
  collect(operation.selectionSet);
  let total = 0;
  for (const node of fields) {
    const definition = mutationType.getFields()[node.name.value];
    if (!definition || !node.arguments?.length) continue;
    let values: Record<string, unknown>;
    try {
      values = getArgumentValues(definition, node, variables);
    } catch {
      // Execution reports the coercion error itself; nothing of it is sent.
      continue;
    }
    total += jsonBytes(values, cap - total);
    if (total > cap) return total;
  }
  return total;
}
