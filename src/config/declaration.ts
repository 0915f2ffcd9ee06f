/**
 * The shape of one environment variable's declaration. The tables in gateway-variables.ts and
 * local-backend-variables.ts hold one entry per variable; variables.ts parses from them and
 * scripts/config-docs.ts writes docs/configuration.md from them, so a variable exists only once.
 */

/** The headings of docs/configuration.md, in this order. */
export const GROUPS = [
  'Server',
  'Upstream',
  'Limits',
  'Idempotency & Redis',
  'Storage / local backend',
  'Runs model',
  'Persisted documents',
  'Live',
  'Observability',
] as const;
export type Group = (typeof GROUPS)[number];

interface Common {
  readonly group: Group;
  /** One line for the docs table (Markdown). */
  readonly description: string;
  /** The default as the docs show it, when it is computed from other variables (or unset means something). */
  readonly defaultText?: string;
}

/** A whole number between `min` and `max`; without `default`, unset reads as undefined or a computed default. */
export interface IntegerVariable extends Common {
  readonly kind: 'integer';
  readonly default?: number;
  readonly min: number;
  readonly max: number;
  /** Only for the docs: 8388608 reads better as "8 MiB", 86400000 as "24 h". */
  readonly unit?: 'bytes' | 'ms' | 's';
}

/** `true`/`1` or `false`/`0`, any case. */
export interface BooleanVariable extends Common {
  readonly kind: 'boolean';
  readonly default: boolean;
}

/**
 * Free text. A `secret` one (a key) is never echoed: not in errors, not in the docs' defaults; the
 * rules config.ts applies to it must not quote it either.
 */
export interface StringVariable extends Common {
  readonly kind: 'string';
  readonly default?: string;
  readonly secret?: true;
}

/** Comma-separated, each item trimmed, empty items dropped; unset is the empty list. */
export interface ListVariable extends Common {
  readonly kind: 'list';
  readonly secret?: true;
}

/** One of `choices`, compared in lower case. */
export interface EnumVariable extends Common {
  readonly kind: 'enum';
  readonly choices: readonly string[];
  readonly default?: string;
}

/**
 * A URL with one of `schemes` (written without "://"). Never echoed whole (it may carry a
 * password), only its scheme.
 */
export interface UrlVariable extends Common {
  readonly kind: 'url';
  readonly schemes: readonly string[];
  /** What a valid value is, after "NAME must be": "a URL like redis://127.0.0.1:6379/0". */
  readonly format: string;
  /**
   * `false`: only the scheme prefix is checked, for connection strings the WHATWG parser may refuse
   * (a PostgreSQL password with an unescaped `#`) and whose own client reports them better.
   */
  readonly parse: boolean;
}

export type Variable = IntegerVariable | BooleanVariable | StringVariable | ListVariable | EnumVariable | UrlVariable;

export type VariableKind = Variable['kind'];

export const KiB = 1024;
export const MiB = 1024 * KiB;
export const GiB = 1024 * MiB;
