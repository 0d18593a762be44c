/**
 * The status page's edit form as data, built from the policy schema's own metadata (src/core/policy):
 * which settings the user may edit here (userSettable and not locked by the admin), which control
 * each gets, and how the controls' values become the user's settings document. Pure: no DOM, no
 * browser APIs (unit-tested in test/unit/pages/settings-form.test.ts).
 *
 * The document saved is the user's stored settings (their valid, user-settable values, also those
 * an admin currently locks — they apply again when the admin's value goes) with the edits applied:
 * an edited value equal to the schema default is removed (the setting follows the default again),
 * any other edited value is stored. Settings the user did not touch are not added.
 */
import { effectivePolicy, leaves, POLICY_SCHEMA, validate, type EffectivePolicy, type PolicyError, type SettingPath, type SettingSource } from '../../core/policy/index.js';
import type { LeafSchema } from '../../core/policy/schema.js';

export type FieldControl =
  | { readonly kind: 'checkbox' }
  | { readonly kind: 'select'; readonly options: readonly string[] }
  | { readonly kind: 'number'; readonly min: number; readonly max: number }
  | { readonly kind: 'text'; readonly minLength: number; readonly maxLength: number }
  /** A list of enum items: one checkbox per allowed item. */
  | { readonly kind: 'checkbox-set'; readonly options: readonly string[]; readonly maxItems: number }
  /** A list of strings: one item per line. */
  | { readonly kind: 'lines'; readonly maxItems: number; readonly maxLength: number };

export interface SettingField {
  readonly path: SettingPath;
  readonly description: string;
  readonly control: FieldControl;
  /** The effective value shown. */
  readonly value: unknown;
  readonly defaultValue: unknown;
  readonly source: SettingSource;
  readonly locked: boolean;
  readonly userSettable: boolean;
  /** The user may change it here: userSettable and not locked by the administrator. */
  readonly editable: boolean;
}

/** What a control holds: a checkbox's state, the text of a select/number/text/lines control, a checkbox set's checked items. */
export type FormValue = boolean | string | readonly string[];

export function controlFor(s: LeafSchema): FieldControl {
  switch (s.type) {
    case 'boolean':
      return { kind: 'checkbox' };
    case 'enum':
      return { kind: 'select', options: s.values };
    case 'integer':
      return { kind: 'number', min: s.minimum, max: s.maximum };
    case 'string':
      return { kind: 'text', minLength: s.minLength, maxLength: s.maxLength };
    case 'list':
      return s.items.type === 'enum' ? { kind: 'checkbox-set', options: s.items.values, maxItems: s.maxItems } : { kind: 'lines', maxItems: s.maxItems, maxLength: s.items.maxLength };
  }
}

export function valueAt(o: unknown, dotted: string): unknown {
  let cur = o;
  for (const k of dotted.split('.')) {
    if (typeof cur !== 'object' || cur === null || !Object.hasOwn(cur, k)) return undefined;
    cur = (cur as Record<string, unknown>)[k];
  }
  return cur;
}

/** Every setting in definition order, with its control and whether the user may edit it here. */
export function settingsForm(policy: EffectivePolicy): SettingField[] {
  return leaves(POLICY_SCHEMA).map(({ path, schema }) => {
    const p = path as SettingPath;
    const o = policy.origin[p];
    const userSettable = schema.userSettable === true;
    return {
      path: p,
      description: schema.description,
      control: controlFor(schema),
      value: valueAt(policy, path),
      defaultValue: schema.default,
      source: o.source,
      locked: o.locked,
      userSettable,
      editable: userSettable && !o.locked,
    };
  });
}

/** The control's initial state for a value. */
export function toFormValue(c: FieldControl, value: unknown): FormValue {
  switch (c.kind) {
    case 'checkbox':
      return value === true;
    case 'select':
    case 'text':
      return typeof value === 'string' ? value : '';
    case 'number':
      return typeof value === 'number' ? String(value) : '';
    case 'checkbox-set':
      return Array.isArray(value) ? c.options.filter((o) => value.includes(o)) : [];
    case 'lines':
      return Array.isArray(value) ? value.join('\n') : '';
  }
}

/**
 * The value a control stands for, as the document will hold it. Nothing is corrected or dropped
 * silently: what does not fit ("abc", "12.5", "") goes into the document as typed, so the core
 * validator names it (path, expected, got).
 */
