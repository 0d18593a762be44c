/**
 * Status page: the effective settings with "locked by your administrator" marks, the policy errors
 * (path, expected, got — Gecko validates nothing, so this is where an admin sees mistakes), and
 * whether the native host and scanner answer. Reads everything from the background (`policy.status`);
 * text via textContent only.
 *
 * It is also where users change their own settings: every setting that is userSettable and not
 * locked gets a control built from the schema (settings-form.ts). Save checks the user's document
 * with the core validator and shows its errors inline (nothing invalid is stored); a valid one goes
 * to storage.local (saveUserSettings) and the page reads the effective settings again. Test hooks:
 * `#settings tbody tr[data-path][data-source][data-locked][data-editable]`, controls with
 * `data-path` (checkbox sets: one per item with `data-item`), `#save`, `#reset`, `#save-errors li`,
 * body `data-state` (loading|ready|error) and `data-saved` (saving|saved|reset|invalid|failed) with
 * `data-save-count`.
 */
import type { EffectivePolicy, PolicyDocument, PolicyError } from '../../core/policy/index.js';
import { pageText as t, requestPolicyStatus, resetUserSettings, saveUserSettings, userSettings } from '../../platform/policy.js';
import type { HostStatus } from '../../protocol/policy-status.js';
import { checkUserDocument, fieldOfError, keptUserValues, settingsForm, toFormValue, userDocument, valueAt, type FormValue, type SettingField } from './settings-form.js';

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

function el<K extends keyof HTMLElementTagNameMap>(tag: K, cls?: string, text?: string): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

/** The page's view: the fields shown and the stored user document the next save starts from. */
let fields: SettingField[] = [];
let stored: unknown;
/** Reads a field's control state; one per editable field. */
const readers = new Map<string, () => FormValue>();
let busy = false;

const controlId = (path: string) => `setting-${path.replace(/\./g, '-')}`;

function control(f: SettingField): { node: HTMLElement; read: () => FormValue } {
  const c = f.control;
  const initial = toFormValue(c, f.value);
  const tag = (e: HTMLElement) => {
    e.dataset['path'] = f.path;
    e.dataset['kind'] = c.kind;
    e.title = f.description;
    return e;
  };
  switch (c.kind) {
    case 'checkbox': {
      const i = tag(el('input')) as HTMLInputElement;
      i.type = 'checkbox';
      i.id = controlId(f.path);
      i.checked = initial === true;
      return { node: i, read: () => i.checked };
    }
    case 'select': {
      const s = tag(el('select')) as HTMLSelectElement;
      s.id = controlId(f.path);
      for (const o of c.options) {
        const opt = el('option', undefined, o);
        opt.value = o;
        s.append(opt);
      }
      s.value = typeof initial === 'string' ? initial : '';
      return { node: s, read: () => s.value };
    }
    case 'number':
    case 'text': {
      const i = tag(el('input')) as HTMLInputElement;
      i.type = c.kind;
      i.id = controlId(f.path);
      if (c.kind === 'number') {
        i.min = String(c.min);
        i.max = String(c.max);
        i.step = '1';
      } else {
        i.maxLength = c.maxLength;
        i.spellcheck = false;
      }
      i.value = typeof initial === 'string' ? initial : '';
      return { node: i, read: () => i.value };
    }
    case 'lines': {
      const a = tag(el('textarea')) as HTMLTextAreaElement;
      a.id = controlId(f.path);
      a.rows = 3;
      a.placeholder = t('status_lines_hint');
      a.value = typeof initial === 'string' ? initial : '';
      return { node: a, read: () => a.value };
    }
    case 'checkbox-set': {
      const box = el('fieldset', 'choices');
      box.id = controlId(f.path);
      box.dataset['path'] = f.path;
      box.dataset['kind'] = c.kind;
      box.setAttribute('aria-labelledby', `${controlId(f.path)}-name`);
      const picked = Array.isArray(initial) ? initial : [];
      const boxes: HTMLInputElement[] = [];
      for (const o of c.options) {
        const i = el('input');
        i.type = 'checkbox';
        i.value = o;
        i.checked = picked.includes(o);
        i.dataset['path'] = f.path;
        i.dataset['item'] = o;
        boxes.push(i);
        const label = el('label');
        label.append(i, ` ${o}`);
        box.append(label);
      }
      return { node: box, read: () => boxes.filter((b) => b.checked).map((b) => b.value) };
    }
  }
}

function showErrors(policy: EffectivePolicy): void {
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
}

