import type { UpstreamFault } from './faults.ts';

/**
 * When a failed upstream call may be sent again. The SDK's own policy runs with `maxRetries: 0`,
 * because it would resend a create after a 500 and wait out any `Retry-After`, however long.
 */
export type CallSafety =
  /** Reads, modify and delete: sending twice has the effect of sending once. */
  | 'idempotent'
  /** Create: may be sent again only when the first attempt provably created nothing. */
  | 'create';

const RETRYABLE_STATUS = new Set([408, 409, 429]);

export function isRetryable(fault: UpstreamFault, safety: CallSafety): boolean {
  if (safety === 'create') {
    // A 429 is a refusal before any work; a refused connection never carried the body.
    return fault.kind === 'refused' || (fault.kind === 'status' && fault.status === 429);
  }
  switch (fault.kind) {
    case 'timeout':
    case 'refused':
    case 'connection':
      return true;
    case 'status':
      return fault.status !== undefined && (RETRYABLE_STATUS.has(fault.status) || fault.status >= 500);
    default:
      return false;
  }
}

/** Whether a create that failed this way may have created the thread anyway. */
export function createMayHaveHappened(fault: UpstreamFault): boolean {
  if (fault.kind === 'refused') return false;
  if (fault.kind === 'status') return fault.status !== undefined && (fault.status >= 500 || fault.status === 408);
  return (
    fault.kind === 'timeout' || fault.kind === 'connection' || fault.kind === 'aborted' || fault.kind === 'malformed'
  );
}

const BASE_DELAY_MS = 200;
const MAX_DELAY_MS = 5_000;

/** The server's `retry-after-ms` / `Retry-After` (seconds or HTTP date), else exponential backoff. */
export function retryDelayMs(fault: UpstreamFault, retryIndex: number, random: () => number = Math.random): number {
  const headers = fault.headers;
  const ms = Number.parseFloat(headers?.get('retry-after-ms') ?? '');
  if (Number.isFinite(ms) && ms >= 0) return ms;
  const after = headers?.get('retry-after');
  if (after) {
    const seconds = Number.parseFloat(after);
    if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
    const date = Date.parse(after);
    if (!Number.isNaN(date)) return Math.max(0, date - Date.now());
  }
  const exponential = Math.min(MAX_DELAY_MS, BASE_DELAY_MS * 2 ** retryIndex);
  return exponential * (0.75 + random() * 0.25);
}
