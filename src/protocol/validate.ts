/**
 * Small hand-written guard helpers for wire data. Runtime-neutral (add-on and host): no node:*, no DOM.
 * Each guard names the offending field so a protocol error tells the sender exactly what was wrong.
 */

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

export function isRecord(u: unknown): u is Record<string, unknown> {
  return typeof u === 'object' && u !== null && !Array.isArray(u);
}

/** Thrown only inside the guards of this folder and turned into a ProtocolError value at their edge. */
export class GuardError extends Error {
  override readonly name = 'GuardError';
}

export function str(o: Record<string, unknown>, key: string, opts: { max?: number; min?: number; pattern?: RegExp } = {}): string {
  const v = o[key];
  if (typeof v !== 'string') throw new GuardError(`${key} must be a string`);
  const min = opts.min ?? 0;
  if (v.length < min) throw new GuardError(`${key} must have at least ${min} characters`);
  if (opts.max !== undefined && v.length > opts.max) throw new GuardError(`${key} is longer than ${opts.max} characters`);
  if (opts.pattern && !opts.pattern.test(v)) throw new GuardError(`${key} has an invalid format`);
  return v;
}

export function optStr(o: Record<string, unknown>, key: string, opts: { max?: number; min?: number; pattern?: RegExp } = {}): string | undefined {
  return o[key] === undefined ? undefined : str(o, key, opts);
}

export function int(o: Record<string, unknown>, key: string, min: number, max: number): number {
  const v = o[key];
  if (typeof v !== 'number' || !Number.isSafeInteger(v)) throw new GuardError(`${key} must be an integer`);
  if (v < min || v > max) throw new GuardError(`${key} must be between ${min} and ${max}`);
  return v;
}

export function optInt(o: Record<string, unknown>, key: string, min: number, max: number): number | undefined {
  return o[key] === undefined ? undefined : int(o, key, min, max);
}

export function bool(o: Record<string, unknown>, key: string): boolean {
  const v = o[key];
  if (typeof v !== 'boolean') throw new GuardError(`${key} must be true or false`);
  return v;
}

export function record(o: Record<string, unknown>, key: string): Record<string, unknown> {
  const v = o[key];
  if (!isRecord(v)) throw new GuardError(`${key} must be an object`);
  return v;
}

export function oneOf<T extends string>(o: Record<string, unknown>, key: string, values: readonly T[]): T {
  const v = o[key];
  if (typeof v !== 'string' || !(values as readonly string[]).includes(v)) {
    throw new GuardError(`${key} must be one of ${values.join(', ')}`);
  }
  return v as T;
}

export function strArray(o: Record<string, unknown>, key: string, maxItems: number, maxLen: number): string[] {
  const v = o[key];
  if (!Array.isArray(v)) throw new GuardError(`${key} must be an array`);
  if (v.length > maxItems) throw new GuardError(`${key} has more than ${maxItems} items`);
  return v.map((x, i) => {
    if (typeof x !== 'string' || x.length > maxLen) throw new GuardError(`${key}[${i}] must be a string of at most ${maxLen} characters`);
    return x;
  });
}

/** Rejects fields that are not in `allowed`, so a sender cannot smuggle data (e.g. plaintext) through. */
export function onlyKeys(o: Record<string, unknown>, allowed: readonly string[], where: string): void {
  for (const k of Object.keys(o)) {
    if (!allowed.includes(k)) throw new GuardError(`${where}: unexpected field '${k}'`);
  }
}
