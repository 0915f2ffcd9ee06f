import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { UpstreamCallRecord } from '../upstream/calls/call-session.ts';

/** Operation names come from clients: only this many distinct ones get their own label value. */
const MAX_OPERATION_LABELS = 100;
const OPERATION_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

/**
 * Prometheus metrics, in a registry of the gateway's own (several gateways in one process do not
 * collide): GraphQL requests by operation, upstream calls by method / status / outcome with their
 * latency, and the sizes of DataLoader batches.
 */
export class GatewayMetrics {
  readonly registry = new Registry();
  readonly #operations: Set<string>;
  /** With METRICS_OPERATIONS set, only those names get a label: first-come junk cannot claim slots. */
  readonly #pinned: boolean;

  /**
   * Only operations that validated and ran are named (the name is read in `onExecute`); anything
   * refused before execution is counted under `anonymous`.
   */
  constructor(pinnedOperations: readonly string[] = []) {
    this.#operations = new Set(pinnedOperations);
    this.#pinned = pinnedOperations.length > 0;
    const counts = this.#eventResultCounts;
    new Counter({
      name: 'subscription_event_results_total',
      help: 'Events delivered to subscriptions: executed for the subscription, or handed a result executed for another with the same caller and document.',
      labelNames: ['outcome'] as const,
      registers: [this.registry],
      collect() {
        // Set at scrape to the counts kept since the start (a counter only grows).
        this.reset();
        this.inc({ outcome: 'executed' }, counts.executed);
        this.inc({ outcome: 'shared' }, counts.shared);
      },
    });
  }

  readonly #requests = new Counter({
    name: 'graphql_requests_total',
    help: 'GraphQL requests, by operation name (bounded) and outcome.',
    labelNames: ['operation', 'outcome'] as const,
    registers: [this.registry],
  });
  readonly #duration = new Histogram({
    name: 'graphql_request_duration_seconds',
    help: 'GraphQL request duration, by operation name (bounded).',
    labelNames: ['operation'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });
  readonly #upstreamCalls = new Counter({
    name: 'upstream_requests_total',
    help: 'Calls to the Threads API, by method, route, status and outcome.',
    labelNames: ['method', 'route', 'status', 'outcome'] as const,
    registers: [this.registry],
  });
  readonly #upstreamLatency = new Histogram({
    name: 'upstream_request_duration_seconds',
    help: 'Latency of calls to the Threads API, by method and route.',
    labelNames: ['method', 'route'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  readonly #batchSize = new Histogram({
    name: 'dataloader_batch_size',
    help: 'Keys per DataLoader batch (thread loader).',
    labelNames: ['loader'] as const,
    buckets: [1, 2, 5, 10, 20, 50, 100, 200],
    registers: [this.registry],
  });

  /** Counted as plain numbers (an observation per subscriber per event), handed to prom-client at scrape. */
  readonly #eventResultCounts = { executed: 0, shared: 0 };

  observeEventResult = (outcome: 'executed' | 'shared'): void => {
    this.#eventResultCounts[outcome]++;
  };

  /** `upstream_api_info{api}`: which API the upstream serves (`undetermined` while `auto` probes). */
  trackUpstreamApi(apiKind: () => string | undefined): void {
    const registry = this.registry;
    new Gauge({
      name: 'upstream_api_info',
      help: 'The API the gateway serves the graph over: threads, conversations, or undetermined.',
      labelNames: ['api'] as const,
      registers: [registry],
      collect() {
        this.reset();
        this.set({ api: apiKind() ?? 'undetermined' }, 1);
      },
    });
  }

  /** A bounded label for a client-chosen operation name. */
  operationLabel(name: string | undefined): string {
    if (!name) return 'anonymous';
    if (!OPERATION_NAME.test(name)) return 'invalid';
    if (this.#operations.has(name)) return name;
    if (this.#pinned || this.#operations.size >= MAX_OPERATION_LABELS) return 'other';
    this.#operations.add(name);
    return name;
  }

  /**
   * The series of each label set, made once: an observation looks its series up by one string and
   * hands prom-client no label object to build, check and key again. Every key is bounded (the
   * operation labels above, the routes, statuses and outcomes), and so is each map.
   */
  readonly #requestSeries = new Map<string, { requests: Counter.Internal; duration: Histogram.Internal<string> }>();
  readonly #upstreamCallSeries = new Map<string, Counter.Internal>();
  readonly #upstreamLatencySeries = new Map<string, Histogram.Internal<string>>();
  readonly #threadBatches = this.#batchSize.labels('thread');

  observeRequest(operation: string | undefined, outcome: 'success' | 'error', seconds: number): void {
    const label = this.operationLabel(operation);
    const key = `${label} ${outcome}`;
    let series = this.#requestSeries.get(key);
    if (!series) {
      series = { requests: this.#requests.labels(label, outcome), duration: this.#duration.labels(label) };
      this.#requestSeries.set(key, series);
    }
    series.requests.inc();
    series.duration.observe(seconds);
  }

  observeUpstream = (record: UpstreamCallRecord): void => {
    const route = `${record.method} ${record.route}`;
    const key = `${route} ${record.status} ${record.outcome}`;
    let calls = this.#upstreamCallSeries.get(key);
    if (!calls) {
      calls = this.#upstreamCalls.labels(record.method, record.route, String(record.status), record.outcome);
      this.#upstreamCallSeries.set(key, calls);
    }
    calls.inc();
    let latency = this.#upstreamLatencySeries.get(route);
    if (!latency) {
      latency = this.#upstreamLatency.labels(record.method, record.route);
      this.#upstreamLatencySeries.set(route, latency);
    }
    latency.observe(record.durationMs / 1000);
  };

  observeBatch = (size: number): void => {
    this.#threadBatches.observe(size);
  };

  /** The body of `GET /metrics`, in the Prometheus text format (the router serves it). */
  async respond(fetchAPI: { Response: typeof Response }): Promise<Response> {
    return new fetchAPI.Response(await this.registry.metrics(), {
      headers: { 'content-type': this.registry.contentType },
    });
  }
}
