/**
 * Runs a function next to a page inside one of Thunderbird's remote <browser>s. Marionette's
 * content context cannot reach Thunderbird tabs (its TabManager only knows Firefox's gBrowser), so
 * the function is loaded from chrome context as a frame script: it runs with system privileges
 * beside the page (`content` is the page's window) and answers over the message manager.
 */
import type { Thunderbird } from './thunderbird.js';

/** Chrome-context expressions (with `win` = the 3-pane window and `target` = the extra argument) that yield the <browser>. */
export const BROWSER = {
  /** The message pane of the current 3-pane tab. */
  messagePane: `win.gTabmail.currentAbout3Pane.messageBrowser.contentWindow.getMessagePaneBrowser()`,
  /** The content tab whose document is `target` (a URL). */
  tabWithUrl: `(() => { const t = win.document.getElementById("tabmail").tabInfo.find(t => t.browser && t.browser.currentURI && t.browser.currentURI.spec === target); if (!t) throw new Error("no tab shows " + target); return t.browser; })()`,
} as const;

/** `fn` is the source text of `(content, args) => value`; the value must be JSON-able. */
export function runFrameScript<T>(tb: Thunderbird, browser: string, target: unknown, fn: string, args: unknown = null, timeoutMs = 20_000): Promise<T> {
  return tb.chrome<T>(
    `const [target, fnSrc, args, timeoutMs] = arguments;
     const win = Services.wm.getMostRecentWindow("mail:3pane");
     const browser = ${browser};
     const mm = browser.messageManager;
     const name = "unsealtest:" + Math.random().toString(36).slice(2);
     return new Promise((resolve, reject) => {
       const timer = win.setTimeout(() => { mm.removeMessageListener(name, listener); reject(new Error("frame script timed out")); }, timeoutMs);
       function listener(m) {
         win.clearTimeout(timer);
         mm.removeMessageListener(name, listener);
         if (m.data.error) reject(new Error(m.data.error)); else resolve(m.data.value);
       }
       mm.addMessageListener(name, listener);
       const src = "(async () => { const fn = " + fnSrc + "; try { const value = await fn(content, " + JSON.stringify(args) + ");" +
         " sendAsyncMessage(" + JSON.stringify(name) + ", { value: JSON.parse(JSON.stringify(value === undefined ? null : value)) }); }" +
         " catch (e) { sendAsyncMessage(" + JSON.stringify(name) + ", { error: String(e).slice(0, 500) }); } })();";
       mm.loadFrameScript("data:," + encodeURIComponent(src), false);
     });`,
    [target, fn, args, timeoutMs],
    timeoutMs + 5_000,
  );
}

/** Runs `fn(content, args)` in the 3-pane's message pane (where the display script rendered). */
export function inMessagePane<T>(tb: Thunderbird, fn: string, args: unknown = null, timeoutMs = 20_000): Promise<T> {
  return runFrameScript<T>(tb, BROWSER.messagePane, null, fn, args, timeoutMs);
}
