import { setTimeout as sleep } from 'node:timers/promises';
import type { UpstreamApiChoice, UpstreamMode } from '../../config/config.ts';
import type { Assistant, AssistantPage } from '../../domain/assistant.ts';
import type { Run, RunPage, ToolOutput } from '../../domain/run.ts';
import { ErrorCode, GatewayError } from '../../errors.ts';
import { callNow, type UpstreamSession } from '../calls/call-session.ts';
import type {
  AssistantFields,
  ListParams,
  MessageListParams,
  MessagePage,
  NewMessage,
  NewRun,
  Thread,
  ThreadCreateParams,
  ThreadDeleted,
  ThreadUpdateParams,
  UpstreamApi,
  UpstreamApiKind,
  UpstreamMessage,
} from '../upstream-api.ts';
import { detectUpstreamApi, type ProbeOptions, type ProbeVerdict, probeApi, WRONG_API_REASONS } from './probe.ts';

/** OpenAI's own API: after the Assistants API's shutdown it serves conversations, not threads. */
function isOpenAIHost(baseURL: string): boolean {
  const host = new URL(baseURL).hostname.toLowerCase();
  return host === 'openai.com' || host.endsWith('.openai.com');
}

/**
 * Which API `UPSTREAM_API` leaves to use before any probe: `threads` or `conversations` when set
 * (or implied), `detect` when `auto` must ask the upstream. With `auto`, OpenAI's own host means
 * conversations and the embedded local backend means threads (it serves both; threads carries
 * every field of the graph).
 */
export function chosenApi(choice: UpstreamApiChoice, upstream: UpstreamMode): UpstreamApiKind | 'detect' {
  if (choice !== 'auto') return choice;
  if (upstream.kind === 'local') return 'threads';
  return isOpenAIHost(upstream.baseURL) ? 'conversations' : 'detect';
}

/** A verdict on a detection made with one caller's key, as the error that caller gets. */
function notDetected(verdict: ProbeVerdict): GatewayError {
  if (!verdict.ok && verdict.reason === 'credentials') {
    return new GatewayError(ErrorCode.UNAUTHENTICATED, 'The upstream did not accept the credentials.');
  }
  const detail = verdict.ok ? 'it answers, but not yet as either API' : verdict.detail;
  return new GatewayError(
    ErrorCode.UPSTREAM_UNAVAILABLE,
    `The gateway cannot tell yet which API the upstream serves (UPSTREAM_API=auto): ${detail}. It keeps probing.`,
    { extensions: { reason: verdict.ok ? 'undetermined' : verdict.reason } },
  );
}

const REDETECT_INTERVAL_MS = 2_000;
/** Verdicts that may change on their own soon: a request waits and asks again, as a call would retry. */
const PASSING_REASONS = new Set(['unreachable', 'failing']);

/**
 * The API in use: fixed by configuration, or found by the readiness probe and then kept. Its
 * `probe` is the readiness probe (`UpstreamHealth` calls it): with a known API it checks that one;
 * with `auto` it probes both until one is recognised. If the URL later stops serving the
 * detected API, the next probe detects again.
 */
export class ApiSelection {
  readonly choice: UpstreamApiKind | 'detect';
  readonly #options: ProbeOptions;
  readonly #maxRetries: number;
  #known: UpstreamApiKind | undefined;
  /**
   * The last detection made on a request's behalf, reused for a short while, with the key it was
   * made with: a refusal of that key is its caller's answer, never another caller's.
   */
  #lastDetection: { at: number; credential: string | undefined; verdict: Promise<ProbeVerdict> } | undefined;

  constructor(choice: UpstreamApiKind | 'detect', options: ProbeOptions & { maxRetries?: number }) {
    this.choice = choice;
    const { maxRetries = 0, ...probeOptions } = options;
    this.#options = probeOptions;
    this.#maxRetries = maxRetries;
    this.#known = choice === 'detect' ? undefined : choice;
  }

  /** `threads` or `conversations`, or undefined while auto-detection has not found out. */
  get known(): UpstreamApiKind | undefined {
    return this.#known;
  }

