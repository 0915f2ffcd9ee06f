import { getOperationAST } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { GatewayMetrics } from '../http/metrics.ts';
import type { RequestStates } from '../http/request-state.ts';
import type { Logger } from '../logger.ts';
import { withCode } from './error-masking.ts';

/**
 * One log line and one metrics observation per request, with the operation's name; and a code on
 * Yoga's own refusals (parse, validation, 405, 406), which arrive without one.
 */
export function useRequestLog(states: RequestStates, metrics: GatewayMetrics, logger: Logger): Plugin {
  return {
    onExecute({ args }) {
      const request = (args.contextValue as { request?: Request }).request;
      const state = request && states.peek(request);
      if (state) state.operationName = getOperationAST(args.document, args.operationName)?.name?.value;
    },
    onResultProcess({ request, result, setResult }) {
      // Yoga's own refusals (parse, validation, 405, 406) arrive without a code: give them one.
      const results = Array.isArray(result) ? result : [result];
      let changed = false;
      const coded = results.map((single) => {
        if (!('errors' in single) || !single.errors?.length) return single;
        changed = true;
        const state = states.peek(request);
        if (state) state.hadErrors = true;
        return { ...single, errors: single.errors.map((error) => withCode(error as never)) };
      });
      if (changed) setResult((Array.isArray(result) ? coded : coded[0]) as never);
    },
    onResponse({ request, response }) {
      const state = states.peek(request);
      if (!state) return;
      response.headers.set('x-request-id', state.requestId);
      const seconds = (performance.now() - state.started) / 1000;
      metrics.observeRequest(
        state.operationName,
        response.status >= 400 || state.hadErrors ? 'error' : 'success',
        seconds,
      );
      logger.info('request', {
        requestId: state.requestId,
        method: request.method,
        status: response.status,
        operation: state.operationName ?? null,
        durationMs: Math.round(seconds * 10_000) / 10,
        upstreamCalls: state.upstreamCalls?.() ?? 0,
      });
    },
  };
}
