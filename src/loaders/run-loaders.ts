import DataLoader from 'dataloader';
import type { Assistant } from '../domain/assistant.ts';
import type { Run, RunPage } from '../domain/run.ts';
import { toError } from '../errors.ts';
import type { RequestUpstream } from '../upstream/request-scoped-api.ts';
import type { ListParams } from '../upstream/upstream-api.ts';

interface RunKey {
  threadId: string;
  runId: string;
}

interface RunPageKey {
  threadId: string;
  params: ListParams;
}

/**
 * The run and assistant reads of one GraphQL request: the same run, page or assistant asked twice
 * costs one call, and runs a page carried are served from it. A write to a run replaces what the
 * request knows of it; a run's state changes upstream on its own, so nothing outlives the request.
 */
export class RunLoaders {
  readonly #runs: DataLoader<RunKey, Run | null, string>;
  readonly #pages: DataLoader<RunPageKey, RunPage | null, string>;
  readonly #assistants: DataLoader<string, Assistant | null>;

  constructor(upstream: RequestUpstream) {
    this.#runs = new DataLoader<RunKey, Run | null, string>(
      (keys) =>
        Promise.all(
          keys.map(({ threadId, runId }) =>
            upstream.retrieveRun(threadId, runId).catch((error: unknown) => toError(error)),
          ),
        ),
      { name: 'run', cacheKeyFn: runCacheKey },
    );
    this.#pages = new DataLoader<RunPageKey, RunPage | null, string>(
      (keys) =>
        Promise.all(
          keys.map(async ({ threadId, params }) => {
            try {
              const page = await upstream.listRuns(threadId, params);
              for (const run of page?.data ?? []) {
                const key = { threadId, runId: run.id };
                // The first answer of the request wins, as for messages: one request sees one state.
                this.#runs.prime(key, run);
              }
              return page;
            } catch (error) {
              return toError(error);
            }
          }),
        ),
      {
        name: 'runPage',
        cacheKeyFn: ({ threadId, params }) =>
          JSON.stringify({ threadId, limit: params.limit, order: params.order, after: params.after ?? null }),
      },
    );
    this.#assistants = new DataLoader<string, Assistant | null>(
      (ids) => Promise.all(ids.map((id) => upstream.retrieveAssistant(id).catch((error: unknown) => toError(error)))),
      { name: 'assistant' },
    );
  }

  run(threadId: string, runId: string): Promise<Run | null> {
    return this.#runs.load({ threadId, runId });
  }

  page(threadId: string, params: ListParams): Promise<RunPage | null> {
    return this.#pages.load({ threadId, params });
  }

  assistant(id: string): Promise<Assistant | null> {
    return this.#assistants.load(id);
  }

  /** After a write to a run: later reads in the request see its answer, and lists are read again. */
  primeRun(run: Run): void {
    this.#runs.clear({ threadId: run.threadId, runId: run.id }).prime({ threadId: run.threadId, runId: run.id }, run);
    this.#pages.clearAll();
  }

  primeAssistant(id: string, assistant: Assistant | null): void {
    this.#assistants.clear(id).prime(id, assistant);
  }
}

function runCacheKey({ threadId, runId }: RunKey): string {
  return `${threadId}/${runId}`;
}

export function createRunLoaders(upstream: RequestUpstream): RunLoaders {
  return new RunLoaders(upstream);
}
