/**
 * The keys page (options page and a tab): protection (passphrase: set, change, unlock, lock),
 * import as a dialog — choose or drop a file, a password only when needed, then SEE what the file
 * holds (identity, issuer, serial, validity, usage, algorithm, chain, protection; duplicates
 * marked) and choose which keys to import — and the stored keys grouped by identity (dual key
 * pairs together) with status, usage, last use, details, export (if the policy allows) and delete.
 *
 * Everything that needs the store's secrets goes to the background (src/background/key-service.ts)
 * through platform/key-client.ts: the unlocked session lives there only.
 *
 * DOM is built with createElement/textContent only; no markup from data. The page exposes its
 * state on <body data-state="idle|busy" data-keys="N" data-protection data-locked data-preview>
 * so tests (and people) can tell when it is done.
 */
import { nonExtractableCapability, type KeySummary, type PreviewItem } from '../../core/keys/preview.js';
import { keyRequest, saveFile } from '../../platform/key-client.js';
import type { ImportPreview, ImportResult, StoredKeyInfo } from '../../platform/key-store.js';
import { localizeDocument, message as t, uiLanguage } from '../../platform/key-store-i18n.js';
import type { KeyReply, KeysState } from '../../protocol/keys.js';

/** The organisation's keys as the background lists them (background/managed-keys.ts ManagedKeyView). */
interface ManagedView {
  id: string;
  label: string;
  summary: KeySummary;
  lifecycle: StoredKeyInfo['lifecycle'];
  usage: { encryption: boolean; signing: boolean };
  identity: string;
}

interface ListView {
  keys: StoredKeyInfo[];
  problems: { id: string; message: string }[];
  locked: boolean;
  /** Only when the policy names the native host as a key source. */
  managed?: { keys: ManagedView[]; problems: string[]; unavailable?: string };
}

const $ = <T extends HTMLElement>(id: string): T => {
  const el = document.getElementById(id);
  if (!el) throw new Error(`keys.html lacks #${id}`);
  return el as T;
};

let selected: File | undefined;
let preview: ImportPreview | undefined;
let state: KeysState | undefined;

function el<K extends keyof HTMLElementTagNameMap>(tag: K, opts: { text?: string; className?: string } = {}, ...children: Node[]): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (opts.text !== undefined) e.textContent = opts.text;
  if (opts.className) e.className = opts.className;
  for (const c of children) e.append(c);
  return e;
}

function button(text: string, className: string, onClick: () => void): HTMLButtonElement {
  const b = el('button', { text, className });
  b.type = 'button';
  b.addEventListener('click', onClick);
  return b;
}

function setStatus(text: string, kind: 'info' | 'ok' | 'error' = 'info'): void {
  const s = $('status');
  s.textContent = text;
  s.className = `status ${kind === 'info' ? '' : kind}`.trim();
  s.dataset['kind'] = kind;
  s.hidden = text === '';
}

let busyCount = 0;
function setBusy(busy: boolean): void {
  busyCount = Math.max(0, busyCount + (busy ? 1 : -1));
  document.body.dataset['state'] = busyCount > 0 ? 'busy' : 'idle';
  $<HTMLButtonElement>('import').disabled = busyCount > 0 || !selected;
}

async function call<T>(req: Parameters<typeof keyRequest>[0]): Promise<KeyReply<T>> {
  const r = await keyRequest<T>(req);
  if (!r.ok && r.locked) void refreshState();
  return r;
}

function choose(file: File | undefined): void {
  selected = file;
  // The name line is for drops where the file input could not show the file itself.
  const name = $('file-name');
  const input = $<HTMLInputElement>('file');
  const shownByInput = input.files?.[0] === file;
  name.textContent = file && !shownByInput ? file.name : '';
  name.hidden = !file || shownByInput;
  // A new file: try it without a password first.
  $('password-row').hidden = true;
  $<HTMLInputElement>('password').value = '';
  closePreview();
  setStatus('');
  $<HTMLButtonElement>('import').disabled = busyCount > 0 || !selected;
}

/** A specific, actionable sentence for each way an import fails. */
function explain(kind: string, detail: string, file: string, passwordGiven: boolean): string {
  switch (kind) {
    case 'wrong_password':
      return passwordGiven ? t('keys_wrong_password', file) : t('keys_password_needed');
    case 'no_private_key':
      return /certificate only/.test(detail) ? t('keys_certificate_only', file) : t('keys_no_private_key', file);
    case 'unsupported_algorithm':
      return t('keys_unsupported', [file, detail]);
    case 'key_unreadable':
    case 'malformed_cms':
      return t('keys_unreadable', [file, detail]);
    case 'locked':
      return t('keys_locked_import');
    default:
      return t('keys_import_failed', [file, detail]);
  }
}

