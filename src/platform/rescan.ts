/**
 * Thunderbird APIs the re-scan needs: the folder-pane context menu entry, listing a folder's
 * messages with continuation (`messages.list` / `messages.continueList`), folders, the schedule
 * alarm, the persisted run state in `storage.local`, and the pages' channel to the background.
 * MV3 shapes (Thunderbird 121+): folders are addressed by id; @types describes MV2, so the slice
 * used is typed here (docs/thunderbird.md pitfall 5).
 */
import type { RescanFolderRef, RescanReply, RescanRequest } from '../protocol/rescan.js';
import { headerList } from './messages.js';
import { deadline, webext } from './webext.js';

export const FOLDER_RESCAN_MENU_ID = 'unseal-rescan-folder';
const ALARM = 'unseal-rescan-schedule';

interface FolderLike {
  readonly id?: string;
  readonly name?: string;
  readonly path?: string;
  readonly subFolders?: FolderLike[];
}
interface MenusApi {
  create(p: { id: string; title: string; contexts: string[] }, cb?: () => void): void;
  onClicked: { addListener(f: (info: { menuItemId: string | number; selectedFolders?: FolderLike[]; selectedFolder?: FolderLike }) => void): void };
}
interface ListApi {
  list(folderId: string): Promise<unknown>;
  continueList(listId: string): Promise<unknown>;
}
interface FoldersApi {
  get(folderId: string, includeSubFolders?: boolean): Promise<FolderLike>;
}
interface AccountsApi {
  list(includeSubFolders?: boolean): Promise<{ id: string; name?: string; rootFolder?: FolderLike }[]>;
}
interface AlarmsApi {
  create(name: string, info: { periodInMinutes: number; delayInMinutes?: number }): void;
  clear(name: string): Promise<boolean>;
  get(name: string): Promise<{ periodInMinutes?: number } | undefined>;
  onAlarm: { addListener(f: (a: { name: string }) => void): void };
}
const api = () => webext as unknown as { menus?: MenusApi; messages: ListApi; folders: FoldersApi; accounts: AccountsApi; alarms?: AlarmsApi };

function folderRef(f: FolderLike | undefined): RescanFolderRef | undefined {
  if (!f || typeof f.id !== 'string') return undefined;
  return { id: f.id, name: typeof f.name === 'string' ? f.name : f.id, ...(typeof f.path === 'string' ? { path: f.path } : {}) };
}

/**
 * "Re-scan encrypted mail" on folders (context `folder_pane`, permission `menus` + `accountsRead`).
 * Call at top level: the click listener must exist when the event page wakes. The item's own id
 * keeps it apart from the other entries the background registers.
 */
export function registerFolderRescanMenu(title: string, onClick: (folders: RescanFolderRef[]) => void): void {
  const menus = api().menus;
  if (!menus) return;
  try {
    menus.create({ id: FOLDER_RESCAN_MENU_ID, title, contexts: ['folder_pane'] }, () => void webext.runtime.lastError);
  } catch {
    // already there
  }
  menus.onClicked.addListener((info) => {
    if (info.menuItemId !== FOLDER_RESCAN_MENU_ID) return;
    const list = info.selectedFolders ?? (info.selectedFolder ? [info.selectedFolder] : []);
    onClick(list.map(folderRef).filter((f): f is RescanFolderRef => f !== undefined));
  });
}

export interface ListedMessage {
  readonly id: number;
  readonly headerMessageId: string;
  /** Stable across restarts (Thunderbird's numeric ids are per session). */
  readonly key: string;
  readonly folderPath?: string;
  readonly author?: string;
}

