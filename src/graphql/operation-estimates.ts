import {
  type DocumentNode,
  type FragmentDefinitionNode,
  type GraphQLSchema,
  Kind,
  type OperationDefinitionNode,
} from 'graphql';
import { estimateOperation, type OperationEstimate } from './operation-estimate.ts';

/** Estimates kept at most per operation of a document, one per set of values of the variables read. */
const ESTIMATES_PER_OPERATION = 32;

interface KnownOperation {
  schema: GraphQLSchema;
  fragments: Record<string, FragmentDefinitionNode>;
  /** What the walk reads of the variables; undefined until it has run once. */
  reads: Pick<OperationEstimate, 'variablesRead' | 'presenceRead'> | undefined;
  /** Estimates by the values of those variables (and whether the presence-only ones are given). */
  estimates: Map<string, OperationEstimate>;
}

/**
 * Estimates remembered per document: Yoga's parser cache hands repeats of a query the same
 * DocumentNode, so a repeat walks nothing. What the walk reads of the variables is fixed by the
 * document, so an estimate is kept by the values of those alone (none for most operations, and
 * only whether `$id` is given for `thread(id: $id)`): a request with a new id walks nothing and
 * leaves nothing behind.
 */
export class OperationEstimates {
  private readonly documents = new WeakMap<DocumentNode, Map<OperationDefinitionNode, KnownOperation>>();

  constructor(private readonly maxNodes: number) {}

  estimate(
    document: DocumentNode,
    operation: OperationDefinitionNode,
    variables: Record<string, unknown>,
    schema: GraphQLSchema,
  ): OperationEstimate {
    let operations = this.documents.get(document);
    if (!operations) {
      operations = new Map();
      this.documents.set(document, operations);
    }
    let known = operations.get(operation);
    if (!known || known.schema !== schema) {
      known = { schema, fragments: fragmentsOf(document), reads: undefined, estimates: new Map() };
      operations.set(operation, known);
    }
    const cached = known.reads && known.estimates.get(valuesKey(known.reads, variables));
    if (cached) return cached;
    const estimate = estimateOperation(operation, known.fragments, variables, schema, this.maxNodes);
    known.reads = estimate;
    if (known.estimates.size >= ESTIMATES_PER_OPERATION) known.estimates.clear();
    known.estimates.set(valuesKey(estimate, variables), estimate);
    return estimate;
  }
}

export function fragmentsOf(document: DocumentNode): Record<string, FragmentDefinitionNode> {
  const fragments: Record<string, FragmentDefinitionNode> = {};
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments[definition.name.value] = definition;
  }
  return fragments;
}

/**
 * The values of the variables read as one string (a variable left out differs from one sent as
 * null), then one mark per presence-only variable: `1` given, `0` left out. Empty when none is read.
 */
function valuesKey(
  reads: Pick<OperationEstimate, 'variablesRead' | 'presenceRead'>,
  variables: Record<string, unknown>,
): string {
  let key = '';
  if (reads.variablesRead.length > 0) {
    key = JSON.stringify(reads.variablesRead.map((name) => (variables[name] === undefined ? [] : [variables[name]])));
  }
  for (const name of reads.presenceRead) key += variables[name] === undefined ? '0' : '1';
  return key;
}
