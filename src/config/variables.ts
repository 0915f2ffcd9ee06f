import type { Variable } from './declaration.ts';
import { GATEWAY_VARIABLES } from './gateway-variables.ts';
import { LIVE_VARIABLES } from './live-variables.ts';
import { LOCAL_BACKEND_VARIABLES } from './local-backend-variables.ts';

/**
 * Every environment variable, declared once. `readVariable` takes only these names, so a variable
 * cannot be read without being declared (and so documented in docs/configuration.md).
 */
export const VARIABLES = { ...GATEWAY_VARIABLES, ...LIVE_VARIABLES, ...LOCAL_BACKEND_VARIABLES };

export type VariableName = keyof typeof VARIABLES;

/** A bad value; `main.ts` prints its message as the one line it stops with. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

export type Env = Readonly<Record<string, string | undefined>>;

type Parsed<V> = V extends { kind: 'integer' }
  ? number
  : V extends { kind: 'boolean' }
    ? boolean
    : V extends { kind: 'list' }
      ? readonly string[]
      : V extends { kind: 'enum'; choices: readonly (infer C)[] }
        ? C
        : string;

/** What `name` reads as: undefined when unset without a default (a boolean always has one, a list is then empty). */
export type VariableValue<N extends VariableName> = (typeof VARIABLES)[N] extends
  | { kind: 'boolean' | 'list' }
  | { default: unknown }
  ? Parsed<(typeof VARIABLES)[N]>
  : Parsed<(typeof VARIABLES)[N]> | undefined;

/** The type `name` parses to: a number, a boolean, a list, one of an enum's choices, a string. */
export type VariableType<N extends VariableName> = Parsed<(typeof VARIABLES)[N]>;

/** Reads `name` as declared; unset or blank is the default. */
export function readVariable<N extends VariableName>(env: Env, name: N): VariableValue<N>;
/** Reads `name` as declared, with a default computed from other settings in place of the declared one. */
export function readVariable<N extends VariableName>(
  env: Env,
  name: N,
  computedDefault: VariableType<N>,
): VariableType<N>;
export function readVariable(env: Env, name: VariableName, computedDefault?: unknown): unknown {
  const variable: Variable = VARIABLES[name];
  const raw = env[name]?.trim() || undefined;
  switch (variable.kind) {
    case 'integer':
      return raw === undefined ? (computedDefault ?? variable.default) : integer(name, raw, variable.min, variable.max);
    case 'boolean':
      return raw === undefined ? (computedDefault ?? variable.default) : boolean(name, raw);
    case 'string':
      return raw ?? computedDefault ?? variable.default;
    case 'list':
      return Object.freeze(
        (raw ?? '')
          .split(',')
          .map((item) => item.trim())
          .filter(Boolean),
      );
    case 'enum': {
      if (raw === undefined) return computedDefault ?? variable.default;
      const value = raw.toLowerCase();
      if (!variable.choices.includes(value)) {
        throw new ConfigError(`${name} must be one of ${variable.choices.join(', ')}, got "${raw}"`);
      }
      return value;
    }
    case 'url':
      return raw === undefined ? undefined : url(name, raw, variable.schemes, variable.format, variable.parse);
  }
}

function integer(name: string, raw: string, min: number, max: number): number {
  if (!/^\d+$/.test(raw)) throw new ConfigError(`${name} must be a whole number, got "${raw}"`);
  const value = Number(raw);
  if (value < min || value > max) throw new ConfigError(`${name} must be between ${min} and ${max}, got ${value}`);
  return value;
}

function boolean(name: string, raw: string): boolean {
  const value = raw.toLowerCase();
  if (value === 'false' || value === '0') return false;
  if (value === 'true' || value === '1') return true;
  throw new ConfigError(`${name} must be "true" or "false", got "${raw}"`);
}

// Only the scheme is ever quoted back: the rest of a URL may hold a password.
function url(name: string, raw: string, schemes: readonly string[], format: string, parse: boolean): string {
  if (!parse) {
    const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(raw)?.[1]?.toLowerCase();
    if (scheme === undefined || !schemes.includes(scheme)) throw new ConfigError(`${name} must be ${format}`);
    return raw;
  }
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    throw new ConfigError(`${name} must be ${format}`);
  }
  if (!schemes.includes(parsed.protocol.slice(0, -1))) {
    throw new ConfigError(`${name} must use ${schemes.join(' or ')}, got "${parsed.protocol}"`);
  }
  return raw;
}
