/**
 * The background's re-scan and audit-viewer wiring, kept out of main.ts so the composition root
 * only calls `registerRescan` at top level and forwards page requests: the folder-pane menu entry,
 * the policy schedule (alarm), the runner, and the pages' requests (rescan.*, audit.page).
 */
import type { KeyRecord } from '../core/keys/types.js';
import type { EffectivePolicy } from '../core/policy/index.js';
import { rawMessage } from '../platform/messages.js';
import type { NativeHostClient } from '../platform/native-host.js';
import { onUserSettingsChanged } from '../platform/policy.js';
import {
  allFolders,
  folderById,
  listFolderMessages,
  loadRescanRecord,
  onRescanAlarm,
  openAddonPage,
  registerFolderRescanMenu,
  saveRescanRecord,
  setRescanSchedule,
} from '../platform/rescan.js';
import { webext } from '../platform/webext.js';
import { parseRescanRequest, type RescanReply } from '../protocol/rescan.js';
import { GuardError } from '../protocol/validate.js';
import { ManagedKeys } from './managed-keys.js';
import type { ManagedKeySource } from './policy-gates.js';
import { RescanRunner } from './rescan-runner.js';

export const RESCAN_PAGE = 'pages/rescan.html';
export const AUDIT_PAGE = 'pages/audit.html';
const RECORD_KEY = 'rescan';

export interface RescanWiringDeps {
  readonly host: NativeHostClient;
  readonly addonVersion: string;
  loadKeys(): Promise<readonly KeyRecord[]>;
  policy(): Promise<EffectivePolicy>;
  /** The organisation's keys (policy keys.managedSource 'host'); by default a ManagedKeys of its own over `host`. */
  managedKeys?: ManagedKeySource;
  /** The policy's onInfected action for a message (quarantine / tag); block needs nothing. */
  onInfected(messageId: number, policy: EffectivePolicy): Promise<void>;
}

export interface RescanWiring {
  readonly runner: RescanRunner;
  handle(raw: unknown, fromExtensionPage: boolean): Promise<RescanReply>;
}

function title(key: string, fallback: string): string {
  try {
    return webext.i18n.getMessage(key) || fallback;
  } catch {
    return fallback;
  }
}

/** Call synchronously at the background's top level (menu click and alarm listeners). */
export function registerRescan(deps: RescanWiringDeps): RescanWiring {
  let managed = deps.managedKeys;
  if (!managed) {
    const own = new ManagedKeys(deps.host);
    managed = (o) => own.source(o);
  }
  const runner = new RescanRunner({
    crypto: crypto.subtle,
    loadKeys: () => deps.loadKeys(),
    list: (folderId) => listFolderMessages(folderId),
    raw: (id) => rawMessage(id, 60_000),
    engine: async () => (await deps.host.hello()).engine,
    scan: (plaintext, meta, signal) => deps.host.scan(plaintext, meta, signal ? { signal } : {}),
    // The runner calls this only when the policy's audit.enabled is true.
    audit: (event) => void deps.host.audit({ ...event, addonVersion: deps.addonVersion }),
    policy: () => deps.policy(),
    managedKeys: managed,
    onInfected: async (id) => deps.onInfected(id, await deps.policy()),
    load: () => loadRescanRecord(RECORD_KEY),
    save: (r) => saveRescanRecord(RECORD_KEY, r),
    scheduleHours: async () => (await deps.policy()).rescan.everyHours,
    now: () => Date.now(),
    log: (l) => console.info(l),
  });

  registerFolderRescanMenu(title('menu_rescan_folder', 'Re-scan encrypted mail'), (folders) => {
    void runner.start(folders, 'menu').catch((e: unknown) => console.warn(`unseal: re-scan did not start: ${String(e)}`));
    void openAddonPage(RESCAN_PAGE).catch(() => undefined);
  });
  onRescanAlarm(() => void runner.scheduled().catch((e: unknown) => console.warn(`unseal: scheduled re-scan: ${String(e)}`)));
  // The schedule follows rescan.everyHours; a run cut off by a restart continues. The admin
  // policy is read once per session (Thunderbird sends no change event for managed storage), so a
  // changed policy applies after a restart; a changed user setting re-arms the alarm at once
  // (setRescanSchedule leaves an alarm with the same interval alone, so other settings do not
  // postpone the next run).
  void deps
    .policy()
    .then((p) => setRescanSchedule(p.rescan.everyHours))
    .catch(() => undefined);
  onUserSettingsChanged(
    () =>
      void runner
        .refreshSchedule()
        .then((hours) => setRescanSchedule(hours))
        .catch((e: unknown) => console.warn(`unseal: re-scan schedule not updated: ${String(e)}`)),
  );
  void runner.init().catch(() => undefined);

  async function handle(raw: unknown, fromExtensionPage: boolean): Promise<RescanReply> {
    if (!fromExtensionPage) return { ok: false, message: 'not from an add-on page' };
    let req;
    try {
      req = parseRescanRequest(raw);
    } catch (e) {
      if (e instanceof GuardError) return { ok: false, message: e.message };
      throw e;
    }
    try {
      switch (req.type) {
        case 'rescan.status':
          await runner.init();
          return { ok: true, status: runner.status() };
        case 'rescan.folders':
          return { ok: true, folders: await allFolders() };
        case 'rescan.start': {
          const f = await folderById(req.folderId);
          if (!f) return { ok: false, message: `no folder ${req.folderId}` };
          return { ok: true, status: await runner.start([f], 'page') };
        }
        case 'rescan.pause':
          return { ok: true, status: await runner.pause() };
        case 'rescan.resume':
          return { ok: true, status: await runner.resume() };
        case 'rescan.cancel':
          return { ok: true, status: await runner.cancel() };
        case 'audit.page': {
          const page = await deps.host.auditRead({
            limit: req.limit ?? 500,
            ...(req.cursor !== undefined ? { cursor: req.cursor } : {}),
            ...(req.since !== undefined ? { since: req.since } : {}),
          });
          return { ok: true, events: page.events, next: page.next };
        }
      }
    } catch (e) {
      return { ok: false, message: e instanceof Error ? e.message : String(e) };
    }
  }

  return { runner, handle };
}
