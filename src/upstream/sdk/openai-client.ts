import type OpenAI from 'openai';
import type { UpstreamFetch } from '../calls/call-session.ts';
import { LeanOpenAI } from './fast-read-client.ts';
import type { ReadPath } from './read-paths.ts';

export interface OpenAIClientOptions {
  baseURL: string;
  /** The server's key; absent in pass-through mode, where every call sets its own Authorization. */
  apiKey?: string;
  fetch: UpstreamFetch;
  /** Per attempt; calls pass their own, bounded by the request's deadline. */
  timeoutMs: number;
  /** The adapters' hot reads: the lean path (default) or the SDK's resource methods (sdk/read-paths.ts). */
  reads?: ReadPath;
}

/**
 * The one place the gateway builds an `openai` client for an upstream: every adapter gets its
 * client here, so the SDK's settings (no SDK retries, no organization or project headers, the
 * injected transport) are decided once.
 */
export function createOpenAIClient(options: OpenAIClientOptions): OpenAI {
  return new LeanOpenAI({
    // In pass-through mode every call sets its own Authorization header (UpstreamCalls does).
    apiKey: options.apiKey ?? 'pass-through-key-is-set-per-request',
    baseURL: options.baseURL,
    organization: null,
    project: null,
    // The gateway owns the retry policy (retry-policy.ts); the SDK's would resend creates.
    maxRetries: 0,
    timeout: options.timeoutMs,
    fetch: options.fetch,
  });
}
