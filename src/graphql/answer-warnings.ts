import type { Plugin } from 'graphql-yoga';
import type { GatewayContext } from './context.ts';

/**
 * Notes the resolvers left on the context (a thread written upstream but not put on the caller's
 * list, a full list) go out as `extensions.warnings`: the write succeeded, so they are no errors.
 */
export function useAnswerWarnings(): Plugin<GatewayContext> {
  return {
    onExecute({ args }) {
      const warnings = (args.contextValue as Partial<GatewayContext>).warnings;
      if (!warnings) return undefined;
      return {
        onExecuteDone({ result, setResult }) {
          if (warnings.length === 0 || Symbol.asyncIterator in result) return;
          setResult({ ...result, extensions: { ...result.extensions, warnings: [...warnings] } });
        },
      };
    },
  };
}
