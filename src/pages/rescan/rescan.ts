/**
 * The re-scan page: pick a folder (or arrive from the folder menu), watch progress, pause / resume /
 * cancel, read the summary and the messages that need attention. The run lives in the background
 * (src/background/rescan-runner.ts); this page only polls its status. DOM from textContent only.
 * <body data-state="idle|listing|running|paused|done|cancelled|failed" data-done data-total> for tests.
 * Text from the add-on's locales (data-i18n + pageText).
 */
import { pageText as t } from '../../platform/policy.js';
import { rescanRequest } from '../../platform/rescan.js';
import type { RescanStatus } from '../../protocol/rescan.js';

const $ = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;

function el(tag: string, text: string, className?: string): HTMLElement {
  const e = document.createElement(tag);
  e.textContent = text;
  if (className) e.className = className;
  return e;
}

function setStatus(text: string, kind: 'info' | 'error' = 'info'): void {
  const s = $('status');
  s.textContent = text;
  s.dataset['kind'] = kind;
}

/** Summary rows in this order; each label is the string `rescan_sum_<key>`. */
const SUMMARY_KEYS = ['total', 'scanned', 'clean', 'infected', 'unscanned', 'couldNotDecrypt', 'skipped', 'skippedInfected', 'notEncrypted'] as const;

function render(s: RescanStatus): void {
  document.body.dataset['state'] = s.state;
  document.body.dataset['done'] = String(s.done);
  document.body.dataset['total'] = String(s.total);
  document.body.dataset['summary'] = JSON.stringify(s.summary);
  const folders = s.folders.map((f) => f.name).join(', ');
  const active = s.state === 'running' || s.state === 'listing';
  $('start').hidden = active || s.state === 'paused';
  $('pause').hidden = !active;
  $('resume').hidden = s.state !== 'paused';
  $('cancel').hidden = !(active || s.state === 'paused');
  const p = $<HTMLProgressElement>('progress');
  p.max = Math.max(1, s.total);
  p.value = s.done;
  const done = String(s.done);
  const total = String(s.total);
  const text: Record<string, string> = {
    idle: t('rescan_state_idle'),
    listing: t('rescan_state_listing', [folders, total]),
    running: t('rescan_state_running', [folders, done, total]),
    paused: t('rescan_state_paused', [done, total, folders]),
    done: s.finishedAt ? t('rescan_state_done_at', [done, folders, new Date(s.finishedAt).toLocaleString()]) : t('rescan_state_done', [done, folders]),
    cancelled: t('rescan_state_cancelled', [done, total, folders]),
    failed: t('rescan_state_failed', [s.error ?? t('rescan_unknown_error')]),
  };
  setStatus(s.error && s.state !== 'failed' ? `${text[s.state]} (${s.error})` : (text[s.state] ?? s.state), s.state === 'failed' ? 'error' : 'info');
  const sum = $('summary');
  sum.replaceChildren(
    ...SUMMARY_KEYS.map((k) => {
      const tr = document.createElement('tr');
      tr.dataset['key'] = k;
      const v = (s.summary as unknown as Record<string, number>)[k] ?? 0;
      tr.append(el('td', t(`rescan_sum_${k}`)), el('td', String(v), k === 'infected' && v > 0 ? 'infected' : undefined));
      return tr;
    }),
  );
  $('problems').replaceChildren(
    ...s.problems.map((r) => {
      const tr = document.createElement('tr');
      tr.dataset['status'] = r.status;
      const details =
        r.status === 'infected' || r.status === 'skipped'
          ? (r.findings ?? []).map((f) => t('rescan_finding', [f.signature, f.part])).join(', ')
          : `${r.reason ?? ''}${r.detail ? `: ${r.detail}` : ''}`;
      const result = t(`rescan_result_${r.status}`);
      tr.append(el('td', r.messageId ?? r.id), el('td', r.folder ?? ''), el('td', result, r.status === 'skipped' ? 'infected' : r.status), el('td', details));
      return tr;
    }),
  );
  $('schedule').textContent = s.scheduleHours > 0 ? t('rescan_schedule_on', [String(s.scheduleHours)]) : t('rescan_schedule_off');
}

async function refresh(): Promise<void> {
  const r = await rescanRequest({ type: 'rescan.status' });
  if (r.ok && 'status' in r) render(r.status);
  else if (!r.ok) setStatus(r.message, 'error');
}

async function act(type: 'rescan.pause' | 'rescan.resume' | 'rescan.cancel'): Promise<void> {
  const r = await rescanRequest({ type });
  if (r.ok && 'status' in r) render(r.status);
  else if (!r.ok) setStatus(r.message, 'error');
}

async function init(): Promise<void> {
  for (const e of Array.from(document.querySelectorAll<HTMLElement>('[data-i18n]'))) e.textContent = t(e.dataset['i18n']!);
  document.documentElement.lang = t('@@ui_locale').replace(/_/g, '-') || 'en';
  const f = await rescanRequest({ type: 'rescan.folders' });
  const select = $<HTMLSelectElement>('folder');
  if (f.ok && 'folders' in f) {
    select.replaceChildren(
      ...f.folders.map((x) => {
        const o = document.createElement('option');
        o.value = x.id;
        o.textContent = x.name;
        return o;
      }),
    );
    const want = new URLSearchParams(location.search).get('folder');
    if (want) select.value = want;
  }
  $('start').addEventListener('click', () => {
    void rescanRequest({ type: 'rescan.start', folderId: select.value }).then((r) => {
      if (r.ok && 'status' in r) render(r.status);
      else if (!r.ok) setStatus(r.message, 'error');
    });
  });
  $('pause').addEventListener('click', () => void act('rescan.pause'));
  $('resume').addEventListener('click', () => void act('rescan.resume'));
  $('cancel').addEventListener('click', () => void act('rescan.cancel'));
  await refresh();
  setInterval(() => void refresh(), 500);
}

void init();
