/**
 * The effective settings for this session: the admin policy from `storage.managed` (Thunderbird's
 * enterprise policies `3rdparty.Extensions["unseal@unseal.example"]`, or
 * `~/.mozilla/managed-storage/unseal@unseal.example.json`) merged over the user's settings in
 * `storage.local` by src/core/policy. Thunderbird validates neither and sends no change event for
 * managed storage (docs: shared notes "Managed storage / admin policy"), so the policy is read once
 * per session — a changed policy needs a Thunderbird restart — while user settings are read on
 * every call and their changes are announced through `storage.onChanged` at once.
 */
import { effectivePolicy, type EffectivePolicy, type PolicyDocument } from '../core/policy/index.js';
import { deadline, webext } from './webext.js';

export type { EffectivePolicy } from '../core/policy/index.js';

/** storage.local key of the user's own settings (a partial settings object). */
export const USER_SETTINGS_KEY = 'settings';

let managed: Promise<{ data: unknown; readError?: string }> | undefined;

function readManaged(): Promise<{ data: unknown; readError?: string }> {
  managed ??= (async () => {
    try {
      const all = (await deadline(webext.storage.managed.get() as Promise<Record<string, unknown>>, 5_000, 'storage.managed.get')) ?? {};
      // storage.managed gives the settings object's keys at top level; none means no policy.
      return { data: Object.keys(all).length > 0 ? all : undefined };
    } catch (e) {
      // "Managed storage manifest not found" is the normal no-policy case.
      const message = e instanceof Error ? e.message : String(e);
      return /not found/i.test(message) ? { data: undefined } : { data: undefined, readError: message };
    }
  })();
  return managed;
}

async function readUser(): Promise<unknown> {
  const got = (await webext.storage.local.get(USER_SETTINGS_KEY)) as Record<string, unknown>;
  return got[USER_SETTINGS_KEY];
}

/** Admin policy (read once per session) merged over the current user settings. */
export async function loadEffectivePolicy(): Promise<EffectivePolicy> {
  const [m, user] = await Promise.all([readManaged(), readUser().catch(() => undefined)]);
  const p = effectivePolicy({ managed: m.data, user });
  if (!m.readError) return p;
  return { ...p, errors: [{ source: 'managed', path: '$', expected: 'a readable managed storage', got: m.readError }, ...p.errors] };
}

/** The raw admin policy as Thunderbird handed it over (for the status page). */
export async function managedPolicyData(): Promise<unknown> {
  return (await readManaged()).data;
}

/**
 * Replaces the user's settings document (validated when read, like the policy). The status page
 * validates it with the core before it calls this; the background hears it through
 * onUserSettingsChanged.
 */
export async function saveUserSettings(doc: PolicyDocument): Promise<void> {
  await webext.storage.local.set({ [USER_SETTINGS_KEY]: doc });
}

/** Removes the user's own settings: the defaults (or the admin's values) apply again. Announced like a save. */
export async function resetUserSettings(): Promise<void> {
  await webext.storage.local.remove(USER_SETTINGS_KEY);
}

/** The user's settings document as stored (unvalidated; the status page's edit form starts from it). */
export async function userSettings(): Promise<unknown> {
  return readUser();
}

/** Calls `fn` when the user's settings change. Register at the top level of the background. */
export function onUserSettingsChanged(fn: () => void): void {
  webext.storage.onChanged.addListener((changes: Record<string, unknown>, area: string) => {
    if (area === 'local' && Object.hasOwn(changes, USER_SETTINGS_KEY)) fn();
  });
}

/** From an add-on page: the background's view of the policy and the scanner (src/protocol/policy-status.ts). */
export async function requestPolicyStatus(health: boolean): Promise<import('../protocol/policy-status.js').PolicyStatus> {
  const r = (await webext.runtime.sendMessage({ type: 'policy.status', health })) as unknown;
  if (typeof r !== 'object' || r === null || !('policy' in r) || !('host' in r)) throw new Error(`unexpected answer: ${JSON.stringify(r).slice(0, 200)}`);
  return r as import('../protocol/policy-status.js').PolicyStatus;
}

/** Localized string for pages; the key itself when missing. */
export function pageText(key: string, substitutions?: string[]): string {
  return webext.i18n.getMessage(key, substitutions) || key;
}
