import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { Variable } from '../../src/config/declaration.ts';
import { GATEWAY_VARIABLES } from '../../src/config/gateway-variables.ts';
import { LOCAL_BACKEND_VARIABLES } from '../../src/config/local-backend-variables.ts';
import { ConfigError, readVariable, VARIABLES } from '../../src/config/variables.ts';

const src = fileURLToPath(new URL('../../src/', import.meta.url));

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory()
      ? sourceFiles(join(dir, entry.name))
      : entry.name.endsWith('.ts')
        ? [join(dir, entry.name)]
        : [],
  );
}

const declared: Array<[string, Variable]> = Object.entries(VARIABLES);

describe('the variable declarations', () => {
  it('are the only way into the environment: no file outside src/config/ reads process.env', () => {
    const readers = sourceFiles(src)
      .filter((file) => /process\.env\b/.test(readFileSync(file, 'utf8')))
      .map((file) => relative(src, file));
    expect(readers.filter((file) => !file.startsWith('config/'))).toEqual([]);
  });

  it('declare every variable src/config/ names, and src/config/ reads every declared one', () => {
    // Every file of src/config/ but the declarations themselves and the reader.
    const tables = ['declaration.ts', 'gateway-variables.ts', 'local-backend-variables.ts', 'variables.ts'];
    const text = sourceFiles(join(src, 'config'))
      .filter((file) => !tables.includes(relative(join(src, 'config'), file)))
      .map((file) => readFileSync(file, 'utf8'))
      .join('\n');
    // readVariable takes only declared names (a type error otherwise); this also catches a name
    // passed through a helper as a plain string.
    const named = new Set([...text.matchAll(/'([A-Z][A-Z0-9_]+)'/g)].map((match) => match[1]));
    expect([...named].filter((name) => name !== undefined && !(name in VARIABLES))).toEqual([]);
    expect(declared.map(([name]) => name).filter((name) => !named.has(name))).toEqual([]);
  });

  it('declare each name once across the gateway and local backend tables', () => {
    const gateway = Object.keys(GATEWAY_VARIABLES);
    expect(Object.keys(LOCAL_BACKEND_VARIABLES).filter((name) => gateway.includes(name))).toEqual([]);
  });

  it.each(declared)('%s: a default within its bounds or choices, and one line of description', (_name, variable) => {
    expect(variable.description).toMatch(/^[^\n]{10,200}$/);
    if (variable.kind === 'integer') {
      expect(variable.min).toBeLessThanOrEqual(variable.max);
      expect(Number.isSafeInteger(variable.max)).toBe(true);
      if (variable.default !== undefined) {
        expect(variable.default).toBeGreaterThanOrEqual(variable.min);
        expect(variable.default).toBeLessThanOrEqual(variable.max);
      } else {
        // Unset must mean something the docs can say.
        expect(variable.defaultText).toBeDefined();
      }
    }
    if (variable.kind === 'enum') {
      if (variable.default === undefined) expect(variable.defaultText).toBeDefined();
      else expect(variable.choices).toContain(variable.default);
      expect(variable.choices.every((choice) => choice === choice.toLowerCase())).toBe(true);
    }
  });
});

describe('readVariable', () => {
  it('takes only declared names', () => {
    // @ts-expect-error: tsc refuses an undeclared name, so `npm run typecheck` fails before this runs.
    expect(() => readVariable({ NOT_DECLARED: '1' }, 'NOT_DECLARED')).toThrow();
  });

  it('reads each kind, with blank as unset', () => {
    expect(readVariable({ PORT: ' 8080 ' }, 'PORT')).toBe(8080);
    expect(readVariable({ PORT: '  ' }, 'PORT')).toBe(4000);
    expect(readVariable({ GRAPHIQL: 'FALSE' }, 'GRAPHIQL')).toBe(false);
    expect(readVariable({ GRAPHIQL: '0' }, 'GRAPHIQL')).toBe(false);
    expect(readVariable({}, 'GRAPHIQL')).toBe(true);
    expect(readVariable({ METRICS_OPERATIONS: ' A, ,B ' }, 'METRICS_OPERATIONS')).toEqual(['A', 'B']);
    expect(readVariable({}, 'METRICS_OPERATIONS')).toEqual([]);
    expect(readVariable({ LOG_LEVEL: 'DEBUG' }, 'LOG_LEVEL')).toBe('debug');
    expect(readVariable({}, 'REDIS_URL')).toBeUndefined();
    expect(readVariable({}, 'IDEMPOTENCY_CLAIM_MS', 1234)).toBe(1234);
    expect(readVariable({ IDEMPOTENCY_CLAIM_MS: '5000' }, 'IDEMPOTENCY_CLAIM_MS', 1234)).toBe(5000);
  });

  it.each([
    [{ MAX_DEPTH: '1' }, 'MAX_DEPTH', 'MAX_DEPTH must be between 2 and 1000, got 1'],
    [{ MAX_DEPTH: '1.5' }, 'MAX_DEPTH', 'MAX_DEPTH must be a whole number, got "1.5"'],
    [
      { UPSTREAM_API: 'graphql' },
      'UPSTREAM_API',
      'UPSTREAM_API must be one of threads, conversations, auto, got "graphql"',
    ],
    [{ GRAPHIQL: 'yes' }, 'GRAPHIQL', 'GRAPHIQL must be "true" or "false", got "yes"'],
  ] as const)('%j is one line naming the variable', (env, name, message) => {
    expect(() => readVariable(env, name)).toThrow(new ConfigError(message));
  });

  it.each([
    [{ REDIS_URL: 'http://user:hunter2@cache:6379' }, 'REDIS_URL', /^REDIS_URL must use redis or rediss, got "http:"$/],
    [{ REDIS_URL: 'hunter2@@' }, 'REDIS_URL', /^REDIS_URL must be a URL like redis:/],
    [{ DATABASE_URL: 'mysql://app:hunter2@db/x' }, 'DATABASE_URL', /^DATABASE_URL must be a postgres:\/\//],
    [{ LOCAL_BACKEND_MODEL_URL: 'ftp://hunter2@x' }, 'LOCAL_BACKEND_MODEL_URL', /must be an http:\/\/ or https:\/\//],
    [{ OPENAI_BASE_URL: 'hunter2 x' }, 'OPENAI_BASE_URL', /^OPENAI_BASE_URL must be an absolute http\(s\) URL$/],
  ] as const)('a bad URL names %s but never quotes it (it may hold a password)', (env, name, message) => {
    expect(() => readVariable(env, name)).toThrow(message);
    expect(() => readVariable(env, name)).not.toThrow(/hunter2/);
  });

  it('keeps a PostgreSQL connection string the URL parser would refuse', () => {
    expect(readVariable({ DATABASE_URL: 'postgres://app:p#ss@db/x' }, 'DATABASE_URL')).toBe('postgres://app:p#ss@db/x');
  });
});
