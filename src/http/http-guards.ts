import { createGraphQLError, type Plugin } from 'graphql-yoga';
import { readLimited } from './read-limited.ts';

/**
 * Refusals at the HTTP level, before any GraphQL work.
 *
 * - A POST must be `application/json`: form, multipart and text/plain bodies are what a browser
 *   sends cross-site without a CORS preflight, so refusing them (415) keeps other sites from
 *   running mutations with the gateway's key. GET stays open for queries (Yoga refuses mutations
 *   over GET with 405).
 * - A body with a Content-Encoding (gzip, …) gets 415: bodies are not decoded.
 * - A body over `maxBodyBytes` gets 413, counted as it streams, whatever Content-Length claims.
 * - Malformed JSON gets 400 with a GraphQL error body.
 */
export function useHttpGuards({ maxBodyBytes }: { maxBodyBytes: number }): Plugin {
  return {
    // Only GraphQL-route requests reach parsing (the router answers every other path first), so no
    // path test here: a second path test is how a guard ends up keyed differently from the router.
    onRequestParse({ request, url, setRequestParser }) {
      if (request.method === 'GET') {
        // Yoga's GET parser would throw on these, answered as a masked INTERNAL_SERVER_ERROR.
        for (const name of ['variables', 'extensions']) {
          const value = url.searchParams.get(name);
          if (value && !isJson(value)) throw refusal(400, 'BAD_REQUEST', `The "${name}" parameter is not valid JSON.`);
        }
      }
      if (request.method !== 'POST') return;
      const type = (request.headers.get('content-type') ?? '').split(';')[0]?.trim().toLowerCase();
      if (type !== 'application/json') {
        throw refusal(415, 'UNSUPPORTED_MEDIA_TYPE', 'POST bodies must be application/json.');
      }
      // Bodies are read as sent: a compressed one would be taken for malformed JSON, a plain one
      // labelled compressed for what it is not. Either way the client hears what to send.
      const coding = (request.headers.get('content-encoding') ?? '').trim().toLowerCase() || 'identity';
      if (coding !== 'identity') {
        const message = `Request bodies are not decoded here: send the JSON without Content-Encoding (got "${coding.slice(0, 40)}").`;
        throw refusal(415, 'UNSUPPORTED_MEDIA_TYPE', message);
      }
      const length = request.headers.get('content-length');
      if (length !== null && !/^\d+$/.test(length)) {
        throw refusal(400, 'BAD_REQUEST', 'The Content-Length header is not a single whole number.');
      }
      if (length !== null && Number(length) > maxBodyBytes) throw tooLarge(maxBodyBytes);
      setRequestParser(async (req) => {
        // With a Content-Length, Node's HTTP parser already holds the body to it: read it whole.
        // Without one (chunked), count the bytes as they stream and stop at the limit.
        const text = length !== null ? await req.text() : await readLimitedOrRefuse(req, maxBodyBytes);
        // In-process callers (yoga.fetch) have no HTTP parser holding them to their Content-Length.
        if (text.length > maxBodyBytes) throw tooLarge(maxBodyBytes);
        let body: unknown;
        try {
          body = JSON.parse(text);
        } catch {
          throw refusal(400, 'BAD_REQUEST', 'The request body is not valid JSON.');
        }
        if (!body || typeof body !== 'object' || Array.isArray(body)) {
          throw refusal(400, 'BAD_REQUEST', 'The request body must be a JSON object with a "query".');
        }
        return body as Record<string, unknown>;
      });
    },
  };
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

function refusal(status: number, code: string, message: string): Error {
  return createGraphQLError(message, { extensions: { code, http: { status } } });
}

function tooLarge(max: number): Error {
  return refusal(413, 'PAYLOAD_TOO_LARGE', `The request body is larger than ${max} bytes (MAX_BODY_BYTES).`);
}

async function readLimitedOrRefuse(request: Request, max: number): Promise<string> {
  if (!request.body) return '';
  const text = await readLimited(request.body, max);
  if (text === undefined) throw tooLarge(max);
  return text;
}
