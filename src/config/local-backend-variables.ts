import { GiB, KiB, MiB, type Variable } from './declaration.ts';

/** LOCAL_BACKEND_MAX_BYTES with LOCAL_BACKEND_STORE=memory: the quota is process memory there. */
export const MEMORY_STORE_MAX_BYTES = 64 * MiB;

/** The embedded local backend's variables: read in local mode and by `npm run local-backend`. */
export const LOCAL_BACKEND_VARIABLES = {
  DATA_DIR: {
    group: 'Storage / local backend',
    kind: 'string',
    default: './data',
    description:
      'Where the SQLite files (`threads.db`, and the gateway’s `gateway.db`: thread lists, runs; 0600) live; created 0700 if missing.',
  },
  LOCAL_BACKEND_STORE: {
    group: 'Storage / local backend',
    kind: 'enum',
    choices: ['sqlite', 'memory', 'postgres'],
    defaultText: '`sqlite` (`postgres` with `DATABASE_URL`)',
    description: '`memory` keeps everything in process memory, lost on exit: tests and throwaway runs.',
  },
  DATABASE_URL: {
    group: 'Storage / local backend',
    kind: 'url',
    schemes: ['postgres', 'postgresql'],
    format: 'a postgres:// or postgresql:// URL',
    parse: false,
    description: 'The store on PostgreSQL (`postgres://user@host:5432/db`), shareable by several instances.',
  },
  LOCAL_BACKEND_MAX_BYTES: {
    group: 'Storage / local backend',
    kind: 'integer',
    default: GiB,
    min: KiB,
    max: Number.MAX_SAFE_INTEGER,
    unit: 'bytes',
    defaultText: `\`${GiB}\` (1 GiB); \`${MEMORY_STORE_MAX_BYTES}\` (64 MiB) with \`LOCAL_BACKEND_STORE=memory\``,
    description:
      'Storage quota (threads, messages, remembered answers as JSON); past it, growing writes get 429 `storage_quota`.',
  },
  LOCAL_BACKEND_MAX_BODY_BYTES: {
    group: 'Storage / local backend',
    kind: 'integer',
    default: 2 * MiB,
    min: KiB,
    max: GiB,
    unit: 'bytes',
    description: 'Request body the local backend reads (on its port and in-process); larger gets 413.',
  },
  LOCAL_BACKEND_HOST: {
    group: 'Storage / local backend',
    kind: 'string',
    default: '127.0.0.1',
    description: 'Where `npm run local-backend` listens.',
  },
  LOCAL_BACKEND_PORT: {
    group: 'Storage / local backend',
    kind: 'integer',
    default: 4010,
    min: 0,
    max: 65_535,
    description: 'Port `npm run local-backend` listens on (0 picks a free one).',
  },
  LOCAL_BACKEND_API_KEYS: {
    group: 'Storage / local backend',
    kind: 'list',
    secret: true,
    defaultText: 'unset (any key)',
    description: 'Bearer keys `npm run local-backend` accepts; unset accepts any.',
  },

  LOCAL_BACKEND_MODEL_URL: {
    group: 'Runs model',
    kind: 'url',
    schemes: ['http', 'https'],
    format: 'an http:// or https:// URL',
    parse: false,
    defaultText: 'unset (only the built-in `echo` model)',
    description: 'Base URL of an OpenAI-compatible Chat Completions server; every run’s `model` name is sent to it.',
  },
  LOCAL_BACKEND_MODEL_KEY: {
    group: 'Runs model',
    kind: 'string',
    secret: true,
    description: 'The bearer key for that server.',
  },
  LOCAL_BACKEND_RUN_TIMEOUT_S: {
    group: 'Runs model',
    kind: 'integer',
    default: 600,
    min: 1,
    max: 86_400,
    unit: 's',
    description: 'A run not finished by then is `expired`.',
  },
} as const satisfies Record<string, Variable>;
