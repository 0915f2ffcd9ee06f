import type { LogLevel } from './config/config.ts';

export interface Logger {
  error(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  debug(message: string, fields?: Record<string, unknown>): void;
}

const RANK: Record<LogLevel, number> = { silent: 0, error: 1, warn: 2, info: 3, debug: 4 };

/** Anything shaped like an API key, wherever it appears in a log line. */
const KEY_SHAPES = /\b(?:sk|rk|pk|sess)-[A-Za-z0-9_-]{6,}|Bearer\s+\S+/g;

/**
 * Structured logs, one JSON object per line. Every line passes through `redact`, which removes the
 * configured secrets and anything key-shaped, so a key cannot reach a log even by mistake.
 */
export function createLogger(
  level: LogLevel,
  secrets: readonly string[] = [],
  write: (line: string) => void = (line) => process.stdout.write(`${line}\n`),
): Logger {
  const known = secrets.filter((secret) => secret.length >= 4);
  const redact = (line: string): string => {
    let out = line;
    for (const secret of known) out = out.replaceAll(secret, '[redacted]');
    return out.replace(KEY_SHAPES, '[redacted]');
  };
  const emit = (at: LogLevel, message: string, fields?: Record<string, unknown>): void => {
    if (RANK[at] > RANK[level]) return;
    write(redact(JSON.stringify({ time: new Date().toISOString(), level: at, msg: message, ...fields })));
  };
  return {
    error: (message, fields) => emit('error', message, fields),
    warn: (message, fields) => emit('warn', message, fields),
    info: (message, fields) => emit('info', message, fields),
    debug: (message, fields) => emit('debug', message, fields),
  };
}
