/**
 * Status page: the effective settings with "locked by your administrator" marks, the policy errors
 * (path, expected, got — Gecko validates nothing, so this is where an admin sees mistakes), which
 * settings the user may change, and whether the native host and scanner answer. Reads everything
 * from the background (`policy.status`); text via textContent only.
 */
import { leaves, POLICY_SCHEMA, type EffectivePolicy, type SettingPath } from '../../core/policy/index.js';
import { pageText as t, requestPolicyStatus } from '../../platform/policy.js';
import type { HostStatus } from '../../protocol/policy-status.js';

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

function el<K extends keyof HTMLElementTagNameMap>(tag: K, cls?: string, text?: string): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

function valueAt(p: EffectivePolicy, path: string): unknown {
  return path.split('.').reduce<unknown>((o, k) => (o as Record<string, unknown>)[k], p);
}

function show(policy: EffectivePolicy): void {
  $('policy-present').textContent = t(policy.managedPresent ? 'status_policy_present' : 'status_policy_absent');
  const errors = $('errors');
  errors.replaceChildren();
  for (const e of policy.errors) {
    const li = el('li', undefined, t('status_error_line', [e.path, e.expected, e.got]));
    li.dataset['source'] = e.source;
    li.dataset['path'] = e.path;
    li.append(el('span', 'source', `(${t(`status_error_source_${e.source}`)})`));
    errors.append(li);
  }
  $('errors-none').hidden = policy.errors.length > 0;

  const body = $('settings').querySelector('tbody')!;
  body.replaceChildren();
  for (const { path, schema } of leaves(POLICY_SCHEMA)) {
    const o = policy.origin[path as SettingPath];
    const tr = el('tr');
    tr.dataset['path'] = path;
    tr.dataset['source'] = o.source;
    tr.dataset['locked'] = String(o.locked);
    tr.dataset['userMayChange'] = String(o.userMayChange);
    const name = el('td', 'path', path);
    name.title = schema.description;
    const value = el('td', 'value', JSON.stringify(valueAt(policy, path)));
    const origin = el('td', 'origin', t(`status_origin_${o.source}`));
    if (o.locked) origin.append(' ', el('span', 'lock', `🔒 ${t('status_locked')}`));
    else if (o.userMayChange) origin.append(' ', el('span', 'may', t('status_user_may_change')));
    if (o.invalidFrom) origin.append(el('span', 'invalid', t('status_invalid_fallback', [t(`status_error_source_${o.invalidFrom}`)])));
    tr.append(name, value, origin);
    body.append(tr);
  }
}

function showHost(h: HostStatus): void {
  const p = $('host');
  if (h.ok) {
    const what = [h.engine, h.signatures, h.scanner, `host ${h.hostVersion}`].filter((x) => x).join(' · ');
    const healthy = h.healthy !== false && h.scanner !== null;
    p.dataset['state'] = healthy ? 'ok' : 'down';
    p.textContent = healthy ? t('status_host_ok', [what]) : t('status_host_down', [h.problem ?? what]);
  } else {
    p.dataset['state'] = 'down';
    p.textContent = t('status_host_down', [h.error]);
  }
}

async function main(): Promise<void> {
  for (const e of Array.from(document.querySelectorAll<HTMLElement>('[data-i18n]'))) e.textContent = t(e.dataset['i18n']!);
  document.documentElement.lang = t('@@ui_locale').replace(/_/g, '-') || 'en';
  try {
    const first = await requestPolicyStatus(false);
    show(first.policy);
    showHost(first.host);
    document.body.dataset['state'] = 'ready';
    // The health check runs the scanner's canaries: slower, so it updates the line afterwards.
    if (first.host.ok) showHost((await requestPolicyStatus(true)).host);
    document.body.dataset['health'] = 'done';
  } catch (e) {
    document.body.dataset['state'] = 'error';
    $('host').textContent = e instanceof Error ? e.message : String(e);
  }
}

void main();
