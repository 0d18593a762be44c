/**
 * The background's end of the per-document render port (src/protocol/render.ts). A port is only
 * accepted from this add-on's own display scripts and pages, and carries the tab it came from so
 * the background can ask which message that tab shows, and whether it came from an extension page.
 */
import { RENDER_PORT, type BackgroundToDisplay } from '../protocol/render.js';
import { webext } from './webext.js';

export interface RenderPort {
  readonly tabId?: number;
  /**
   * The port was opened by one of this add-on's own extension pages (`sender.url` under
   * `moz-extension://<this add-on>/`), e.g. the Unseal viewer tab — not by a message display
   * script (whose url is the message's mailbox:/imap: URL). Only such a port may name a message.
   */
  readonly fromExtensionPage: boolean;
  post(m: BackgroundToDisplay): void;
  onMessage(fn: (m: unknown) => void): void;
  onDisconnect(fn: () => void): void;
}

/** Register synchronously at the top level of the background, like every listener. */
export function onRenderConnect(fn: (port: RenderPort) => void): void {
  webext.runtime.onConnect.addListener((p: browser.runtime.Port) => {
    if (p.name !== RENDER_PORT || p.sender?.id !== webext.runtime.id) return;
    let open = true;
    p.onDisconnect.addListener(() => {
      open = false;
    });
    const tabId = p.sender?.tab?.id;
    const url = p.sender?.url;
    fn({
      ...(typeof tabId === 'number' ? { tabId } : {}),
      fromExtensionPage: typeof url === 'string' && url.startsWith(webext.runtime.getURL('')),
      post(m) {
        // A closed document (the user moved on) is not an error: the answer has nowhere to go.
        if (!open) return;
        try {
          p.postMessage(m);
        } catch {
          open = false;
        }
      },
      onMessage: (f) => p.onMessage.addListener((m: unknown) => f(m)),
      onDisconnect: (f) => p.onDisconnect.addListener(() => f()),
    });
  });
}
