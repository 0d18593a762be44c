/**
 * The audit viewer: the host's audit log (decryptions, verdicts; never content) as a table, newest
 * first, and "Export JSON lines" for support. Pages come from the host through the background
 * (`audit.read`, each reply < 1 MiB); the page follows `next` until the end or MAX_EVENTS.
 * <body data-state="loading|idle|error" data-events="N"> for tests. Text from the add-on's locales
 * (data-i18n + pageText); event names and verdicts stay the log's own words.
 */
import { pageText as t } from '../../platform/policy.js';
import { downloadText, rescanRequest } from '../../platform/rescan.js';
import type { AuditLogRecord } from '../../protocol/native.js';

const MAX_EVENTS = 20_000;
const $ = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;
let events: AuditLogRecord[] = [];

function el(tag: string, text: string, className?: string): HTMLElement {
  const e = document.createElement(tag);
  e.textContent = text;
  if (className) e.className = className;
  return e;
}

function setStatus(text: string, kind: 'info' | 'error' = 'info'): void {
  $('status').textContent = text;
  $('status').dataset['kind'] = kind;
}

function details(e: AuditLogRecord): string {
  const parts: string[] = [];
  if (e.signatures?.length) parts.push(e.signatures.join(', '));
  if (e.reason) parts.push(t('audit_detail_reason', [e.reason]));
  if (e.error) parts.push(t('audit_detail_error', [e.error]));
  if (e.algorithm) parts.push(e.algorithm);
  if (e.keyFingerprint) parts.push(t('audit_detail_key', [e.keyFingerprint.slice(0, 16)]));
  if (e.size !== undefined) parts.push(t('audit_detail_size', [String(e.size)]));
  if (e.plaintextSha256) parts.push(t('audit_detail_sha256', [e.plaintextSha256.slice(0, 16)]));
  return parts.join(' · ');
}

function render(): void {
  const rows = events
    .slice()
    .reverse()
    .slice(0, 2_000)
    .map((e) => {
      const tr = document.createElement('tr');
      tr.dataset['event'] = e.event;
      tr.append(el('td', new Date(e.time).toLocaleString()), el('td', e.event), el('td', e.messageId ?? ''), el('td', e.folder ?? ''), el('td', e.verdict ?? '', e.verdict), el('td', details(e)));
      return tr;
    });
  $('events').replaceChildren(...rows);
  document.body.dataset['events'] = String(events.length);
}

async function load(): Promise<void> {
  document.body.dataset['state'] = 'loading';
  setStatus(t('audit_loading'));
  const sinceDate = $<HTMLInputElement>('since').value;
  const since = sinceDate ? new Date(`${sinceDate}T00:00:00`).toISOString() : undefined;
  const out: AuditLogRecord[] = [];
  let cursor: number | undefined;
  for (;;) {
    const r = await rescanRequest({ type: 'audit.page', limit: 1000, ...(cursor !== undefined ? { cursor } : {}), ...(since ? { since } : {}) });
    if (!r.ok) {
      document.body.dataset['state'] = 'error';
      setStatus(r.message, 'error');
      return;
    }
    if (!('events' in r)) break;
    out.push(...r.events);
    if (out.length > MAX_EVENTS) out.splice(0, out.length - MAX_EVENTS);
    if (r.next === null) break;
    cursor = r.next;
  }
  events = out;
  render();
  document.body.dataset['state'] = 'idle';
  setStatus(events.length >= MAX_EVENTS ? t('audit_count_capped', [String(events.length), String(MAX_EVENTS)]) : t('audit_count', [String(events.length)]));
}

for (const e of Array.from(document.querySelectorAll<HTMLElement>('[data-i18n]'))) e.textContent = t(e.dataset['i18n']!);
document.documentElement.lang = t('@@ui_locale').replace(/_/g, '-') || 'en';
$('reload').addEventListener('click', () => void load());
$('export').addEventListener('click', () => {
  const text = events.map((e) => JSON.stringify(e)).join('\n') + (events.length ? '\n' : '');
  downloadText(text, `unseal-audit-${new Date().toISOString().slice(0, 10)}.jsonl`);
});
void load();
