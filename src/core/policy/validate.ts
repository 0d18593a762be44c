/**
 * Validation of a policy or user-settings document against a schema (schema.ts). Gecko does not
 * validate `storage.managed` and silently drops wrong types (rNeomy/auto-tab-discard#131), so every
 * problem is reported here with its JSON path, what was expected and what was found; unknown keys
 * are errors. A bad value is left out of the result (the caller falls back to the safe default for
 * exactly that setting) — it never silently becomes something else.
 */
import { isObjectSchema, type ItemSchema, type LeafSchema, type Schema } from './schema.js';

export interface PolicyError {
  /** JSON path from the settings object, e.g. `$.onInfected.action`, `$.algorithms.forbidden[2]`. */
  readonly path: string;
  readonly expected: string;
  readonly got: string;
}

export interface ValidationResult {
  /** The valid settings only, in the document's shape. */
  readonly value: Record<string, unknown>;
  readonly errors: readonly PolicyError[];
  /** Dotted paths of settings that were given but invalid (they fall back to the default). */
  readonly invalid: ReadonlySet<string>;
}

/** `"delete"`, `12`, `an object`, `an array of 3 items`, `null` — short and never the whole value. */
export function describeValue(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return `an array of ${v.length} item${v.length === 1 ? '' : 's'}`;
  if (typeof v === 'object') return 'an object';
  if (typeof v === 'string') return JSON.stringify(v.length > 60 ? `${v.slice(0, 57)}...` : v);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return typeof v;
}

export function formatPolicyError(e: PolicyError): string {
  return `${e.path}: expected ${e.expected}, got ${e.got}`;
}

const quoteList = (values: readonly string[]) => values.map((v) => JSON.stringify(v)).join(', ');

function checkItem(s: ItemSchema | LeafSchema, v: unknown): string | undefined {
  switch (s.type) {
    case 'boolean':
      return typeof v === 'boolean' ? undefined : 'true or false';
    case 'integer':
      return typeof v === 'number' && Number.isInteger(v) && v >= s.minimum && v <= s.maximum ? undefined : `an integer from ${s.minimum} to ${s.maximum}`;
    case 'string': {
      const want = `a string of ${s.minLength}–${s.maxLength} characters${s.pattern ? ` matching /${s.pattern}/` : ''}`;
      if (typeof v !== 'string' || v.length < s.minLength || v.length > s.maxLength) return want;
      if (s.pattern !== undefined && !new RegExp(s.pattern, 'u').test(v)) return want;
      return undefined;
    }
    case 'enum':
      return typeof v === 'string' && s.values.includes(v) ? undefined : `one of ${quoteList(s.values)}`;
    case 'list':
      return undefined; // handled by the caller
  }
}

/**
 * Validates `doc` against `schema`. `where` prefixes paths (default `$`). Booleans also accept 0 and
 * 1, which is how the Windows registry (REG_DWORD) carries them in Group Policy.
 */
export function validate(schema: Schema, doc: unknown, where = '$'): ValidationResult {
  const errors: PolicyError[] = [];
  const invalid = new Set<string>();

  function walk(s: Schema, v: unknown, jsonPath: string, dotted: string): unknown {
    if (isObjectSchema(s)) {
      if (typeof v !== 'object' || v === null || Array.isArray(v)) {
        errors.push({ path: jsonPath, expected: 'an object', got: describeValue(v) });
        for (const k of Object.keys(s.properties)) invalid.add(dotted ? `${dotted}.${k}` : k);
        return undefined;
      }
      const out: Record<string, unknown> = {};
      for (const [k, child] of Object.entries(v as Record<string, unknown>)) {
        const sub = s.properties[k];
        const p = /^[A-Za-z_$][\w$]*$/.test(k) ? `${jsonPath}.${k}` : `${jsonPath}[${JSON.stringify(k)}]`;
        if (!sub || !Object.hasOwn(s.properties, k)) {
          errors.push({ path: p, expected: `one of the known settings ${quoteList(Object.keys(s.properties))}`, got: 'an unknown setting' });
          continue;
        }
        const r = walk(sub, child, p, dotted ? `${dotted}.${k}` : k);
        if (r !== undefined) out[k] = r;
      }
      return out;
    }
    if (s.type === 'boolean' && (v === 0 || v === 1)) return v === 1;
    if (s.type === 'list') {
      if (!Array.isArray(v)) {
        errors.push({ path: jsonPath, expected: `an array (at most ${s.maxItems} items)`, got: describeValue(v) });
        invalid.add(dotted);
        return undefined;
      }
      let ok = true;
      if (v.length > s.maxItems) {
        errors.push({ path: jsonPath, expected: `at most ${s.maxItems} items`, got: describeValue(v) });
        ok = false;
      }
      v.forEach((item, i) => {
        const want = checkItem(s.items, item);
        if (want) {
          errors.push({ path: `${jsonPath}[${i}]`, expected: want, got: describeValue(item) });
          ok = false;
        } else if (s.unique && v.indexOf(item) !== i) {
          errors.push({ path: `${jsonPath}[${i}]`, expected: 'no repeated items', got: `a repeat of ${describeValue(item)}` });
          ok = false;
        }
      });
      // A list with one bad item is not applied in part: the admin's list means the whole list.
      if (!ok) invalid.add(dotted);
      return ok ? v : undefined;
    }
    const want = checkItem(s, v);
    if (want) {
      errors.push({ path: jsonPath, expected: want, got: describeValue(v) });
      invalid.add(dotted);
      return undefined;
    }
    return v;
  }

  const value = walk(schema, doc, where, '');
  return { value: (value as Record<string, unknown> | undefined) ?? {}, errors, invalid };
}
