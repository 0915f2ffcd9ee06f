import type { FragmentDefinitionNode, OperationDefinitionNode } from 'graphql';
import { estimateOperation as estimate, type OperationEstimate } from '../../src/graphql/operation-estimate.ts';
import { schema } from '../../src/schema/index.ts';

/** The estimate against the gateway's schema, whose fields declare what they cost. */
export function estimateOperation(
  operation: OperationDefinitionNode,
  fragments: Record<string, FragmentDefinitionNode>,
  variables: Record<string, unknown>,
): OperationEstimate {
  return estimate(operation, fragments, variables, schema);
}
