/**
 * Listener registration for the background. Everything here must be called synchronously at the
 * top level of the background script: an MV3 event page is only woken for events it had listeners
 * for when it was last loaded, and is not started on a relaunch without `runtime.onStartup`.
 */
import { headerList, type DisplayedMessage } from './messages.js';
import { webext } from './webext.js';

export interface MessageSenderInfo {
  readonly tabId?: number;
  readonly fromExtensionPage: boolean;
}

export function onStartup(fn: (reason: 'startup' | 'installed' | 'updated' | 'other') => void): void {
  webext.runtime.onStartup.addListener(() => fn('startup'));
  webext.runtime.onInstalled.addListener((d) => fn(d.reason === 'install' ? 'installed' : d.reason === 'update' ? 'updated' : 'other'));
}

/** One router for runtime messages; answering is done by returning a promise (no sendResponse). */
export function onRuntimeMessage(fn: (msg: unknown, sender: MessageSenderInfo) => Promise<unknown> | undefined): void {
  webext.runtime.onMessage.addListener((msg: unknown, sender: browser.runtime.MessageSender) => {
    if (sender.id !== webext.runtime.id) return undefined;
    const info: MessageSenderInfo = {
      ...(typeof sender.tab?.id === 'number' ? { tabId: sender.tab.id } : {}),
      fromExtensionPage: typeof sender.url === 'string' && sender.url.startsWith(webext.runtime.getURL('')),
    };
    return fn(msg, info);
  });
}

/** Selection in a 3-pane tab (also fires when Thunderbird shows its own error page instead). */
export function onSelectionChanged(fn: (tabId: number, messages: DisplayedMessage[]) => void): void {
  webext.mailTabs.onSelectedMessagesChanged.addListener((tab: { id?: number }, list: unknown) => {
    if (typeof tab.id === 'number') fn(tab.id, headerList(list));
  });
}

/** A message pane finished showing messages (never fires for Thunderbird's decrypt error page). */
export function onMessagesDisplayed(fn: (tabId: number, messages: DisplayedMessage[]) => void): void {
  webext.messageDisplay.onMessagesDisplayed.addListener((tab: { id?: number }, list: unknown) => {
    if (typeof tab.id === 'number') fn(tab.id, headerList(list));
  });
}
