import type { Run, RunStatus } from '../../domain/run.ts';
import { ErrorCode, GatewayError } from '../../errors.ts';

/** Statuses in which a Threads server holds the thread: no message or run may be added meanwhile. */
const HOLDING: ReadonlySet<RunStatus> = new Set(['queued', 'in_progress', 'requires_action', 'cancelling']);

/**
 * A message or run refused as invalid (400, naming no parameter) on a thread whose newest run is
 * still going: the refusal says so, with `reason: "THREAD_HAS_ACTIVE_RUN"` and the run's id, so a
 * client can wait, submit the tool outputs or cancel instead of taking it for bad input. Found by
 * reading the thread's newest run (one upstream call, on that refusal only), never from the
 * refusal's text; when that read fails or finds no such run, the refusal stands as it was.
 */
export async function explainActiveRun<T>(create: Promise<T>, newestRun: () => Promise<Run | undefined>): Promise<T> {
  try {
    return await create;
  } catch (error) {
    if (!(error instanceof GatewayError) || error.extensions.upstreamStatus !== 400 || error.extensions.upstreamParam) {
      throw error;
    }
    const run = await newestRun().catch(() => undefined);
    if (!run || !HOLDING.has(run.status)) throw error;
    const status = run.status.toUpperCase();
    throw new GatewayError(
      ErrorCode.BAD_USER_INPUT,
      `The thread has a run in progress (${run.id}, ${status}): wait for it to end, submit its tool outputs, or cancel it.`,
      {
        extensions: { ...error.extensions, reason: 'THREAD_HAS_ACTIVE_RUN', runId: run.id, runStatus: status },
        cause: error,
      },
    );
  }
}
