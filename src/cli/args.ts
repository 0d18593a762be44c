import { UnsealError } from '../core/errors.js';

export interface OptionSpec {
  /** Takes a value (`--key FILE`) rather than being a flag (`--json`). */
  readonly value?: boolean;
  /** May be given several times; values are collected in order. */
  readonly repeat?: boolean;
}

export interface ParsedArgs {
  readonly options: Map<string, string[]>;
  readonly flags: Set<string>;
  readonly positionals: string[];
}

/** A small strict parser: unknown options are usage errors, `--opt=value` and `--opt value` both work. */
export function parseArgs(argv: readonly string[], spec: Readonly<Record<string, OptionSpec>>): ParsedArgs {
  const options = new Map<string, string[]>();
  const flags = new Set<string>();
  const positionals: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      const name = eq === -1 ? a.slice(2) : a.slice(2, eq);
      const s = spec[name];
      if (!s) throw new UnsealError('usage', `unknown option --${name}`);
      if (!s.value) {
        if (eq !== -1) throw new UnsealError('usage', `--${name} takes no value`);
        flags.add(name);
        continue;
      }
      let v: string | undefined;
      if (eq !== -1) v = a.slice(eq + 1);
      else v = argv[++i];
      if (v === undefined) throw new UnsealError('usage', `--${name} needs a value`);
      const list = options.get(name) ?? [];
      if (list.length > 0 && !s.repeat) throw new UnsealError('usage', `--${name} given twice`);
      list.push(v);
      options.set(name, list);
    } else if (a.startsWith('-') && a !== '-') {
      const s = spec[a.slice(1)];
      if (!s || a.length !== 2) throw new UnsealError('usage', `unknown option ${a}`);
      const v = s.value ? argv[++i] : undefined;
      if (s.value && v === undefined) throw new UnsealError('usage', `${a} needs a value`);
      if (v === undefined) flags.add(a.slice(1));
      else options.set(a.slice(1), [...(options.get(a.slice(1)) ?? []), v]);
    } else positionals.push(a);
  }
  return { options, flags, positionals };
}

export function one(p: ParsedArgs, name: string): string | undefined {
  return p.options.get(name)?.[0];
}

export function many(p: ParsedArgs, name: string): string[] {
  return p.options.get(name) ?? [];
}

export function atMostOnePositional(p: ParsedArgs, what = 'INPUT'): string | undefined {
  if (p.positionals.length > 1) throw new UnsealError('usage', `expected at most one ${what}, got ${p.positionals.length}`);
  return p.positionals[0];
}

/** The largest delay Node's timers take (2^31 − 1 ms, about 24.8 days); above it they fire after 1 ms. */
export const MAX_TIMEOUT_MS = 2_147_483_647;

/** `--timeout MS`: a whole number of milliseconds from 1 to MAX_TIMEOUT_MS, or undefined when not given. */
export function timeoutOption(p: ParsedArgs, name = 'timeout'): number | undefined {
  const text = one(p, name);
  if (text === undefined) return undefined;
  // Digits only: Number() would also take "1e3", "0x10" and " 100".
  const ms = /^[0-9]+$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(ms) || ms <= 0) throw new UnsealError('usage', `--${name} must be a positive whole number of milliseconds, got '${text}'`);
  if (ms > MAX_TIMEOUT_MS) throw new UnsealError('usage', `--${name} ${text} is too large: at most ${MAX_TIMEOUT_MS} milliseconds (about 24.8 days)`);
  return ms;
}