// ---- import dialog: read → preview → commit ----

async function readSelected(): Promise<void> {
  const file = selected;
  if (!file) {
    setStatus(t('keys_no_file'), 'error');
    return;
  }
  const row = $('password-row');
  const pwInput = $<HTMLInputElement>('password');
  const password = row.hidden ? undefined : pwInput.value;
  setBusy(true);
  setStatus(t('keys_reading'));
  closePreview();
  try {
    const bytes = new Uint8Array(await file.arrayBuffer());
    const r = await call<ImportPreview>({ type: 'keys.preview', bytes, filename: file.name, ...(password !== undefined ? { password } : {}) });
    if (!r.ok) {
      if (r.kind === 'wrong_password') {
        row.hidden = false;
        pwInput.select();
        pwInput.focus();
      }
      setStatus(explain(r.kind, r.message, file.name, password !== undefined), 'error');
      return;
    }
    showPreview(r.value);
  } catch (e) {
    setStatus(t('keys_import_failed', [file.name, e instanceof Error ? e.message : String(e)]), 'error');
  } finally {
    setBusy(false);
  }
}

function closePreview(): void {
  preview = undefined;
  $('preview').hidden = true;
  $('preview-list').replaceChildren();
  delete document.body.dataset['preview'];
}

function showPreview(pv: ImportPreview): void {
  preview = pv;
  const list = $('preview-list');
  list.replaceChildren(
    ...pv.items.map((item) => {
      const li = keyCard(item.label, item.summary, item.usage, lifecycleOfPreview(item), { id: item.id, details: true });
      li.classList.toggle('duplicate', item.duplicate);
      const pick = el('input', { className: 'pick' });
      pick.type = 'checkbox';
      pick.checked = !item.duplicate;
      pick.disabled = item.duplicate;
      pick.dataset['keyId'] = item.id;
      pick.setAttribute('aria-label', t('keys_pick_label', item.label));
      li.prepend(pick);
      if (item.duplicate) li.querySelector('.key-head')?.append(el('span', { text: t('keys_already_stored'), className: 'tag duplicate-tag' }));
      return li;
    }),
  );
  const prot = $('preview-protection');
  prot.textContent = pv.legacy ? t('keys_legacy_protection', legacyName(pv.legacy)) : pv.protection.length ? t('keys_file_protection', pv.protection.join(', ')) : '';
  prot.hidden = prot.textContent === '';
  prot.dataset['legacy'] = pv.legacy ? 'true' : 'false';
  const other = $('preview-other');
  other.textContent = pv.otherCertificates.length ? t('keys_other_certificates', pv.otherCertificates.join('; ')) : '';
  other.hidden = pv.otherCertificates.length === 0;
  const fresh = pv.items.filter((i) => !i.duplicate).length;
  $<HTMLButtonElement>('commit').disabled = fresh === 0;
  $('preview').hidden = false;
  document.body.dataset['preview'] = String(pv.items.length);
  if (fresh === 0) setStatus(t('keys_duplicates', String(pv.items.length)), 'ok');
  else setStatus(pv.items.length === 1 ? t('keys_preview_one', pv.source) : t('keys_preview_many', [String(pv.items.length), pv.source]));
  $('preview').scrollIntoView?.({ block: 'nearest' });
}

function legacyName(alg: string): string {
  if (/40BitRC2/i.test(alg)) return 'RC2-40';
  if (/128BitRC2/i.test(alg)) return 'RC2-128';
  if (/RC4/i.test(alg)) return 'RC4';
  if (/TripleDES/i.test(alg)) return '3DES (SHA-1)';
  return alg;
}

function lifecycleOfPreview(item: PreviewItem): StoredKeyInfo['lifecycle'] {
  if (item.status === 'expired') return item.usage.encryption ? 'retired' : 'expired';
  return item.status;
}

