/** Request bodies read with a byte limit: the gateway's HTTP guard and the local backend share it. */

async function* chunksOf(source: AsyncIterable<Uint8Array | string> | ReadableStream<Uint8Array>) {
  if (!(source instanceof ReadableStream)) {
    yield* source;
    return;
  }
  const reader = source.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      yield value;
    }
  } finally {
    // Stopping early (over the limit) cancels the rest of the stream instead of reading it.
    await reader.cancel().catch(() => undefined);
  }
}

/**
 * Reads a body of at most `limit` bytes: resolves `undefined` as soon as it is known to be larger
 * (a declared Content-Length, or the bytes counted so far), without buffering the rest.
 */
export async function readLimited(
  source: AsyncIterable<Uint8Array | string> | ReadableStream<Uint8Array>,
  limit: number,
  declaredLength?: number,
): Promise<string | undefined> {
  if (declaredLength !== undefined && declaredLength > limit) return undefined;
  const parts: Buffer[] = [];
  let size = 0;
  for await (const chunk of chunksOf(source)) {
    const buffer = Buffer.from(chunk);
    size += buffer.byteLength;
    if (size > limit) return undefined;
    parts.push(buffer);
  }
  return Buffer.concat(parts).toString('utf8');
}
