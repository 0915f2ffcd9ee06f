import type { Gateway } from '../../src/app.ts';
import type { LocalBackend } from '../../src/local-backend/backend.ts';
import { testGateway } from '../helpers/gateway.ts';
import { type Handler, startTestUpstream, type TestUpstream } from '../helpers/test-upstream.ts';

/**
 * The two places a conversations-mode gateway runs against in these tests: the embedded local
 * backend in-process (`UPSTREAM_API=conversations`, no key, no URL), and a real HTTP test upstream
 * that counts what reaches it (a server key, `OPENAI_BASE_URL` at it).
 */
export interface ConversationsTarget {
  gateway: Gateway;
  backend: LocalBackend;
  /** The test upstream, when the target has one (it counts what reaches the upstream). */
  upstream: TestUpstream | undefined;
  close(): Promise<void>;
}

export const targets: Array<
  [string, (env?: Record<string, string>, handler?: Handler) => Promise<ConversationsTarget>]
> = [
  [
    'the local backend, in-process',
    async (env = {}) => {
      const gateway = testGateway({ UPSTREAM_API: 'conversations', ...env });
      const backend = gateway.localBackend;
      if (!backend) throw new Error('expected the embedded local backend');
      return { gateway, backend, upstream: undefined, close: () => gateway.close() };
    },
  ],
  [
    'a test upstream over HTTP',
    async (env = {}, handler) => {
      const upstream = await startTestUpstream(handler);
      const gateway = testGateway({
        OPENAI_API_KEY: 'sk-test',
        OPENAI_BASE_URL: upstream.url,
        UPSTREAM_API: 'conversations',
        ...env,
      });
      return {
        gateway,
        backend: upstream.backend,
        upstream,
        close: async () => {
          await gateway.close();
          await upstream.close();
        },
      };
    },
  ],
];

/** A test upstream and a conversations-mode gateway with a server key for it. */
export async function conversationsUpstream(
  handler?: Handler,
  env: Record<string, string> = {},
): Promise<{ upstream: TestUpstream; gateway: Gateway }> {
  const upstream = await startTestUpstream(handler);
  const gateway = testGateway({
    OPENAI_API_KEY: 'sk-test',
    OPENAI_BASE_URL: upstream.url,
    UPSTREAM_API: 'conversations',
    ...env,
  });
  return { upstream, gateway };
}