async function commitPreview(): Promise<void> {
  const pv = preview;
  if (!pv) return;
  const ids = Array.from(document.querySelectorAll<HTMLInputElement>('#preview-list input.pick')).filter((c) => c.checked && !c.disabled).map((c) => c.dataset['keyId']!);
  if (ids.length === 0) {
    setStatus(t('keys_pick_none'), 'error');
    return;
  }
  setBusy(true);
  setStatus(t('keys_importing'));
  try {
    const r = await call<ImportResult>({ type: 'keys.commit', token: pv.token, ids });
    if (!r.ok) {
      setStatus(explain(r.kind, r.message, pv.source, true), 'error');
      return;
    }
    const parts: string[] = [];
    const added = r.value.added.length;
    if (added) parts.push(added === 1 ? t('keys_imported_one', pv.source) : t('keys_imported_many', [String(added), pv.source]));
    if (r.value.duplicates.length) parts.push(t('keys_duplicates', String(r.value.duplicates.length)));
    if (pv.legacy) parts.push(t('keys_legacy_imported', legacyName(pv.legacy)));
    setStatus(parts.join(' '), 'ok');
    $<HTMLInputElement>('password').value = '';
    $('password-row').hidden = true;
    closePreview();
    await refresh();
  } finally {
    setBusy(false);
  }
}

// ---- the key list ----

function formatDate(ms: number | undefined): string {
  if (ms === undefined) return '—';
  try {
    return new Date(ms).toLocaleDateString(uiLanguage(), { year: 'numeric', month: 'short', day: 'numeric' });
  } catch {
    return new Date(ms).toISOString().slice(0, 10);
  }
}

/** keys.retainRetiredKeys: false — retired keys are listed but the background does not use them. */
function retiredUnused(lifecycle: StoredKeyInfo['lifecycle']): boolean {
  return lifecycle === 'retired' && state?.policy.retainRetiredKeys === false;
}

function badge(lifecycle: StoredKeyInfo['lifecycle'], usage: { encryption: boolean; signing: boolean }): HTMLElement {
  if (retiredUnused(lifecycle)) {
    const b = el('span', { text: t('keys_status_retired_unused'), className: 'badge retired unused' });
    b.dataset['status'] = 'retired-unused';
    return b;
  }
  const text =
    lifecycle === 'retired'
      ? t('keys_status_retired')
      : lifecycle === 'expired'
        ? usage.signing
          ? t('keys_status_expired_signing')
          : t('keys_status_expired')
        : lifecycle === 'not-yet-valid'
          ? t('keys_status_not_yet_valid')
          : t('keys_status_valid');
  const b = el('span', { text, className: `badge ${lifecycle}` });
  b.dataset['status'] = lifecycle;
  return b;
}

function usageText(usage: { encryption: boolean; signing: boolean }): string {
  const uses = [usage.encryption ? t('keys_usage_encryption') : '', usage.signing ? t('keys_usage_signing') : ''].filter(Boolean);
  return uses.length ? uses.join(', ') : t('keys_usage_none');
}

function algorithmText(s: KeySummary): string {
  return [s.algorithm.toUpperCase(), s.bits ? `${s.bits} bit` : s.curve ?? ''].filter(Boolean).join(' ');
}