function show(policy: EffectivePolicy): void {
  $('policy-present').textContent = t(policy.managedPresent ? 'status_policy_present' : 'status_policy_absent');
  showErrors(policy);

  fields = settingsForm(policy);
  // The user's own values, shown beside a setting the admin locks (they apply again without the policy).
  const kept = keptUserValues(stored);
  readers.clear();
  const body = $('settings').querySelector('tbody')!;
  body.replaceChildren();
  for (const f of fields) {
    const o = policy.origin[f.path];
    const tr = el('tr');
    tr.dataset['path'] = f.path;
    tr.dataset['source'] = o.source;
    tr.dataset['locked'] = String(o.locked);
    tr.dataset['userMayChange'] = String(o.userMayChange);
    tr.dataset['editable'] = String(f.editable);
    const name = el('td', 'path');
    name.title = f.description;
    const value = el('td', 'value');
    value.dataset['value'] = JSON.stringify(f.value);
    if (f.editable) {
      const c = control(f);
      readers.set(f.path, c.read);
      if (f.control.kind === 'checkbox-set') {
        const label = el('span', undefined, f.path);
        label.id = `${controlId(f.path)}-name`;
        name.append(label);
      } else {
        const label = el('label', undefined, f.path);
        label.htmlFor = controlId(f.path);
        name.append(label);
      }
      const err = el('span', 'field-error');
      err.hidden = true;
      err.dataset['errorFor'] = f.path;
      value.append(c.node, err);
    } else {
      name.textContent = f.path;
      value.textContent = JSON.stringify(f.value);
    }
    const origin = el('td', 'origin', t(`status_origin_${o.source}`));
    if (o.locked) {
      origin.append(' ', el('span', 'lock', `🔒 ${t('status_locked')}`));
      const own = valueAt(kept, f.path);
      if (own !== undefined) origin.append(el('span', 'user-kept', t('status_user_value_kept', [JSON.stringify(own)])));
    }
    else if (o.userMayChange) origin.append(' ', el('span', 'may', t('status_user_may_change')));
    else if (!f.userSettable) origin.append(' ', el('span', 'admin-only', t('status_admin_only')));
    if (o.invalidFrom) origin.append(el('span', 'invalid', t('status_invalid_fallback', [t(`status_error_source_${o.invalidFrom}`)])));
    tr.append(name, value, origin);
    body.append(tr);
  }
  const editable = fields.some((f) => f.editable);
  $('nothing-editable').hidden = editable;
  $<HTMLButtonElement>('save').disabled = busy || !editable;
  $<HTMLButtonElement>('reset').disabled = busy || !hasUserValues(stored);
}

function hasUserValues(doc: unknown): boolean {
  return typeof doc === 'object' && doc !== null && Object.keys(doc).length > 0;
}

function showFormErrors(errors: readonly PolicyError[]): void {
  const list = $('save-errors');
  list.replaceChildren();
  for (const tr of Array.from(document.querySelectorAll<HTMLElement>('#settings tbody tr[data-invalid]'))) delete tr.dataset['invalid'];
  for (const s of Array.from(document.querySelectorAll<HTMLElement>('#settings .field-error'))) {
    s.textContent = '';
    s.hidden = true;
  }
  for (const e of errors) {
    const line = t('status_error_line', [e.path, e.expected, e.got]);
    const li = el('li', undefined, line);
    li.dataset['path'] = e.path;
    list.append(li);
    const path = fieldOfError(fields, e.path);
    if (!path) continue;
    const tr = Array.from(document.querySelectorAll<HTMLElement>('#settings tbody tr')).find((r) => r.dataset['path'] === path);
    if (!tr) continue;
    tr.dataset['invalid'] = 'true';
    const span = tr.querySelector<HTMLElement>('.field-error');
    if (span) {
      span.textContent = span.textContent ? `${span.textContent}; ${line}` : line;
      span.hidden = false;
    }
  }
  list.hidden = errors.length === 0;
}

function saveStatus(state: 'saving' | 'saved' | 'reset' | 'invalid' | 'failed', text: string): void {
  const s = $('save-status');
  s.textContent = text;
  s.dataset['kind'] = state === 'saved' || state === 'reset' ? 'ok' : state === 'saving' ? 'info' : 'error';
  document.body.dataset['saved'] = state;
  if (state !== 'saving') document.body.dataset['saveCount'] = String(Number(document.body.dataset['saveCount'] ?? '0') + 1);
}

/** Reads the background's effective settings and the stored user document again and redraws. */
async function reload(): Promise<void> {
  const [status, user] = await Promise.all([requestPolicyStatus(false), userSettings()]);
  stored = user;
  show(status.policy);
}

async function withBusy(fn: () => Promise<void>): Promise<void> {
  if (busy) return;
  busy = true;
  $<HTMLButtonElement>('save').disabled = true;
  $<HTMLButtonElement>('reset').disabled = true;
  try {
    await fn();
  } finally {
    busy = false;
    $<HTMLButtonElement>('save').disabled = !fields.some((f) => f.editable);
    $<HTMLButtonElement>('reset').disabled = !hasUserValues(stored);
  }
}

function save(): Promise<void> {
  return withBusy(async () => {
    const values = new Map<string, FormValue>();
    for (const [path, read] of readers) values.set(path, read());
    const doc = userDocument(fields, values, stored);
    const errors = checkUserDocument(doc);
    showFormErrors(errors);
    if (errors.length > 0) {
      saveStatus('invalid', t('status_save_invalid'));
      return;
    }
    saveStatus('saving', t('status_saving'));
    try {
      // Valid by the core's own check above, so it is a PolicyDocument.
      await saveUserSettings(doc as PolicyDocument);
      await reload();
      saveStatus('saved', t('status_saved'));
    } catch (e) {
      saveStatus('failed', t('status_save_failed', [e instanceof Error ? e.message : String(e)]));
    }
  });
}

function reset(): Promise<void> {
  return withBusy(async () => {
    showFormErrors([]);
    saveStatus('saving', t('status_saving'));
    try {
      await resetUserSettings();
      await reload();
      saveStatus('reset', t('status_reset_done'));
    } catch (e) {
      saveStatus('failed', t('status_save_failed', [e instanceof Error ? e.message : String(e)]));
    }
  });
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
  $('settings-form').addEventListener('submit', (e) => {
    e.preventDefault();
    void save();
  });
  $('reset').addEventListener('click', () => void reset());
  try {
    const [first, user] = await Promise.all([requestPolicyStatus(false), userSettings()]);
    stored = user;
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
