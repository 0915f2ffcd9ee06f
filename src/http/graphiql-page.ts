import { createHash } from 'node:crypto';
import { promisify } from 'node:util';
import { brotliCompress, constants, gzip } from 'node:zlib';
import { GRAPHIQL_DEFAULT_QUERY } from './graphiql.ts';

const brotli = promisify(brotliCompress);
const gzipAsync = promisify(gzip);

interface Rendered {
  etag: string;
  identity: Uint8Array<ArrayBuffer>;
  br: Uint8Array<ArrayBuffer>;
  gzip: Uint8Array<ArrayBuffer>;
}

/**
 * The offline GraphiQL page (Yoga's render-graphiql bundle, ~9 MB of inline script), rendered and
 * compressed once, on first view, off the event loop. Every later view is a cached buffer, a 304
 * when the browser has it (ETag), and 1.9 MB on the wire with brotli (of 9.1 MB): a crowd asking for the
 * page no longer slows GraphQL callers.
 */
export class GraphiQLPage {
  #rendered: Promise<Rendered> | undefined;

  #render(): Promise<Rendered> {
    this.#rendered ??= (async () => {
      const { renderGraphiQL } = await import('@graphql-yoga/render-graphiql');
      const html = renderGraphiQL({ title: 'Threads GraphQL gateway', defaultQuery: GRAPHIQL_DEFAULT_QUERY });
      const identity = Buffer.from(html, 'utf8');
      const [br, gz] = await Promise.all([
        brotli(identity, { params: { [constants.BROTLI_PARAM_QUALITY]: 5 } }),
        gzipAsync(identity, { level: 6 }),
      ]);
      const etag = `"${createHash('sha256').update(identity).digest('base64url').slice(0, 27)}"`;
      return { etag, identity: new Uint8Array(identity), br: new Uint8Array(br), gzip: new Uint8Array(gz) };
    })();
    return this.#rendered;
  }

  async respond(request: Request, fetchAPI: { Response: typeof Response }): Promise<Response> {
    const page = await this.#render();
    const headers: Record<string, string> = {
      'content-type': 'text/html; charset=utf-8',
      etag: page.etag,
      // Revalidate each view (a new gateway version changes the page), answered by a 304.
      'cache-control': 'no-cache',
      vary: 'accept-encoding',
      'x-content-type-options': 'nosniff',
    };
    const tags = request.headers.get('if-none-match');
    if (tags?.split(',').some((tag) => tag.trim().replace(/^W\//, '') === page.etag)) {
      return new fetchAPI.Response(null, { status: 304, headers });
    }
    const accepted = (request.headers.get('accept-encoding') ?? '').toLowerCase();
    let body = page.identity;
    if (/\bbr\b/.test(accepted)) {
      body = page.br;
      headers['content-encoding'] = 'br';
    } else if (/\bgzip\b/.test(accepted)) {
      body = page.gzip;
      headers['content-encoding'] = 'gzip';
    }
    headers['content-length'] = String(body.byteLength);
    return new fetchAPI.Response(new Uint8Array(body.buffer, body.byteOffset, body.byteLength), {
      status: 200,
      headers,
    });
  }
}