/** One key: head (label, status, usage), a summary line, and the full details. */
function keyCard(
  label: string,
  s: KeySummary,
  usage: { encryption: boolean; signing: boolean },
  lifecycle: StoredKeyInfo['lifecycle'],
  opts: { id: string; details: boolean; stored?: StoredKeyInfo },
): HTMLLIElement {
  const li = el('li', { className: 'key' });
  li.dataset['keyId'] = opts.id;
  li.dataset['lifecycle'] = lifecycle;
  li.dataset['usage'] = [usage.encryption ? 'encryption' : '', usage.signing ? 'signing' : ''].filter(Boolean).join(' ');
  const head = el('div', { className: 'key-head' }, el('span', { text: label, className: 'key-label' }), badge(lifecycle, usage), el('span', { text: usageText(usage), className: 'tag usage' }));
  const body = el('div');
  body.append(head);
  const sub = [s.emails.join(', '), s.notAfter !== undefined ? t('keys_validity_range', [formatDate(s.notBefore), formatDate(s.notAfter)]) : t('keys_no_certificate')].filter(Boolean).join(' · ');
  body.append(el('p', { text: sub, className: 'key-sub' }));

  const dl = el('dl');
  const row = (name: string, value: string, mono = false) => {
    dl.append(el('dt', { text: name }), el('dd', { text: value, className: mono ? 'mono' : '' }));
  };
  if (s.subject !== undefined) {
    row(t('keys_field_subject'), s.subject);
    row(t('keys_field_emails'), s.emails.length ? s.emails.join(', ') : '—');
    row(t('keys_field_issuer'), s.issuer ?? '—');
    row(t('keys_field_serial'), s.serialHex ?? '—', true);
    row(t('keys_field_validity'), t('keys_validity_range', [formatDate(s.notBefore), formatDate(s.notAfter)]));
  } else {
    row(t('keys_field_subject'), t('keys_no_certificate'));
  }
  row(t('keys_field_usage'), usageText(usage));
  if (s.keyUsage.length || s.extKeyUsage.length) row(t('keys_field_key_usage_ext'), [...s.keyUsage, ...s.extKeyUsage].join(', '), true);
  row(t('keys_field_algorithm'), algorithmText(s));
  row(t('keys_field_chain'), s.chain?.length ? s.chain.join(' ← ') : t('keys_chain_none'));
  const cap = nonExtractableCapability(s.algorithm);
  row(t('keys_field_webcrypto'), cap === 'ecdh' ? t('keys_webcrypto_ecdh') : cap === 'rsa-oaep-only' ? t('keys_webcrypto_rsa') : t('keys_webcrypto_none'));
  const k = opts.stored;
  if (k) {
    row(t('keys_field_protection'), k.protection === 'passphrase' ? t('keys_protection_passphrase') : t('keys_protection_device'));
    row(t('keys_field_added'), formatDate(k.addedAt));
    row(t('keys_field_last_used'), k.lastUsedAt !== undefined ? formatDate(k.lastUsedAt) : t('keys_never_used'));
    if (k.source) row(t('keys_field_source'), k.source);
  }
  if (s.certFingerprint) row(t('keys_field_fingerprint'), s.certFingerprint, true);
  row(t('keys_field_id'), opts.id, true);
  const details = el('details', { className: 'key-details' }, el('summary', { text: t('keys_details') }), dl);
  // The import dialog shows everything before saving; the list keeps details folded.
  details.open = !opts.stored;
  body.append(details);
  li.append(body);
  return li;
}

function storedItem(k: StoredKeyInfo): HTMLLIElement {
  const li = keyCard(k.label, k.summary, k.usage, k.lifecycle, { id: k.id, details: true, stored: k });
  // Shown in the head as well: last used (the list's third column of facts).
  li.querySelector('.key-sub')!.textContent += ` · ${t('keys_field_last_used')}: ${k.lastUsedAt !== undefined ? formatDate(k.lastUsedAt) : t('keys_never_used')}`;
  const actions = el('div', { className: 'actions' });
  const reset = () => actions.replaceChildren(...defaultActions());
  const defaultActions = (): HTMLElement[] => {
    const out: HTMLElement[] = [];
    if (state?.policy.exportAllowed) out.push(button(t('keys_export'), 'export', () => exportForm()));
    out.push(
      button(t('keys_delete'), 'delete', () => {
        // Inline confirmation (window.confirm is unreliable in an options page).
        const no = button(t('keys_delete_cancel'), 'cancel-delete', reset);
        actions.replaceChildren(el('span', { text: t('keys_delete_confirm') }), button(t('keys_delete_yes'), 'danger confirm-delete', () => void removeKey(k.id)), no);
        no.focus();
      }),
    );
    return out;
  };
  const exportForm = () => {
    const pw = el('input', { className: 'export-password' });
    pw.type = 'password';
    pw.autocomplete = 'new-password';
    pw.placeholder = t('keys_export_password');
    const pw2 = el('input', { className: 'export-password2' });
    pw2.type = 'password';
    pw2.autocomplete = 'new-password';
    pw2.placeholder = t('keys_repeat_passphrase_label');
    const form = el('div', { className: 'export-form' }, pw, pw2, button(t('keys_export_confirm'), 'primary confirm-export', () => void exportKey(k, pw.value, pw2.value)), button(t('keys_delete_cancel'), 'cancel-export', reset));
    actions.replaceChildren(form);
    pw.focus();
  };
  reset();
  li.append(actions);
  return li;
}

async function exportKey(k: StoredKeyInfo, password: string, repeat: string): Promise<void> {
  if (password !== repeat) {
    setStatus(t('keys_passphrase_mismatch'), 'error');
    return;
  }
  setBusy(true);
  setStatus(t('keys_exporting'));
  try {
    const r = await call<Uint8Array>({ type: 'keys.export', id: k.id, password });
    if (!r.ok) {
      setStatus(r.locked ? t('keys_locked_export') : t('keys_export_failed', r.message), 'error');
      return;
    }
    const name = `${k.label.replace(/[^\p{L}\p{N}._-]+/gu, '_').slice(0, 60) || 'key'}.p12`;
    saveFile(r.value, name);
    document.body.dataset['exported'] = String(r.value.length);
    setStatus(t('keys_exported', name), 'ok');
    await refresh();
  } finally {
    setBusy(false);
  }
}

