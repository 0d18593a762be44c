/**
 * The minimal key import page (options page and a tab): choose or drop a key file, import it into
 * the add-on's key store (tried without a password first; asks for one on `wrong_password`), list
 * the stored keys, delete one after an inline confirmation.
 *
 * DOM is built with createElement/textContent only; no markup from data. The page exposes its
 * state on <body data-state="idle|busy" data-keys="N"> so tests (and people) can tell when it is done.
 */
import { isUnsealError, type ErrorKind } from '../../core/errors.js';
import { openKeyStore, type KeyStore, type StoredKeyInfo } from '../../platform/key-store.js';
import { localizeDocument, message as t, uiLanguage } from '../../platform/key-store-i18n.js';

const $ = <T extends HTMLElement>(id: string): T => {
  const el = document.getElementById(id);
  if (!el) throw new Error(`keys.html lacks #${id}`);
  return el as T;
};

let store: Promise<KeyStore> | undefined;
const getStore = (): Promise<KeyStore> => (store ??= openKeyStore());

let selected: File | undefined;

function el<K extends keyof HTMLElementTagNameMap>(tag: K, opts: { text?: string; className?: string } = {}, ...children: Node[]): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (opts.text !== undefined) e.textContent = opts.text;
  if (opts.className) e.className = opts.className;
  for (const c of children) e.append(c);
  return e;
}

function setStatus(text: string, kind: 'info' | 'ok' | 'error' = 'info'): void {
  const s = $('status');
  s.textContent = text;
  s.className = `status ${kind === 'info' ? '' : kind}`.trim();
  s.dataset['kind'] = kind;
  s.hidden = text === '';
}

function setBusy(busy: boolean): void {
  document.body.dataset['state'] = busy ? 'busy' : 'idle';
  $<HTMLButtonElement>('import').disabled = busy || !selected;
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
  setStatus('');
  setBusy(false);
}

/** A specific, actionable sentence for each way an import fails. */
function explain(kind: ErrorKind | undefined, detail: string, file: string, passwordGiven: boolean): string {
  switch (kind) {
    case 'wrong_password':
      return passwordGiven ? t('keys_wrong_password', file) : t('keys_password_needed');
    case 'no_private_key':
      return t('keys_no_private_key', file);
    case 'unsupported_algorithm':
      return t('keys_unsupported', [file, detail]);
    case 'key_unreadable':
    case 'malformed_cms':
      return t('keys_unreadable', [file, detail]);
    default:
      return t('keys_import_failed', [file, detail]);
  }
}

async function importSelected(): Promise<void> {
  const file = selected;
  if (!file) {
    setStatus(t('keys_no_file'), 'error');
    return;
  }
  const row = $('password-row');
  const pwInput = $<HTMLInputElement>('password');
  const password = row.hidden ? undefined : pwInput.value;
  setBusy(true);
  setStatus(t('keys_importing'));
  try {
    const bytes = new Uint8Array(await file.arrayBuffer());
    const ks = await getStore();
    const r = await ks.importFile(bytes, password, file.name);
    const parts: string[] = [];
    if (r.added.length) parts.push(r.added.length === 1 ? t('keys_imported_one', file.name) : t('keys_imported_many', [String(r.added.length), file.name]));
    if (r.duplicates.length) parts.push(t('keys_duplicates', String(r.duplicates.length)));
    setStatus(parts.join(' '), 'ok');
    pwInput.value = '';
    row.hidden = true;
    await refresh();
  } catch (e) {
    const kind = isUnsealError(e) ? e.kind : undefined;
    const detail = e instanceof Error ? e.message : String(e);
    if (kind === 'wrong_password') {
      row.hidden = false;
      pwInput.select();
      pwInput.focus();
    }
    setStatus(explain(kind, detail, file.name, password !== undefined), 'error');
    if (kind === undefined) console.error('Unseal: key import failed', e);
  } finally {
    setBusy(false);
  }
}

function formatDate(ms: number | undefined): string {
  if (ms === undefined) return '—';
  try {
    return new Date(ms).toLocaleDateString(uiLanguage(), { year: 'numeric', month: 'short', day: 'numeric' });
  } catch {
    return new Date(ms).toISOString().slice(0, 10);
  }
}

