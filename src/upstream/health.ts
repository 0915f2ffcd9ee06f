import { ErrorCode, GatewayError } from '../errors.ts';
import type { ProbeVerdict } from './probe.ts';

/** The last verdict on the upstream, re-checked at most every `minIntervalMs` (and one check at a time). */
export class UpstreamHealth {
  readonly #probe: () => Promise<ProbeVerdict>;
  readonly #minIntervalMs: number;
  #verdict: ProbeVerdict | undefined;
  #checkedAt = 0;
  #running: Promise<ProbeVerdict> | undefined;

  constructor(probe: () => Promise<ProbeVerdict>, minIntervalMs = 2_000) {
    this.#probe = probe;
    this.#minIntervalMs = minIntervalMs;
  }

  get verdict(): ProbeVerdict | undefined {
    return this.#verdict;
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
   * Refuses upstream work while the upstream is known not to serve the Threads API, so a wrong
   * OPENAI_BASE_URL never reads as "no such thread". The first call waits for the first probe
   * (start-up usually ran it already); a bad verdict is re-checked in the background.
   */
  async assertServesThreads(): Promise<void> {
    if (!this.#verdict) await this.check().catch(() => undefined);
    const verdict = this.#verdict;
    if (verdict && !verdict.ok && verdict.reason === 'not-threads-api') {
      void this.check().catch(() => undefined);
      throw new GatewayError(
        ErrorCode.UPSTREAM_UNAVAILABLE,
        'The configured upstream does not serve the Threads API; check OPENAI_BASE_URL.',
        { extensions: { reason: verdict.reason } },
      );
    }
  }
}
