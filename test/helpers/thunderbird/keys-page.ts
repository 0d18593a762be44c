/**
 * Drives the add-on's keys page in a real Thunderbird (moved here from test/e2e/keys.test.ts so
 * every e2e file imports keys the way a user does).
 */
import { readFileSync } from 'node:fs';
import { BROWSER, runFrameScript } from './frame-script.js';
import { ADDON_ID, type Thunderbird, waitFor } from './index.js';

export interface PageState {
  url: string;
  state: string | null;
  keys: string | null;
  status: string;
  statusKind: string | null;
  passwordShown: boolean;
  problemsShown: boolean;
  items: { id: string; text: string; badge: string | null }[];
  title: string;
  /** Keys shown in the import dialog's preview (absent when none is open). */
  preview: { id: string; text: string; duplicate: boolean; checked: boolean }[] | null;
  previewProtection: string;
  protection: string | null;
  locked: string | null;
}

/**
 * Drives the page in its tab. Marionette's content context cannot reach Thunderbird tabs (its
 * TabManager only knows Firefox's gBrowser), so each step is a frame script loaded from chrome
 * context into the tab's remote <browser>: it runs with system privileges next to the page and
 * acts on it as a user would — `mozSetFileArray` + a `change` event for the file input (what the
 * file picker does), `setUserInput` for typing, `click()` for buttons.
 */
export class KeysPage {
  constructor(
    private readonly tb: Thunderbird,
    readonly url: string,
  ) {}

  /** The add-on's moz-extension host from the profile pref `extensions.webextensions.uuids`. */
  static uuid(tb: Thunderbird): Promise<string> {
    return tb.chrome<string>(
      `const map = JSON.parse(Services.prefs.getStringPref("extensions.webextensions.uuids", "{}"));
       return map[arguments[0]];`,
      [ADDON_ID],
    );
  }

  /** Opens the page in a Thunderbird content tab (what `browser.tabs.create` does). */
  async open(): Promise<void> {
    await this.tb.chrome(
      `const win = Services.wm.getMostRecentWindow("mail:3pane");
       win.document.getElementById("tabmail").openTab("contentTab", { url: arguments[0], background: false });`,
      [this.url],
    );
  }

  /** Runs `fn(content, args)` (source text) in a frame script in the page's tab; returns its JSON-able result. */
  run<T>(fn: string, args: unknown = null, timeoutMs = 20_000): Promise<T> {
    return runFrameScript<T>(this.tb, BROWSER.tabWithUrl, this.url, fn, args, timeoutMs);
  }

  /** What the file picker does: the input's FileList is set and `input`/`change` fire. */
  chooseFile(path: string): Promise<number> {
    const name = path.split('/').pop()!;
    return this.run<number>(
      `(content, [name, hex]) => {
         const bytes = new Uint8Array(hex.match(/../g).map(h => parseInt(h, 16)));
         const file = new content.File([Cu.cloneInto(bytes, content)], name, { type: "application/x-pkcs12" });
         const input = content.document.getElementById("file");
         input.mozSetFileArray([file]);
         input.dispatchEvent(new content.Event("input", { bubbles: true }));
         input.dispatchEvent(new content.Event("change", { bubbles: true }));
         return input.files.length;
       }`,
      [name, readFileSync(path).toString('hex')],
    );
  }

  type(css: string, text: string): Promise<void> {
    return this.run(`(content, [css, text]) => { const el = content.document.querySelector(css); el.focus(); el.setUserInput(text); }`, [css, text]);
  }

  /** `click()` runs the element's activation behaviour (a button submits its form), as a mouse click does. */
  click(css: string): Promise<void> {
    return this.run(
      `(content, css) => {
         const el = content.document.querySelector(css);
         if (!el) throw new Error("no element " + css);
         el.scrollIntoView({ block: "center" });
         el.click();
       }`,
      css,
    );
  }

  state(): Promise<PageState> {
    return this.run<PageState>(
      `(content) => {
         const d = content.document;
         const b = d.body;
         const st = d.getElementById("status");
         return {
           url: d.URL,
           title: d.title,
           state: b.getAttribute("data-state"),
           keys: b.getAttribute("data-keys"),
           status: st.hidden ? "" : st.textContent,
           statusKind: st.getAttribute("data-kind"),
           passwordShown: !d.getElementById("password-row").hidden,
           problemsShown: !d.getElementById("problems").hidden,
           preview: b.hasAttribute("data-preview") ? Array.from(d.querySelectorAll("#preview-list > li")).map(li => {
             const pick = li.querySelector("input.pick");
             return { id: li.getAttribute("data-key-id"), text: li.textContent, duplicate: li.classList.contains("duplicate"), checked: !!(pick && pick.checked) };
           }) : null,
           previewProtection: d.getElementById("preview-protection").hidden ? "" : d.getElementById("preview-protection").textContent,
           protection: b.getAttribute("data-protection"),
           locked: b.getAttribute("data-locked"),
           items: Array.from(d.querySelectorAll("#key-list li.key")).map(li => {
             const badge = li.querySelector(".badge");
             return { id: li.getAttribute("data-key-id"), text: li.textContent, badge: badge ? badge.getAttribute("data-status") : null };
           }),
         };
       }`,
    );
  }

  async waitIdle(pred: (s: PageState) => boolean, what: string, ms = 20_000): Promise<PageState> {
    let last: PageState | undefined;
    return waitFor(async () => {
      last = await this.state();
      return last.state === 'idle' && last.keys !== null && pred(last) ? last : undefined;
    }, ms, `${what} (last page state: ${JSON.stringify(last)})`, 100).catch((e: Error) => {
      throw new Error(`${e.message}; page: ${JSON.stringify(last)}`);
    });
  }
}

/** Imports a key file through the page as a user would; resolves when it is listed. */
export async function importKeyThroughPage(tb: Thunderbird, file: string, password: string | undefined): Promise<PageState> {
  const uuid = await KeysPage.uuid(tb);
  const page = new KeysPage(tb, `moz-extension://${uuid}/pages/keys.html`);
  await page.open();
  const before = await page.waitIdle((x) => x.keys !== null, 'keys page ready');
  const n = Number(before.keys);
  await page.chooseFile(file);
  await page.click('#import');
  let s = await page.waitIdle((x) => x.preview !== null || (x.statusKind === 'error' && x.passwordShown), 'preview or password request', 30_000);
  if (s.preview === null) {
    await page.type('#password', password ?? '');
    await page.click('#import');
    s = await page.waitIdle((x) => x.preview !== null, 'preview of the file', 30_000);
  }
  // The dialog shows what the file holds; import what it selected (every key not stored yet).
  await page.click('#commit');
  s = await page.waitIdle((x) => x.keys === String(n + 1), 'key listed', 30_000);
  await tb.chrome(
    `const win = Services.wm.getMostRecentWindow("mail:3pane");
     const tabmail = win.document.getElementById("tabmail");
     const tab = tabmail.tabInfo.find(t => t.browser && t.browser.currentURI && t.browser.currentURI.spec === arguments[0]);
     if (tab) tabmail.closeTab(tab);
     tabmail.switchToTab(0);`,
    [page.url],
  );
  return s;
}