async function removeKey(id: string): Promise<void> {
  setBusy(true);
  try {
    const r = await call<boolean>({ type: 'keys.remove', id });
    if (r.ok) setStatus(t('keys_deleted'), 'ok');
    else setStatus(t('keys_storage_failed', r.message), 'error');
    await refresh();
  } finally {
    setBusy(false);
  }
}

/** An organisation key: details only — no export, no delete (the private key is the host's). */
function managedItem(k: ManagedView): HTMLLIElement {
  const li = keyCard(k.label, k.summary, k.usage, k.lifecycle, { id: k.id, details: true });
  li.classList.add('managed');
  li.dataset['managed'] = 'true';
  li.querySelector('details')?.removeAttribute('open');
  li.querySelector('.key-head')!.append(el('span', { text: t('keys_managed_badge'), className: 'badge managed' }));
  return li;
}

function renderManaged(m: ListView['managed']): void {
  const section = $('managed-section');
  section.hidden = !m;
  document.body.dataset['managedKeys'] = String(m?.keys.length ?? 0);
  if (!m) return;
  $('managed-list').replaceChildren(...m.keys.map(managedItem));
  const lines = [...(m.unavailable ? [t('keys_managed_unavailable', m.unavailable)] : []), ...m.problems.map((p) => t('keys_managed_problem', p))];
  const problems = $('managed-problems');
  problems.textContent = lines.join(' ');
  problems.hidden = lines.length === 0;
}

/** Keys grouped by identity: dual key pairs (separate encryption and signing keys) under one heading. */
function groups(keys: StoredKeyInfo[]): HTMLLIElement[] {
  const by = new Map<string, StoredKeyInfo[]>();
  for (const k of keys) by.set(k.identity, [...(by.get(k.identity) ?? []), k]);
  return [...by.entries()].map(([identity, list]) => {
    const li = el('li', { className: 'identity' });
    li.dataset['identity'] = identity;
    const title = list.length > 1 ? t('keys_identity_many', [identity.replace(/^key:/, ''), String(list.length)]) : identity.replace(/^key:.*/, list[0]!.label);
    li.append(el('h3', { text: title }), el('ul', {}, ...list.map(storedItem)));
    return li;
  });
}

async function refresh(): Promise<void> {
  setBusy(true);
  try {
    await refreshState();
    const r = await call<ListView>({ type: 'keys.list' });
    if (!r.ok) {
      setStatus(t('keys_storage_failed', r.message), 'error');
      return;
    }
    const { keys, problems: p, managed } = r.value;
    $('key-list').replaceChildren(...groups(keys));
    $('empty').hidden = keys.length > 0;
    renderManaged(managed);
    $('retired-note').hidden = ![...keys, ...(managed?.keys ?? [])].some((k) => retiredUnused(k.lifecycle));
    document.body.dataset['keys'] = String(keys.length);
    // Keys that are stored but cannot be opened (altered or from another profile).
    const problems = $('problems');
    problems.textContent = p.length ? t('keys_problems', p.map((x) => x.message).join('; ')) : '';
    problems.hidden = p.length === 0;
  } finally {
    setBusy(false);
  }
}

// ---- protection ----

async function refreshState(): Promise<void> {
  const r = await keyRequest<KeysState>({ type: 'keys.state' });
  if (!r.ok) return;
  state = r.value;
  const s = r.value;
  document.body.dataset['protection'] = s.mode;
  document.body.dataset['locked'] = String(s.locked);
  const line = $('protection-state');
  line.textContent = s.mode === 'device' ? t('keys_state_device') : s.locked ? t('keys_state_locked') : s.policy.idleLockMinutes > 0 ? t('keys_state_unlocked_idle', String(s.policy.idleLockMinutes)) : t('keys_state_unlocked');
  line.dataset['locked'] = String(s.locked);
  $('unlock-form').hidden = !s.locked;
  $('unlocked-actions').hidden = s.mode !== 'passphrase' || s.locked;
  $('passphrase-details').hidden = s.locked;
  $('passphrase-summary').textContent = s.mode === 'device' ? t('keys_set_passphrase_summary') : t('keys_change_passphrase_summary');
  $('current-passphrase-row').hidden = s.mode !== 'passphrase';
  if (s.mode === 'device' && s.policy.passphraseRequired) ($('passphrase-details') as HTMLDetailsElement).open = true;
  const note = $('policy-note');
  note.textContent = s.mode === 'device' && s.policy.passphraseRequired ? t('keys_policy_passphrase_required') : !s.policy.importAllowed ? t('keys_policy_import_off') : '';
  note.hidden = note.textContent === '';
  $('import-section').hidden = !s.policy.importAllowed;
}

