import { randomBytes } from 'node:crypto';
import type { BackendAnswer } from './backend.ts';

/** LOCAL_BACKEND_MAX_BODY_BYTES' default: twice the gateway's own MAX_BODY_BYTES default. */
export const DEFAULT_MAX_BODY_BYTES = 2 * 1024 * 1024;

/** The Threads-style 413 both the HTTP server and the in-process path answer past the limit. */
export function bodyTooLarge(limit: number): BackendAnswer {
  return {
    status: 413,
    headers: { 'content-type': 'application/json', 'x-request-id': `req_${randomBytes(16).toString('hex')}` },
    body: JSON.stringify({
      error: {
        message: `The request body is larger than ${limit} bytes.`,
        type: 'invalid_request_error',
        param: null,
        code: 'request_too_large',
      },
    }),
  };
}

/**
 * Reads a body of at most `limit` bytes: resolves `undefined` as soon as it is known to be larger
 * (a declared Content-Length, or the bytes counted so far), without buffering the rest.
 */
export async function readLimited(
  chunks: AsyncIterable<Uint8Array | string>,
  limit: number,
  declaredLength?: number,
): Promise<string | undefined> {
  if (declaredLength !== undefined && declaredLength > limit) return undefined;
  const parts: Buffer[] = [];
  let size = 0;
  for await (const chunk of chunks) {
    const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.from(chunk);
    size += buffer.byteLength;
    if (size > limit) return undefined;
    parts.push(buffer);
  }
  return Buffer.concat(parts).toString('utf8');
}
