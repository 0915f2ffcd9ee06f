import { type DocumentNode, Kind, type OperationDefinitionNode, valueFromASTUntyped } from 'graphql';

/** The operation a request runs: the one named, or the first. */
export function pickOperation(document: DocumentNode, name: string | undefined): OperationDefinitionNode | undefined {
  for (const definition of document.definitions) {
    if (definition.kind !== Kind.OPERATION_DEFINITION) continue;
    if (!name || definition.name?.value === name) return definition;
  }
  return undefined;
}

/**
 * The variables as execution will see them: what the request sent, and the document's default for
 * each one it left out. Checks that count what an operation will do (bytes written, upstream calls)
 * must read these, or a default value (`$ids: [ID!]! = [...]`, `$c: JSON = "..."`) is counted as
 * nothing while execution uses it everywhere the variable is referenced.
 */
export function variablesWithDefaults(
  operation: OperationDefinitionNode,
  sent: Record<string, unknown>,
): Record<string, unknown> {
  let variables = sent;
  for (const definition of operation.variableDefinitions ?? []) {
    const name = definition.variable.name.value;
    if (definition.defaultValue === undefined || Object.hasOwn(sent, name)) continue;
    if (variables === sent) variables = { ...sent };
    variables[name] = valueFromASTUntyped(definition.defaultValue);
  }
  return variables;
}
