/**
 * What the Unseal viewer tab (src/pages/viewer) may do outside its document, so the page never
 * touches `browser.*` itself: open the render port for a NAMED message (the background honours
 * `open.messageId` only because this port comes from an extension page of this add-on), send the
 * same display report the gate sends (marked `surface: 'viewer'`), open a confirmed link in the
 * default browser, open the keys page, and read localized strings.
 */
import type { DisplayReportBody, DisplayRequest, RenderConnection, RenderHandlers } from '../protocol/display.js';
import { MAX_URL_LENGTH, OPENABLE_URL } from '../protocol/display.js';
import { openRenderPort } from './render-client.js';
import { webext } from './webext.js';

export interface ViewerChannel {
  /** Localized UI string; the key itself when missing. */
  text(key: string, substitutions?: string[]): string;
  openRender(messageId: number, handlers: RenderHandlers): RenderConnection;
  report(body: DisplayReportBody): Promise<void>;
  openLink(url: string): Promise<void>;
  openKeysPage(): Promise<void>;
}

function send(msg: DisplayRequest): Promise<unknown> {
  return webext.runtime.sendMessage(msg) as Promise<unknown>;
}

export const viewerChannel: ViewerChannel = {
  text(key, substitutions) {
    try {
      return webext.i18n.getMessage(key, substitutions) || key;
    } catch {
      return key;
    }
  },
  openRender(messageId, handlers) {
    return openRenderPort({ type: 'open', p7mAttachment: false, messageId }, handlers);
  },
  async report(body) {
    await send({ type: 'display.report', ...body });
  },
  async openLink(url) {
    if (url.length > MAX_URL_LENGTH || !OPENABLE_URL.test(url)) throw new Error('only http, https and mailto links can be opened');
    await send({ type: 'display.openLink', url });
  },
  async openKeysPage() {
    await send({ type: 'display.openKeys' });
  },
};