export function parseFormValue(c: FieldControl, raw: FormValue): unknown {
  switch (c.kind) {
    case 'checkbox':
      return raw === true;
    case 'select':
    case 'text':
      return typeof raw === 'string' ? raw : String(raw);
    case 'number': {
      const s = typeof raw === 'string' ? raw.trim() : String(raw);
      if (/^[+-]?\d+(\.\d+)?([eE][+-]?\d+)?$/.test(s)) return Number(s);
      return s;
    }
    case 'checkbox-set': {
      const picked = Array.isArray(raw) ? raw : [];
      // Schema order, so the same choice is always the same document.
      return [...c.options.filter((o) => picked.includes(o)), ...picked.filter((p) => !c.options.includes(p))];
    }
    case 'lines':
      return (typeof raw === 'string' ? raw : '')
        .split(/\r?\n/)
        .map((l) => l.trim())
        .filter((l) => l.length > 0);
  }
}

/** Same setting value: lists of unique items compare as sets. */
export function sameValue(a: unknown, b: unknown): boolean {
  if (Array.isArray(a) && Array.isArray(b)) {
    if (a.length !== b.length) return false;
    const sa = [...a].map((x) => JSON.stringify(x)).sort();
    const sb = [...b].map((x) => JSON.stringify(x)).sort();
    return sa.every((x, i) => x === sb[i]);
  }
  return Object.is(a, b);
}

function setAt(o: Record<string, unknown>, dotted: string, value: unknown): void {
  const keys = dotted.split('.');
  let cur = o;
  for (const k of keys.slice(0, -1)) {
    const next = cur[k];
    if (typeof next !== 'object' || next === null || Array.isArray(next)) cur[k] = {};
    cur = cur[k] as Record<string, unknown>;
  }
  cur[keys[keys.length - 1]!] = value;
}

function deleteAt(o: Record<string, unknown>, dotted: string): void {
  const keys = dotted.split('.');
  const parents: Record<string, unknown>[] = [o];
  let cur: unknown = o;
  for (const k of keys.slice(0, -1)) {
    cur = (cur as Record<string, unknown>)[k];
    if (typeof cur !== 'object' || cur === null) return;
    parents.push(cur as Record<string, unknown>);
  }
  delete parents[parents.length - 1]![keys[keys.length - 1]!];
  // Drop objects the removal left empty.
  for (let i = parents.length - 1; i > 0; i--) {
    if (Object.keys(parents[i]!).length > 0) break;
    delete parents[i - 1]![keys[i - 1]!];
  }
}

/** The stored document's valid values of settings users may set (an invalid or admin-only entry is dropped on save). */
export function keptUserValues(stored: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (stored === undefined || stored === null) return out;
  const { value } = validate(POLICY_SCHEMA, stored);
  for (const { path, schema } of leaves(POLICY_SCHEMA)) {
    if (schema.userSettable !== true) continue;
    const v = valueAt(value, path);
    if (v !== undefined) setAt(out, path, v);
  }
  return out;
}

/**
 * The user's settings document after the edits: `values` holds the controls' states by path (only
 * editable fields are read); `stored` is the document currently in storage.
 */
export function userDocument(fields: readonly SettingField[], values: ReadonlyMap<string, FormValue>, stored: unknown): Record<string, unknown> {
  const doc = keptUserValues(stored);
  for (const f of fields) {
    if (!f.editable) continue;
    const raw = values.get(f.path);
    if (raw === undefined) continue;
    const v = parseFormValue(f.control, raw);
    if (sameValue(v, f.value)) continue; // not edited
    if (sameValue(v, f.defaultValue)) deleteAt(doc, f.path);
    else setAt(doc, f.path, v);
  }
  return doc;
}

/** The core's verdict on a user document (validator messages plus "only an administrator can set this one"). */
export function checkUserDocument(doc: unknown): PolicyError[] {
  return effectivePolicy({ user: doc }).errors.map(({ path, expected, got }) => ({ path, expected, got }));
}

/** The setting an error's JSON path is about (`$.algorithms.warn[2]` → `algorithms.warn`), if it is one. */
export function fieldOfError(fields: readonly SettingField[], jsonPath: string): SettingPath | undefined {
  return fields.find((f) => jsonPath === `$.${f.path}` || jsonPath.startsWith(`$.${f.path}[`))?.path;
}
