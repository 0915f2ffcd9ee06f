import { ErrorCode, GatewayError } from '../../errors.ts';
import type { UpstreamApiKind } from '../upstream-api.ts';
import { type ProbeVerdict, WRONG_API_REASONS } from './probe.ts';

export interface UpstreamHealthOptions {
  /** A verdict younger than this is reused (default 2 s). */
  minIntervalMs?: number;
  /** Which API is in use now (configured, or detected so far); undefined while not known. */
  apiKind?: () => UpstreamApiKind | undefined;
}

/** The last verdict on the upstream, re-checked at most every `minIntervalMs` (and one check at a time). */
export class UpstreamHealth {
  readonly #probe: () => Promise<ProbeVerdict>;
  readonly #minIntervalMs: number;
  readonly #apiKind: () => UpstreamApiKind | undefined;
  #verdict: ProbeVerdict | undefined;
  #checkedAt = 0;
  #running: Promise<ProbeVerdict> | undefined;

  constructor(probe: () => Promise<ProbeVerdict>, options: UpstreamHealthOptions = {}) {
    this.#probe = probe;
    this.#minIntervalMs = options.minIntervalMs ?? 2_000;
    this.#apiKind = options.apiKind ?? (() => undefined);
  }

  get verdict(): ProbeVerdict | undefined {
    return this.#verdict;
  }

  /**
   * The upstream API in use: `threads` or `conversations`, or undefined while `UPSTREAM_API=auto`
   * has not found out yet. `/ready`, `/metrics` and the start-up log line show it.
   */
  get apiKind(): UpstreamApiKind | undefined {
    return this.#apiKind();
  }

  check(): Promise<ProbeVerdict> {
    if (this.#verdict && Date.now() - this.#checkedAt < this.#minIntervalMs) return Promise.resolve(this.#verdict);
    this.#running ??= this.#probe()
      .then((verdict) => {
        this.#verdict = verdict;
        this.#checkedAt = Date.now();
        return verdict;
      })
      .finally(() => {
        this.#running = undefined;
      });
    return this.#running;
  }

  /**
   * Whether upstream work may go ahead without waiting: a verdict is in and it does not say the
   * upstream serves another API. The per-call fast path of `assertServesThreads`, with no promise.
   */
  get servesThreadsNow(): boolean {
    const verdict = this.#verdict;
    return verdict !== undefined && (verdict.ok || !WRONG_API_REASONS.has(verdict.reason));
  }

  /**
   * Refuses upstream work while the upstream is known not to serve the API in use (or, with
   * `UPSTREAM_API=auto`, neither API), so a wrong OPENAI_BASE_URL never reads as "no such thread".
   * The first call waits for the first probe (start-up usually ran it already); a bad verdict is
   * re-checked in the background.
   */
  async assertServesThreads(): Promise<void> {
    if (!this.#verdict) await this.check().catch(() => undefined);
    const verdict = this.#verdict;
    if (verdict && !verdict.ok && WRONG_API_REASONS.has(verdict.reason)) {
      void this.check().catch(() => undefined);
      throw new GatewayError(
        ErrorCode.UPSTREAM_UNAVAILABLE,
        `The configured upstream is not usable: ${verdict.detail}. Check OPENAI_BASE_URL and UPSTREAM_API.`,
        { extensions: { reason: verdict.reason } },
      );
    }
  }
}
