import { type BackendAnswer, type BackendRequest, fail, notAllowed } from './answer.ts';
import type { IdRule } from './ids.ts';

/** What a group of routes (Threads, Conversations, runs, assistants) checks before any of its handlers. */
export interface RouteSection {
  /** The caller's API key, or the refusal (401, a missing beta header). Runs before the ids are read. */
  guard(request: BackendRequest): Promise<{ key: string } | { error: BackendAnswer }>;
  /** One rule per `{…}` of a path, in order (thread then message, conversation then item, …). */
  ids: readonly IdRule[];
  /** Unknown paths under this prefix are still this section's: its guard answers before the 404. */
  prefix?: string;
}

function unknownUrl(request: BackendRequest): BackendAnswer {
  return fail(404, { message: `Invalid URL (${request.method} ${request.path})`, code: 'unknown_url' });
}

/** The ids of a pattern, one string per `{…}`: `'/v1/threads/{id}/messages/{id}'` -> `[string, string]`. */
export type Ids<P extends string> = P extends `${string}{${string}}${infer Rest}` ? [string, ...Ids<Rest>] : [];

/** One request as a handler sees it: authenticated, its ids decoded and checked. */
export interface RouteCall<I extends string[] = string[]> {
  request: BackendRequest;
  /** The caller's API key (idempotency keys are remembered per key). */
  apiKey: string;
  ids: I;
}

export type RouteHandler<I extends string[] = string[]> = (call: RouteCall<I>) => Promise<BackendAnswer>;

interface Pattern {
  /** Also the `requests` key: `GET /v1/threads/{id}/messages`. */
  path: string;
  segments: readonly string[];
  section: RouteSection;
  /** By method; `*` answers the methods no other handler takes (instead of the 405). */
  handlers: Map<string, RouteHandler>;
}

function isPlaceholder(segment: string): boolean {
  return segment.startsWith('{') && segment.endsWith('}');
}

/**
 * The backend's routes: each is a method, a path pattern and a handler, registered by its family's
 * module. `dispatch` matches the path, counts the request by its pattern, runs the section's guard,
 * checks the ids, and answers 405 for a method the pattern has no handler for, 404 for no pattern.
 */
export class RouteTable {
  /** Requests answered so far, by `METHOD /path-shape`; `METHOD unknown` for a path no route has. */
  readonly requests = new Map<string, number>();
  readonly #patterns = new Map<string, Pattern>();
  readonly #sections = new Set<RouteSection>();

  add<P extends string>(section: RouteSection, method: string, path: P, handle: RouteHandler<Ids<P>>): void {
    let pattern = this.#patterns.get(path);
    if (!pattern) {
      pattern = { path, segments: path.split('/'), section, handlers: new Map() };
      this.#patterns.set(path, pattern);
    }
    if (pattern.section !== section) throw new Error(`${path} belongs to another section`);
    pattern.handlers.set(method, handle as RouteHandler);
    this.#sections.add(section);
  }

  /** Every route served, as `METHOD /path-shape` (the `*` fallbacks, which answer 405, left out). */
  get routes(): string[] {
    return [...this.#patterns.values()].flatMap((pattern) =>
      [...pattern.handlers.keys()].filter((method) => method !== '*').map((method) => `${method} ${pattern.path}`),
    );
  }

  async dispatch(request: BackendRequest): Promise<BackendAnswer> {
    const segments = request.path.split('/');
    const pattern = this.#match(segments);
    if (!pattern) return this.#unknown(request);
    this.#count(request.method, pattern.path);
    const guarded = await pattern.section.guard(request);
    if ('error' in guarded) return guarded.error;
    const ids = this.#ids(pattern, segments);
    if ('error' in ids) return ids.error;
    const handle = pattern.handlers.get(request.method) ?? pattern.handlers.get('*');
    if (!handle) return notAllowed(request.method);
    return handle({ request, apiKey: guarded.key, ids: ids.ids });
  }

  /**
   * A path the API defines and this backend does not serve (`POST /v1/threads/runs`): 404
   * `unknown_url` for every method, rather than a placeholder of another route taking its name
   * for an id.
   */
  reserve(section: RouteSection, path: string): void {
    this.add(section, '*', path, async ({ request }) => unknownUrl(request));
  }

  /** The pattern with the most literal segments that matches: `/v1/threads/runs` before `/v1/threads/{id}`. */
  #match(segments: readonly string[]): Pattern | undefined {
    let best: Pattern | undefined;
    let bestLiterals = -1;
    for (const pattern of this.#patterns.values()) {
      if (pattern.segments.length !== segments.length) continue;
      let literals = 0;
      const matches = pattern.segments.every((part, index) => {
        if (isPlaceholder(part)) return true;
        literals++;
        return part === segments[index];
      });
      if (matches && literals > bestLiterals) [best, bestLiterals] = [pattern, literals];
    }
    return best;
  }

  /** The ids in path order, each through its section's rule; the first refused one answers. */
  #ids(pattern: Pattern, segments: readonly string[]): { ids: string[] } | { error: BackendAnswer } {
    const ids: string[] = [];
    for (const [index, part] of pattern.segments.entries()) {
      if (!isPlaceholder(part)) continue;
      const rule = pattern.section.ids[ids.length];
      const checked = rule ? rule(segments[index] ?? '') : { id: segments[index] ?? '' };
      if ('error' in checked) return checked;
      ids.push(checked.id);
    }
    return { ids };
  }

  async #unknown(request: BackendRequest): Promise<BackendAnswer> {
    this.#count(request.method, 'unknown');
    for (const section of this.#sections) {
      if (section.prefix === undefined || !request.path.startsWith(section.prefix)) continue;
      const guarded = await section.guard(request);
      if ('error' in guarded) return guarded.error;
      break;
    }
    return unknownUrl(request);
  }

  #count(method: string, shape: string): void {
    const key = `${method} ${shape}`;
    this.requests.set(key, (this.requests.get(key) ?? 0) + 1);
  }
}