/** Every message of a folder, page by page (`messages.list` then `continueList`). */
export async function* listFolderMessages(folderId: string): AsyncGenerator<ListedMessage[]> {
  let page = (await deadline(api().messages.list(folderId), 30_000, 'messages.list')) as { id?: string | null; messages?: unknown[] };
  for (;;) {
    const raw = Array.isArray(page?.messages) ? page.messages : [];
    const headers = headerList({ messages: raw });
    yield headers.map((h, i) => {
      const r = raw[i] as { date?: unknown; size?: unknown } | undefined;
      const date = r?.date instanceof Date ? r.date.getTime() : typeof r?.date === 'string' || typeof r?.date === 'number' ? new Date(r.date).getTime() : 0;
      return {
        id: h.id,
        headerMessageId: h.headerMessageId,
        key: `${folderId}|${h.headerMessageId}|${date}|${typeof r?.size === 'number' ? r.size : ''}`,
        ...(h.folderPath ? { folderPath: h.folderPath } : {}),
        ...(h.author ? { author: h.author } : {}),
      };
    });
    if (!page?.id) return;
    page = (await deadline(api().messages.continueList(page.id), 30_000, 'messages.continueList')) as typeof page;
  }
}

export async function folderById(folderId: string): Promise<RescanFolderRef | undefined> {
  try {
    return folderRef(await deadline(api().folders.get(folderId, false), 5_000, 'folders.get'));
  } catch {
    return undefined;
  }
}

/** Every folder of every account (for the page's folder picker). */
export async function allFolders(): Promise<RescanFolderRef[]> {
  const accounts = await deadline(api().accounts.list(true), 10_000, 'accounts.list');
  const out: RescanFolderRef[] = [];
  const walk = (f: FolderLike, prefix: string) => {
    const ref = folderRef(f);
    if (ref && f.path !== '/') out.push({ ...ref, name: `${prefix}${ref.name}` });
    for (const s of f.subFolders ?? []) walk(s, f.path === '/' ? prefix : `${prefix}${ref?.name ?? ''}/`);
  };
  for (const a of accounts) if (a.rootFolder) walk(a.rootFolder, `${a.name ?? a.id}: `);
  return out;
}

/** The periodic re-scan (permission `alarms`); `hours` 0 clears it. */
export async function setRescanSchedule(hours: number): Promise<void> {
  const alarms = api().alarms;
  if (!alarms) return;
  const minutes = hours * 60;
  const current = await alarms.get(ALARM).catch(() => undefined);
  if (hours <= 0) {
    if (current) await alarms.clear(ALARM);
    return;
  }
  if (current?.periodInMinutes === minutes) return;
  alarms.create(ALARM, { periodInMinutes: minutes, delayInMinutes: minutes });
}

/** Top level: the alarm wakes the event page. */
export function onRescanAlarm(fn: () => void): void {
  api().alarms?.onAlarm.addListener((a) => {
    if (a.name === ALARM) fn();
  });
}

/** The runner's persisted record (state + progress), so a run survives a restart. */
export async function loadRescanRecord(key: string): Promise<unknown> {
  const got = (await webext.storage.local.get(key)) as Record<string, unknown>;
  return got[key];
}

export async function saveRescanRecord(key: string, value: unknown): Promise<void> {
  await webext.storage.local.set({ [key]: value });
}

/** Opens an add-on page in a tab (focusing one that already shows it). */
export async function openAddonPage(path: string): Promise<void> {
  const url = webext.runtime.getURL(path);
  const tabs = (await webext.tabs.query({})) as { id?: number; url?: string }[];
  const open = tabs.find((t) => t.url?.split('?')[0] === url.split('?')[0]);
  if (open?.id !== undefined) await webext.tabs.update(open.id, { active: true });
  else await webext.tabs.create({ url });
}

/** The pages' channel to the background's runner. */
export async function rescanRequest(req: RescanRequest): Promise<RescanReply> {
  try {
    const r = (await webext.runtime.sendMessage(req)) as RescanReply | undefined;
    return r ?? { ok: false, message: 'the background did not answer' };
  } catch (e) {
    return { ok: false, message: e instanceof Error ? e.message : String(e) };
  }
}

/** Offers text as a file download from an add-on page. */
export function downloadText(text: string, filename: string, type = 'application/x-ndjson'): void {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  a.hidden = true;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}
