import { ErrorCode, GatewayError } from '../../errors.ts';

/**
 * What one GraphQL request may spend upstream: at most `concurrency` calls in flight at once and
 * `maxCalls` calls in all (retries included), each admitted by the caller's rate limit when it has
 * one. It belongs to one request and dies with it.
 */
export class RequestBudget {
  readonly concurrency: number;
  readonly maxCalls: number;
  #inFlight = 0;
  #calls = 0;
  readonly #waiting: Array<() => void> = [];
  readonly #admit: (() => Promise<void>) | undefined;

  /** `admit` counts one call against the caller's rate limit, or throws (RATE_LIMITED) before anything is sent. */
  constructor(concurrency: number, maxCalls: number, admit?: () => Promise<void>) {
    this.concurrency = concurrency;
    this.maxCalls = maxCalls;
    this.#admit = admit;
  }

  /** Calls started so far, retries included. */
  get calls(): number {
    return this.#calls;
  }

  /** Refuses up front when a request is known to need more calls than it may make. */
  assertCanAfford(calls: number): void {
    if (this.#calls + calls > this.maxCalls) throw this.#exceeded(calls);
  }

  /** Counts one call and waits for a free slot; pair every acquire with one `release()`. */
  async acquire(): Promise<void> {
    if (this.#calls >= this.maxCalls) throw this.#exceeded(1);
    if (this.#admit) await this.#admit();
    this.#calls++;
    if (this.#inFlight < this.concurrency) {
      this.#inFlight++;
      return;
    }
    await new Promise<void>((resolve) => this.#waiting.push(resolve));
  }

  release(): void {
    const next = this.#waiting.shift();
    if (next) next();
    else this.#inFlight--;
  }

  #exceeded(wanted: number): GatewayError {
    return new GatewayError(
      ErrorCode.UPSTREAM_CALL_LIMIT,
      `This request would make more than ${this.maxCalls} upstream calls (MAX_UPSTREAM_CALLS); split it.`,
      { extensions: { limit: this.maxCalls, requested: this.#calls + wanted } },
    );
  }
}
