/**
 * The page side of the render port (src/protocol/render.ts), shared by the message display script
 * (display-channel.ts) and the Unseal viewer tab (page-channel.ts): connects, sends `open`,
 * validates everything the background sends, and fails closed on anything it cannot read.
 */
import type { RenderConnection, RenderHandlers } from '../protocol/display.js';
import { RENDER_PORT, type DisplayToBackground } from '../protocol/render.js';
import { parseBackgroundToDisplay } from '../protocol/render-guards.js';
import { webext } from './webext.js';

export function openRenderPort(open: Extract<DisplayToBackground, { type: 'open' }>, handlers: RenderHandlers): RenderConnection {
  const port = webext.runtime.connect({ name: RENDER_PORT });
  let isOpen = true;
  const post = (m: DisplayToBackground): void => {
    if (!isOpen) return;
    try {
      port.postMessage(m);
    } catch (e) {
      gone('disconnected', e instanceof Error ? e.message : String(e));
    }
  };
  const gone = (reason: 'disconnected' | 'protocol', detail: string): void => {
    if (!isOpen) return;
    isOpen = false;
    try {
      port.disconnect();
    } catch {
      // already gone
    }
    handlers.onDisconnect(reason, detail);
  };
  port.onMessage.addListener((raw: unknown) => {
    if (!isOpen) return;
    let m;
    try {
      m = parseBackgroundToDisplay(raw);
    } catch (e) {
      // Fail closed: a message we cannot read ends the exchange; nothing half-checked is rendered.
      gone('protocol', e instanceof Error ? e.message : String(e));
      return;
    }
    if (m.type === 'progress') handlers.onProgress(m);
    else if (m.type === 'result') handlers.onResult(m.model);
    else handlers.onAttachment(m);
  });
  port.onDisconnect.addListener((p: browser.runtime.Port) => {
    gone('disconnected', p.error?.message ?? 'the background closed the render port');
  });
  post(open);
  return {
    requestAttachment(index) {
      post({ type: 'attachment', index });
    },
    close() {
      if (!isOpen) return;
      isOpen = false;
      try {
        port.disconnect();
      } catch {
        // already gone
      }
    },
  };
}
