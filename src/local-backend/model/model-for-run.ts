import { chatCompletionsModel } from './chat-completions-model.ts';
import { ECHO_MODEL, echoModel } from './echo-model.ts';
import { type Model, ModelError } from './model.ts';

/** The model settings of the local backend (see docs/runs.md). */
export interface ModelSettings {
  /** LOCAL_BACKEND_MODEL_URL: an OpenAI-compatible Chat Completions server for every run. */
  url?: string;
  /** LOCAL_BACKEND_MODEL_KEY: its API key. */
  key?: string;
}

/**
 * Picks the model for a run's `model` name: with a URL every name goes to that server; without
 * one only the built-in `echo` exists, and any other name fails the run (`server_error`, its message
 * naming LOCAL_BACKEND_MODEL_URL).
 */
export function modelResolver(settings: ModelSettings): (name: string) => Model {
  const remote = settings.url
    ? chatCompletionsModel({ baseURL: settings.url, ...(settings.key ? { apiKey: settings.key } : {}) })
    : undefined;
  return (name) => {
    if (remote) return remote;
    if (name === ECHO_MODEL) return echoModel;
    return {
      // biome-ignore lint/correctness/useYield: this model only fails; it is a generator to fit the interface.
      async *stream() {
        throw new ModelError(
          'server_error',
          `The model '${name}' is not configured here: set LOCAL_BACKEND_MODEL_URL to an OpenAI-compatible Chat Completions server, or use the built-in model '${ECHO_MODEL}'.`,
        );
      },
    };
  };
}
