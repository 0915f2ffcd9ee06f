import { maxAliasesPlugin } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthPlugin } from '@escape.tech/graphql-armor-max-depth';
import { maxDirectivesPlugin } from '@escape.tech/graphql-armor-max-directives';
import { maxTokensPlugin } from '@escape.tech/graphql-armor-max-tokens';
import { type DocumentNode, GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { Limits } from '../config/config.ts';
import { MAX_IDS_PER_FIELD } from '../domain/thread-rules.ts';
import { ErrorCode, GatewayError } from '../errors.ts';
import { OperationEstimates } from './operation-estimates.ts';
import { pickOperation, variablesWithDefaults } from './operation-values.ts';

/**
 * Limits on the operation itself, chosen for this schema: it is shallow, and what costs is the
 * number of upstream calls and the size of the answer, which aliases, id lists and pages multiply.
 */
export function operationLimitPlugins(limits: Limits): Plugin[] {
  const reject = (code: string) => ({
    propagateOnRejection: false,
    onReject: [
      (context: unknown, error: GraphQLError) => {
        const coded = new GraphQLError(error.message.replace(/^Syntax Error: /, ''), {
          nodes: error.nodes,
          extensions: { code },
        });
        // Validation rules report through their context; the token limit runs in the parser and throws.
        if (context && typeof (context as { reportError?: unknown }).reportError === 'function') {
          (context as { reportError(error: GraphQLError): void }).reportError(coded);
        } else {
          throw coded;
        }
      },
    ],
  });
  return [
    maxTokensPlugin({ n: limits.tokens, ...reject('QUERY_TOO_LARGE') }) as Plugin,
    // Every alias counts (MAX_ALIASES says so), `__typename`'s too: Armor's default list leaves those out.
    maxAliasesPlugin({ n: limits.aliases, allowList: [], ...reject('TOO_MANY_ALIASES') }) as Plugin,
    maxDepthPlugin({ n: limits.depth, ...reject('QUERY_TOO_DEEP') }) as Plugin,
    maxDirectivesPlugin({ n: limits.directives, ...reject('TOO_MANY_DIRECTIVES') }) as Plugin,
    useOperationEstimate(limits.upstreamCalls, limits.resultNodes),
  ];
}

function refuse(error: GatewayError): { errors: GraphQLError[] } {
  return { errors: [new GraphQLError(error.message, { extensions: { ...error.extensions } })] };
}

function useOperationEstimate(maxCalls: number, maxNodes: number): Plugin {
  const estimates = new OperationEstimates(maxNodes);
  return {
    onExecute({ args, setResultAndStopExecution }) {
      const document = args.document as DocumentNode;
      const operation = pickOperation(document, args.operationName ?? undefined);
      if (!operation) return;
      const variables = variablesWithDefaults(operation, (args.variableValues ?? {}) as Record<string, unknown>);
      const { calls, resultNodes, longest } = estimates.estimate(document, operation, variables, args.schema);
      if (longest && longest.count > MAX_IDS_PER_FIELD) {
        const { argument } = longest;
        setResultAndStopExecution({
          errors: [
            new GraphQLError(
              `${longest.field}(${argument}:) takes at most ${MAX_IDS_PER_FIELD} entries, got ${longest.count}.`,
              { extensions: { code: ErrorCode.BAD_USER_INPUT, argument } },
            ),
          ],
        });
        return;
      }
      if (calls > maxCalls) {
        setResultAndStopExecution(
          refuse(
            new GatewayError(
              ErrorCode.UPSTREAM_CALL_LIMIT,
              `This operation needs about ${calls} upstream calls, more than the ${maxCalls} one request may make (MAX_UPSTREAM_CALLS); split it.`,
              { extensions: { limit: maxCalls, requested: calls } },
            ),
          ),
        );
        return;
      }
      if (resultNodes > maxNodes) {
        setResultAndStopExecution(
          refuse(
            new GatewayError(
              ErrorCode.RESULT_TOO_LARGE,
              `This operation's answer may hold about ${resultNodes} fields, more than the ${maxNodes} one answer may hold (MAX_RESULT_NODES): ask for smaller pages, fewer aliases, or no connection under each message of a page.`,
              { extensions: { limit: maxNodes, requested: resultNodes } },
            ),
          ),
        );
      }
    },
  };
}
