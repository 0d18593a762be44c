/**
 * Reading the add-on's settings out of a Thunderbird `policies.json`
 * (`{"policies": {"3rdparty": {"Extensions": {"unseal@unseal.example": {…}}}}}`), or taking a bare
 * settings object as it is. Also notes whether the file locks `mailnews.p7m_external`, without
 * which Thunderbird may render S/MIME itself and scan-before-render is not guaranteed.
 */
import { ADDON_ID } from './definition.js';
import type { PolicyError } from './validate.js';

export interface ExtractedPolicy {
  /**
   * policies.json; a managed-storage manifest (`~/.mozilla/managed-storage/<id>.json`: name,
   * description, type "storage", data); or a bare settings object.
   */
  readonly form: 'policies.json' | 'managed-storage' | 'settings';
  /** The add-on's settings object (undefined when the policies.json has none). */
  readonly settings: unknown;
  /** Where the settings sit, as a JSON path prefix for error messages. */
  readonly where: string;
  readonly errors: readonly PolicyError[];
  /** For policies.json: does `Preferences["mailnews.p7m_external"]` lock the value true? */
  readonly p7mExternalLocked?: boolean;
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export function extractPolicy(doc: unknown): ExtractedPolicy {
  if (isObj(doc) && doc['type'] === 'storage' && Object.hasOwn(doc, 'data')) return managedStorage(doc);
  if (!isObj(doc) || !Object.hasOwn(doc, 'policies')) return { form: 'settings', settings: doc, where: '$', errors: [] };
  const where = `$.policies["3rdparty"].Extensions["${ADDON_ID}"]`;
  const policies = doc['policies'];
  const pref = isObj(policies) && isObj(policies['Preferences']) ? policies['Preferences']['mailnews.p7m_external'] : undefined;
  const p7mExternalLocked = isObj(pref) ? pref['Value'] === true && pref['Status'] === 'locked' : false;
  const ext = isObj(policies) && isObj(policies['3rdparty']) && isObj(policies['3rdparty']['Extensions']) ? policies['3rdparty']['Extensions'] : undefined;
  if (!ext || !Object.hasOwn(ext, ADDON_ID)) {
    return { form: 'policies.json', settings: undefined, where, p7mExternalLocked, errors: [{ path: where, expected: 'the Unseal settings object', got: 'nothing (no such key)' }] };
  }
  return { form: 'policies.json', settings: ext[ADDON_ID], where, p7mExternalLocked, errors: [] };
}

/** Gecko's native manifest for managed storage: it only serves `data` to the add-on named in `name`. */
function managedStorage(doc: Record<string, unknown>): ExtractedPolicy {
  const errors: PolicyError[] = [];
  if (doc['name'] !== ADDON_ID) errors.push({ path: '$.name', expected: `"${ADDON_ID}" (the add-on this manifest is for)`, got: JSON.stringify(doc['name']) ?? 'nothing' });
  for (const k of Object.keys(doc)) {
    if (!['name', 'description', 'type', 'data'].includes(k)) errors.push({ path: `$.${k}`, expected: 'one of name, description, type, data', got: JSON.stringify(k) });
  }
  return { form: 'managed-storage', settings: doc['data'], where: '$.data', errors };
}
