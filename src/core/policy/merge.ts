/**
 * The effective settings: defaults < user settings < admin policy (managed storage), merged per
 * setting at read time. Each setting knows where its value came from and whether the admin locked
 * it. An admin value that is invalid locks the setting to its safe default (the admin meant to
 * decide it; a user value must not slip in), and the error is kept for the status page.
 */
import { POLICY_SCHEMA, type PolicySettings, type SettingPath } from './definition.js';
import { defaultsOf, leaves, type LeafSchema } from './schema.js';
import { validate, type PolicyError } from './validate.js';

export type SettingSource = 'default' | 'user' | 'managed';

export interface SettingOrigin {
  readonly source: SettingSource;
  /** Set by the administrator (also when the admin's value was invalid and the default applies). */
  readonly locked: boolean;
  /** Users may change it in the add-on (not locked, and a user setting by definition). */
  readonly userMayChange: boolean;
  /** The value given for it was invalid, by whom; the default applies. */
  readonly invalidFrom?: 'managed' | 'user';
}

export interface SourcedPolicyError extends PolicyError {
  readonly source: 'managed' | 'user';
}

export interface PolicyMeta {
  readonly origin: Readonly<Record<SettingPath, SettingOrigin>>;
  readonly errors: readonly SourcedPolicyError[];
  /** An admin policy exists (storage.managed gave an object). */
  readonly managedPresent: boolean;
}

/** Settings as plain values (`policy.keys.importAllowed`) plus where each came from. */
export type EffectivePolicy = PolicySettings & PolicyMeta;

function get(o: Record<string, unknown>, dotted: string): { found: boolean; value?: unknown } {
  let cur: unknown = o;
  for (const k of dotted.split('.')) {
    if (typeof cur !== 'object' || cur === null || !Object.hasOwn(cur, k)) return { found: false };
    cur = (cur as Record<string, unknown>)[k];
  }
  return { found: true, value: cur };
}

function set(o: Record<string, unknown>, dotted: string, value: unknown): void {
  const keys = dotted.split('.');
  let cur = o;
  for (const k of keys.slice(0, -1)) cur = cur[k] as Record<string, unknown>;
  cur[keys[keys.length - 1]!] = value;
}

const LEAVES: readonly { path: string; schema: LeafSchema }[] = leaves(POLICY_SCHEMA);

export function effectivePolicy(input: { managed?: unknown; user?: unknown }): EffectivePolicy {
  const managedPresent = input.managed !== undefined && input.managed !== null;
  const m = managedPresent ? validate(POLICY_SCHEMA, input.managed) : { value: {}, errors: [], invalid: new Set<string>() };
  const u = input.user !== undefined && input.user !== null ? validate(POLICY_SCHEMA, input.user) : { value: {}, errors: [], invalid: new Set<string>() };
  const errors: SourcedPolicyError[] = [...m.errors.map((e) => ({ ...e, source: 'managed' as const })), ...u.errors.map((e) => ({ ...e, source: 'user' as const }))];
  const values = defaultsOf(POLICY_SCHEMA) as unknown as Record<string, unknown>;
  const origin: Record<string, SettingOrigin> = {};

  for (const { path, schema } of LEAVES) {
    const userSettable = schema.userSettable === true;
    const fromManaged = get(m.value, path);
    if (fromManaged.found) {
      set(values, path, fromManaged.value);
      origin[path] = { source: 'managed', locked: true, userMayChange: false };
      continue;
    }
    if (m.invalid.has(path)) {
      origin[path] = { source: 'default', locked: true, userMayChange: false, invalidFrom: 'managed' };
      continue;
    }
    const fromUser = get(u.value, path);
    if (fromUser.found && !userSettable) {
      errors.push({ source: 'user', path: `$.${path}`, expected: 'a setting users may change (only an administrator can set this one)', got: 'a user setting' });
    } else if (fromUser.found) {
      set(values, path, fromUser.value);
      origin[path] = { source: 'user', locked: false, userMayChange: true };
      continue;
    }
    origin[path] = { source: 'default', locked: false, userMayChange: userSettable, ...(u.invalid.has(path) ? { invalidFrom: 'user' as const } : {}) };
  }
  return { ...(values as unknown as PolicySettings), origin: origin as Record<SettingPath, SettingOrigin>, errors, managedPresent };
}

/** The defaults only (no policy, no user settings): what applies before anything was read. */
export const DEFAULT_POLICY: EffectivePolicy = effectivePolicy({});