function statusBadge(k: StoredKeyInfo): HTMLElement {
  const [cls, text] =
    k.status === 'expired' && k.usage.encryption
      ? ['retired', t('keys_status_retired')]
      : k.status === 'expired'
        ? ['expired', t('keys_status_expired')]
        : k.status === 'not-yet-valid'
          ? ['not-yet-valid', t('keys_status_not_yet_valid')]
          : ['valid', t('keys_status_valid')];
  const b = el('span', { text, className: `badge ${cls}` });
  b.dataset['status'] = cls;
  return b;
}

function keyItem(k: StoredKeyInfo): HTMLLIElement {
  const s = k.summary;
  const li = el('li', { className: 'key' });
  li.dataset['keyId'] = k.id;
  li.append(el('div', { className: 'key-head' }, el('span', { text: k.label, className: 'key-label' }), statusBadge(k)));

  const dl = el('dl');
  const row = (label: string, value: string, mono = false) => {
    dl.append(el('dt', { text: label }), el('dd', { text: value, className: mono ? 'mono' : '' }));
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
  const uses = [k.usage.encryption ? t('keys_usage_encryption') : '', k.usage.signing ? t('keys_usage_signing') : ''].filter(Boolean);
  row(t('keys_field_usage'), uses.length ? uses.join(', ') : t('keys_usage_none'));
  row(t('keys_field_algorithm'), [s.algorithm.toUpperCase(), s.bits ? `${s.bits} bit` : s.curve ?? ''].filter(Boolean).join(' '));
  row(t('keys_field_added'), formatDate(k.addedAt));
  if (k.lastUsedAt !== undefined) row(t('keys_field_last_used'), formatDate(k.lastUsedAt));
  row(t('keys_field_id'), k.id.slice(0, 16), true);
  li.append(dl);

  const actions = el('div', { className: 'actions' });
  const del = el('button', { text: t('keys_delete'), className: 'delete' });
  del.type = 'button';
  del.addEventListener('click', () => {
    // Inline confirmation (window.confirm is unreliable in an options page).
    actions.replaceChildren();
    const q = el('span', { text: t('keys_delete_confirm') });
    const yes = el('button', { text: t('keys_delete_yes'), className: 'danger confirm-delete' });
    const no = el('button', { text: t('keys_delete_cancel'), className: 'cancel-delete' });
    yes.type = no.type = 'button';
    yes.addEventListener('click', () => void removeKey(k.id));
    no.addEventListener('click', () => actions.replaceChildren(del));
    actions.append(q, yes, no);
    no.focus();
  });
  actions.append(del);
  li.append(actions);
  return li;
}

async function removeKey(id: string): Promise<void> {
  setBusy(true);
  try {
    await (await getStore()).remove(id);
    setStatus(t('keys_deleted'), 'ok');
    await refresh();
  } catch (e) {
    setStatus(t('keys_storage_failed', e instanceof Error ? e.message : String(e)), 'error');
  } finally {
    setBusy(false);
  }
}

async function refresh(): Promise<void> {
  const list = $('key-list');
  let keys: StoredKeyInfo[];
  try {
    keys = await (await getStore()).list();
  } catch (e) {
    setStatus(t('keys_storage_failed', e instanceof Error ? e.message : String(e)), 'error');
    return;
  }
  list.replaceChildren(...keys.map(keyItem));
  $('empty').hidden = keys.length > 0;
  document.body.dataset['keys'] = String(keys.length);
  // Keys that are stored but cannot be opened (altered or from another profile).
  const problems = $('problems');
  try {
    const { problems: p } = await (await getStore()).loadKeys();
    problems.textContent = p.length ? t('keys_problems', p.map((x) => x.message).join('; ')) : '';
    problems.hidden = p.length === 0;
  } catch {
    problems.hidden = true;
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
    void importSelected();
  });
  wireDrop();
  // A file already chosen (e.g. the form restored by the browser).
  if (input.files?.[0]) choose(input.files[0]);
  void refresh();
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', main, { once: true });
else main();
