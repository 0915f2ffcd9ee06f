import { createHash } from 'node:crypto';

/** The hash every persisted-document client sends: sha256 of the exact text, lower-case hex. */
export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

export function apq(hash: string, version: unknown = 1): { persistedQuery: { version: unknown; sha256Hash: string } } {
  return { persistedQuery: { version, sha256Hash: hash } };
}

export interface Answer {
  status: number;
  headers: Headers;
  data?: Record<string, unknown> | null;
  errors?: Array<{ message: string; extensions?: Record<string, unknown> }>;
}

const ACCEPT = 'application/graphql-response+json';

async function answer(response: Response): Promise<Answer> {
  const text = await response.text();
  const body = (text ? JSON.parse(text) : {}) as Omit<Answer, 'status' | 'headers'>;
  return { status: response.status, headers: response.headers, ...body };
}

/** A POST over real HTTP, the body as given (an object, or an array for a batch). */
export async function post(url: string, body: unknown): Promise<Answer> {
  return answer(
    await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: ACCEPT },
      body: JSON.stringify(body),
    }),
  );
}

/** A GET over real HTTP; object values are sent as JSON, as clients do for `variables` and `extensions`. */
export async function get(url: string, params: Record<string, unknown>): Promise<Answer> {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    search.set(key, typeof value === 'string' ? value : JSON.stringify(value));
  }
  return answer(await fetch(`${url}?${search}`, { headers: { accept: ACCEPT } }));
}

export function codesOf(answer: Answer): unknown[] {
  return (answer.errors ?? []).map((error) => error.extensions?.code);
}