async function unlock(): Promise<void> {
  const input = $<HTMLInputElement>('unlock-passphrase');
  setBusy(true);
  try {
    const r = await keyRequest<KeysState>({ type: 'keys.unlock', passphrase: input.value });
    input.value = '';
    if (!r.ok) {
      setStatus(r.kind === 'wrong_password' ? t('keys_wrong_passphrase') : t('keys_storage_failed', r.message), 'error');
      input.focus();
      return;
    }
    setStatus(t('keys_unlocked'), 'ok');
    await refresh();
  } finally {
    setBusy(false);
  }
}

async function lock(): Promise<void> {
  setBusy(true);
  try {
    await keyRequest<KeysState>({ type: 'keys.lock' });
    setStatus(t('keys_locked_now'), 'ok');
    await refresh();
  } finally {
    setBusy(false);
  }
}

async function setPassphrase(): Promise<void> {
  const cur = $<HTMLInputElement>('current-passphrase');
  const a = $<HTMLInputElement>('new-passphrase');
  const b = $<HTMLInputElement>('new-passphrase2');
  if (a.value !== b.value) {
    setStatus(t('keys_passphrase_mismatch'), 'error');
    return;
  }
  if (a.value.length < 8) {
    setStatus(t('keys_passphrase_short'), 'error');
    return;
  }
  const changing = state?.mode === 'passphrase';
  setBusy(true);
  setStatus(t('keys_rewrapping'));
  try {
    const r = await keyRequest<KeysState>({ type: 'keys.setPassphrase', next: a.value, ...(changing ? { current: cur.value } : {}) });
    if (!r.ok) {
      setStatus(r.kind === 'wrong_password' ? t('keys_wrong_current_passphrase') : t('keys_storage_failed', r.message), 'error');
      return;
    }
    cur.value = a.value = b.value = '';
    ($('passphrase-details') as HTMLDetailsElement).open = false;
    setStatus(changing ? t('keys_passphrase_changed') : t('keys_passphrase_set'), 'ok');
    await refresh();
  } finally {
    setBusy(false);
  }
}

function wireDrop(): void {
  const zone = $('drop-zone');
  const over = (e: DragEvent) => {
    if (!e.dataTransfer?.types.includes('Files')) return;
    e.preventDefault();
    e.dataTransfer.dropEffect = 'copy';
    zone.classList.add('dragging');
  };
  zone.addEventListener('dragenter', over);
  zone.addEventListener('dragover', over);
  zone.addEventListener('dragleave', () => zone.classList.remove('dragging'));
  zone.addEventListener('drop', (e) => {
    e.preventDefault();
    zone.classList.remove('dragging');
    const files = e.dataTransfer?.files;
    const f = files?.[0];
    if (!f) return;
    // Show the dropped file in the file input too, as if it had been chosen there.
    try {
      $<HTMLInputElement>('file').files = files;
    } catch {
      // older engines: the name line below still shows it
    }
    choose(f);
  });
}

function main(): void {
  localizeDocument(document);
  document.body.dataset['state'] = 'idle';
  const input = $<HTMLInputElement>('file');
  input.addEventListener('change', () => choose(input.files?.[0]));
  $<HTMLFormElement>('import-form').addEventListener('submit', (e) => {
    e.preventDefault();
    void readSelected();
  });
  $('commit').addEventListener('click', () => void commitPreview());
  $('cancel-preview').addEventListener('click', () => {
    closePreview();
    setStatus('');
  });
  $<HTMLFormElement>('unlock-form').addEventListener('submit', (e) => {
    e.preventDefault();
    void unlock();
  });
  $('lock').addEventListener('click', () => void lock());
  $<HTMLFormElement>('passphrase-form').addEventListener('submit', (e) => {
    e.preventDefault();
    void setPassphrase();
  });
  wireDrop();
  // A file already chosen (e.g. the form restored by the browser).
  if (input.files?.[0]) choose(input.files[0]);
  void refresh();
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', main, { once: true });
else main();
