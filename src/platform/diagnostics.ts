/**
 * A small diagnostics ring in `storage.session`: memory of Thunderbird's parent process, kept while
 * the MV3 event page sleeps, gone when Thunderbird quits. Holds facts only (states, reasons,
 * digests, timings), never message text or key material. The e2e harness reads it from chrome
 * context (test/helpers/thunderbird), and a status page can show it later.
 */
import type { DisplayReportBody } from '../protocol/display.js';
import { webext } from './webext.js';

export const DIAGNOSTICS_KEY = 'diagnostics';
const MAX_ENTRIES = 50;

export interface StoredDisplayReport extends DisplayReportBody {
  readonly seq: number;
  readonly at: number;
  readonly tabId?: number;
  readonly messageId?: number;
  readonly headerMessageId?: string;
  readonly subject?: string;
}

/** A condition the add-on detected and must explain to the user or admin. */
export interface Condition {
  readonly seq: number;
  readonly at: number;
  readonly code: 'P7M_EXTERNAL_OFF_SUSPECTED';
  readonly messageId?: number;
  readonly headerMessageId?: string;
  readonly detail: string;
}

/** A notification the add-on showed (what about, and for which message). */
export interface ShownNotification {
  readonly seq: number;
  readonly at: number;
  readonly notificationId: string;
  readonly code: Condition['code'];
  readonly messageId?: number;
}

export interface Diagnostics {
  backgroundStartedAt?: number;
  startupReason?: string;
  reports: StoredDisplayReport[];
  conditions: Condition[];
  /** Absent in rings written before notifications existed. */
  notifications?: ShownNotification[];
  seq: number;
}

let chain: Promise<unknown> = Promise.resolve();

/** Serialises read-modify-write cycles so concurrent reports are not lost. */
function update(fn: (d: Diagnostics) => void): Promise<void> {
  const next = chain.then(async () => {
    const got = (await webext.storage.session.get(DIAGNOSTICS_KEY)) as Record<string, unknown>;
    const d = (got[DIAGNOSTICS_KEY] as Diagnostics | undefined) ?? { reports: [], conditions: [], seq: 0 };
    d.reports ??= [];
    d.conditions ??= [];
    d.seq ??= 0;
    fn(d);
    if (d.reports.length > MAX_ENTRIES) d.reports.splice(0, d.reports.length - MAX_ENTRIES);
    if (d.conditions.length > MAX_ENTRIES) d.conditions.splice(0, d.conditions.length - MAX_ENTRIES);
    await webext.storage.session.set({ [DIAGNOSTICS_KEY]: d });
  });
  chain = next.catch(() => undefined);
  return next;
}

export function markBackgroundStarted(at: number, reason: string): Promise<void> {
  return update((d) => {
    d.backgroundStartedAt = at;
    d.startupReason = reason;
  });
}

export function recordDisplayReport(r: Omit<StoredDisplayReport, 'seq' | 'at'>): Promise<void> {
  return update((d) => {
    d.reports.push({ ...r, seq: ++d.seq, at: Date.now() });
  });
}

export function recordCondition(c: Omit<Condition, 'seq' | 'at'>): Promise<void> {
  return update((d) => {
    d.conditions.push({ ...c, seq: ++d.seq, at: Date.now() });
  });
}

export function recordNotification(n: Omit<ShownNotification, 'seq' | 'at'>): Promise<void> {
  return update((d) => {
    d.notifications ??= [];
    d.notifications.push({ ...n, seq: ++d.seq, at: Date.now() });
    if (d.notifications.length > MAX_ENTRIES) d.notifications.splice(0, d.notifications.length - MAX_ENTRIES);
  });
}