  readonly probe = async (): Promise<ProbeVerdict> => {
    const known = this.#known;
    if (known === undefined) return this.#remember(await detectUpstreamApi(this.#options));
    const verdict = await probeApi(known, this.#options);
    if (this.choice === 'detect' && !verdict.ok && WRONG_API_REASONS.has(verdict.reason)) {
      this.#known = undefined;
      return this.#remember(await detectUpstreamApi(this.#options));
    }
    return verdict.ok ? { ...verdict, api: known } : verdict;
  };

  /**
   * The API to send a request's calls to. While auto-detection has not found out (a pass-through
   * upstream answers the key-less probe with 401), it detects with the caller's own key: reads
   * only, at most one detection every 2 s.
   */
  async resolve(session: UpstreamSession): Promise<UpstreamApiKind> {
    const options = session.credential ? { ...this.#options, apiKey: session.credential } : this.#options;
    for (let attempt = 0; ; attempt++) {
      if (this.#known) return this.#known;
      // A retry asks again; a first try reuses a detection made less than 2 s ago.
      let detection = this.#lastDetection;
      if (attempt > 0 || !detection || Date.now() - detection.at >= REDETECT_INTERVAL_MS) {
        detection = this.#detect(options, session.credential);
      }
      let verdict = await detection.verdict;
      if (this.#known) return this.#known;
      if (!verdict.ok && verdict.reason === 'credentials' && detection.credential !== session.credential) {
        // Another caller's key was refused: this caller asks with its own (one bad key must not
        // answer UNAUTHENTICATED to everyone for the next 2 s).
        verdict = await this.#detect(options, session.credential).verdict;
        if (this.#known) return this.#known;
      }
      // Unreachable or failing may pass: wait and ask again, within the retries and the deadline.
      const wait = 200 * 2 ** attempt;
      const passing = !verdict.ok && PASSING_REASONS.has(verdict.reason);
      if (!passing || attempt >= this.#maxRetries || Date.now() + wait >= session.deadline) throw notDetected(verdict);
      await sleep(wait, undefined, { ref: false });
    }
  }

  #detect(
    options: ProbeOptions,
    credential: string | undefined,
  ): { at: number; credential: string | undefined; verdict: Promise<ProbeVerdict> } {
    const detection = {
      at: Date.now(),
      credential,
      verdict: detectUpstreamApi(options).then((verdict) => this.#remember(verdict)),
    };
    this.#lastDetection = detection;
    return detection;
  }

  #remember(verdict: ProbeVerdict): ProbeVerdict {
    if (verdict.ok && verdict.api) this.#known = verdict.api;
    return verdict;
  }
}

/**
 * With `UPSTREAM_API=auto`, the one `UpstreamApi` the resolvers see: every call goes to the
 * adapter of the API the selection found. No resolver asks which one.
 */
export class DetectedUpstreamApi implements UpstreamApi {
  readonly #selection: ApiSelection;
  readonly #adapters: Readonly<Record<UpstreamApiKind, UpstreamApi>>;

  constructor(selection: ApiSelection, adapters: Readonly<Record<UpstreamApiKind, UpstreamApi>>) {
    this.#selection = selection;
    this.#adapters = adapters;
  }

  /** The detected API; `threads` until one is known (no call is sent before it is). */
  get kind(): UpstreamApiKind {
    return this.#selection.known ?? 'threads';
  }

  /**
   * Runs `call` on the adapter of the detected API: at once when it is known (every call after the
   * first detection), else once the selection has resolved. A call that throws at once still fails
   * as a rejected promise.
   */
  #on<T>(session: UpstreamSession, call: (api: UpstreamApi) => Promise<T>): Promise<T> {
    const known = this.#selection.known;
    if (!known) return this.#selection.resolve(session).then((kind) => call(this.#adapters[kind]));
    return callNow(() => call(this.#adapters[known]));
  }

  retrieveThread(session: UpstreamSession, id: string): Promise<Thread | null> {
    return this.#on(session, (api) => api.retrieveThread(session, id));
  }

  createThread(session: UpstreamSession, body: ThreadCreateParams, idempotencyKey?: string): Promise<Thread> {
    return this.#on(session, (api) => api.createThread(session, body, idempotencyKey));
  }

  updateThread(session: UpstreamSession, id: string, body: ThreadUpdateParams): Promise<Thread> {
    return this.#on(session, (api) => api.updateThread(session, id, body));
  }

  deleteThread(session: UpstreamSession, id: string): Promise<ThreadDeleted> {
    return this.#on(session, (api) => api.deleteThread(session, id));
  }

  listMessages(session: UpstreamSession, threadId: string, params: MessageListParams): Promise<MessagePage | null> {
    return this.#on(session, (api) => api.listMessages(session, threadId, params));
  }

  retrieveMessage(session: UpstreamSession, threadId: string, id: string): Promise<UpstreamMessage | null> {
    return this.#on(session, (api) => api.retrieveMessage(session, threadId, id));
  }

  createMessage(
    session: UpstreamSession,
    threadId: string,
    body: NewMessage,
    idempotencyKey?: string,
  ): Promise<UpstreamMessage> {
    return this.#on(session, (api) => api.createMessage(session, threadId, body, idempotencyKey));
  }

  updateMessage(
    session: UpstreamSession,
    threadId: string,
    id: string,
    metadata: Record<string, string>,
  ): Promise<UpstreamMessage> {
    return this.#on(session, (api) => api.updateMessage(session, threadId, id, metadata));
  }

  deleteMessage(session: UpstreamSession, threadId: string, id: string): Promise<{ id: string; deleted: boolean }> {
    return this.#on(session, (api) => api.deleteMessage(session, threadId, id));
  }

  createRun(session: UpstreamSession, threadId: string, body: NewRun, idempotencyKey?: string): Promise<Run> {
    return this.#on(session, (api) => api.createRun(session, threadId, body, idempotencyKey));
  }

  retrieveRun(session: UpstreamSession, threadId: string, runId: string): Promise<Run | null> {
    return this.#on(session, (api) => api.retrieveRun(session, threadId, runId));
  }

  listRuns(session: UpstreamSession, threadId: string, params: ListParams): Promise<RunPage | null> {
    return this.#on(session, (api) => api.listRuns(session, threadId, params));
  }

  createRunStreaming(session: UpstreamSession, threadId: string, body: NewRun, key?: string) {
    return this.#on(session, (api) => api.createRunStreaming?.(session, threadId, body, key) ?? Promise.resolve(null));
  }

  submitToolOutputsStreaming(session: UpstreamSession, threadId: string, runId: string, outputs: ToolOutput[]) {
    return this.#on(
      session,
      (api) => api.submitToolOutputsStreaming?.(session, threadId, runId, outputs) ?? Promise.resolve(null),
    );
  }

  resumeRunStream(session: UpstreamSession, threadId: string, runId: string, position: string) {
    return this.#on(
      session,
      (api) => api.resumeRunStream?.(session, threadId, runId, position) ?? Promise.resolve(null),
    );
  }

  submitToolOutputs(session: UpstreamSession, threadId: string, runId: string, outputs: ToolOutput[]): Promise<Run> {
    return this.#on(session, (api) => api.submitToolOutputs(session, threadId, runId, outputs));
  }

  cancelRun(session: UpstreamSession, threadId: string, runId: string): Promise<Run> {
    return this.#on(session, (api) => api.cancelRun(session, threadId, runId));
  }

  retrieveAssistant(session: UpstreamSession, id: string): Promise<Assistant | null> {
    return this.#on(session, (api) => api.retrieveAssistant(session, id));
  }

  listAssistants(session: UpstreamSession, params: ListParams): Promise<AssistantPage> {
    return this.#on(session, (api) => api.listAssistants(session, params));
  }

  createAssistant(session: UpstreamSession, body: AssistantFields, idempotencyKey?: string): Promise<Assistant> {
    return this.#on(session, (api) => api.createAssistant(session, body, idempotencyKey));
  }

  updateAssistant(session: UpstreamSession, id: string, body: AssistantFields): Promise<Assistant> {
    return this.#on(session, (api) => api.updateAssistant(session, id, body));
  }

  deleteAssistant(session: UpstreamSession, id: string): Promise<{ id: string; deleted: boolean }> {
    return this.#on(session, (api) => api.deleteAssistant(session, id));
  }
}
