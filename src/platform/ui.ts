/**
 * Opening things for the user: links in the default browser, the keys page, the toolbar button, the
 * Unseal viewer tab, the pref-off notification and the message-list menu entry.
 */
import { headerList } from './messages.js';
import { webext } from './webext.js';

export async function openInDefaultBrowser(url: string): Promise<void> {
  const w = webext.windows as unknown as { openDefaultBrowser(url: string): Promise<void> };
  await w.openDefaultBrowser(url);
}

export async function openKeysPage(): Promise<void> {
  await webext.runtime.openOptionsPage();
}

/** The toolbar button (manifest `action`) opens the keys page. Register at top level. */
export function onActionClicked(fn: () => void): void {
  const action = (webext as unknown as { action?: { onClicked: { addListener(f: () => void): void } } }).action;
  action?.onClicked.addListener(fn);
}

// ---- the Unseal viewer tab, the pref-off notification, the message-list menu entry ----

/** `pages/viewer.html?message=<id>[&reason=p7m-off]` in a Thunderbird tab (a content tab). */
export async function openViewer(messageId: number, reason?: 'p7m-off'): Promise<void> {
  const q = new URLSearchParams({ message: String(messageId), ...(reason ? { reason } : {}) });
  await webext.tabs.create({ url: webext.runtime.getURL(`pages/viewer.html?${q.toString()}`) });
}

const VIEWER_NOTIFICATION = 'unseal-viewer:';

/**
 * A Thunderbird notification whose click opens the viewer for `messageId` (the id travels in the
 * notification id, so a click still works after the event page was suspended and woken again).
 */
export async function notifyWithViewer(messageId: number, title: string, message: string): Promise<string> {
  const icon = webext.runtime.getURL('icons/unseal.svg');
  return webext.notifications.create(`${VIEWER_NOTIFICATION}${messageId}:p7m-off`, { type: 'basic', title, message, iconUrl: icon });
}

/** Register at top level: a click on a {@link notifyWithViewer} notification. */
export function onViewerNotificationClicked(fn: (messageId: number, reason: 'p7m-off' | undefined) => void): void {
  webext.notifications.onClicked.addListener((id: string) => {
    const m = /^unseal-viewer:(\d{1,15}):?(p7m-off)?$/.exec(id);
    if (!m) return;
    fn(Number(m[1]), m[2] === 'p7m-off' ? 'p7m-off' : undefined);
    void webext.notifications.clear(id).catch(() => undefined);
  });
}

/** Localized string for the background (notification and menu texts). */
export function uiText(key: string, substitutions?: string[]): string {
  return webext.i18n.getMessage(key, substitutions) || key;
}

/** Once per browser session (storage.session: survives event-page suspension, gone on quit). */
export async function firstTimeThisSession(flag: string): Promise<boolean> {
  const key = `once:${flag}`;
  const got = (await webext.storage.session.get(key)) as Record<string, unknown>;
  if (got[key]) return false;
  await webext.storage.session.set({ [key]: Date.now() });
  return true;
}

const VIEWER_MENU_ID = 'unseal-open-viewer';

interface MenusApi {
  create(props: { id: string; title: string; contexts: string[] }, cb?: () => void): unknown;
  onClicked: { addListener(fn: (info: { menuItemId: string | number; selectedMessages?: unknown }) => void): void };
}

/**
 * "Open in Unseal viewer" in the message list's context menu. Created at every background start
 * (a duplicate id after an event-page wake-up is reported through lastError and ignored) and its
 * click listener registered synchronously at top level. Enabled for every message: the viewer
 * answers "not S/MIME" for plain ones.
 */
export function registerViewerMenu(title: string, onClick: (messageIds: number[]) => void): void {
  const menus = (webext as unknown as { menus?: MenusApi }).menus;
  if (!menus) return;
  try {
    menus.create({ id: VIEWER_MENU_ID, title, contexts: ['message_list'] }, () => void webext.runtime.lastError);
  } catch {
    // already there
  }
  menus.onClicked.addListener((info) => {
    if (info.menuItemId !== VIEWER_MENU_ID) return;
    onClick(headerList(info.selectedMessages).map((m) => m.id));
  });
}
