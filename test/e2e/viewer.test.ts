/**
 * `mailnews.p7m_external=false`: Thunderbird shows its own "cannot decrypt" page and no display
 * script runs, so the message pane cannot be gated. The add-on must notice, tell the user once per
 * session (a notification with the fix), and the Unseal viewer tab must show the same gated,
 * scanned content: decrypted with the key imported through the keys page, scanned by the real host
 * and a real clamd, rendered with the pane's renderer. The viewer sends the gate's render report
 * (surface 'viewer'); its DOM is read through a frame script as well.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startClamd, type ClamdHandle } from '../helpers/scanners/clamd.js';
import { ALICE, makeSamples, type Sample } from '../helpers/smime-samples.js';
import { RESULTS_DIR, Thunderbird, builtXpi, scenario, waitFor, type DisplayReport, installHost } from '../helpers/thunderbird/index.js';
import { KeysPage, importKeyThroughPage } from '../helpers/thunderbird/keys-page.js';

interface ViewerDom {
  state: string | null;
  kind: string | null;
  prefOffShown: boolean;
  policy: string;
  title: string;
}

describe('Unseal viewer with mailnews.p7m_external=false', () => {
  let tb: Thunderbird;
  let clamd: ClamdHandle;
  let dir: string;
  let s: ReturnType<typeof makeSamples>;
  let uuid = '';

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'unseal-e2e-viewer-'));
    s = makeSamples(join(dir, 'samples'));
    clamd = await startClamd({ alertExceedsMax: true });
    tb = await Thunderbird.start({
      xpi: builtXpi(),
      p7mExternal: false,
      messages: [s.clean.file, s.infected.file, s.plain.file],
      // Thunderbird's own alert window instead of the desktop's notification service (none under
      // Xvfb), kept open so the test can read it and click it as a user would.
      prefs: { 'alerts.useSystemBackend': false, 'alerts.totalOpenTime': 600_000 },
      beforeLaunch: (p) => {
        installHost(p.home, clamd.url);
      },
    });
    await tb.waitForBackground(60_000);
    await importKeyThroughPage(tb, ALICE.p12, ALICE.pass);
    uuid = await KeysPage.uuid(tb);
  }, 180_000);

  afterAll(async () => {
    await tb?.stop();
    await clamd?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  /** Thunderbird's WebExtension id of a message, from the condition the add-on recorded for it. */
  const ids = new Map<string, number>();

  async function selectAndDetect(m: Sample): Promise<{ selectedAt: number; conditionAt: number; messageId: number }> {
    const sel = await tb.selectMessage(m.subject);
    const c = await tb.waitForCondition('P7M_EXTERNAL_OFF_SUSPECTED', m.messageId, sel.selectedAt, 20_000);
    expect(c.messageId).toBeTypeOf('number');
    ids.set(m.messageId, c.messageId!);
    return { selectedAt: sel.selectedAt, conditionAt: c.at, messageId: c.messageId! };
  }

  /** Thunderbird's alert windows (toolkit alert.xhtml): title and text shown. */
  const alerts = () =>
    tb.chrome<{ title: string; text: string; full: string }[]>(
      `const out = [];
       for (const w of Services.wm.getEnumerator("alert:alert")) {
         const d = w.document;
         const title = d.getElementById("alertTitleLabel"), text = d.getElementById("alertTextLabel");
         // The alert shows the first 200 characters of the body; the whole text is its tooltip.
         out.push({ title: title ? title.getAttribute("value") || "" : "", text: text ? text.textContent : "", full: text ? text.getAttribute("tooltiptext") || text.textContent : "" });
       }
       return out;`,
    );

  /**
   * Opens the viewer tab for a message — by clicking the notification (what the user does), or by
   * opening the viewer URL (the menu entry's target) — and waits for its render report.
   */
  async function openViewer(m: Sample, id: string, via: 'notification' | 'url'): Promise<{ r: DisplayReport; dom: ViewerDom; ms: number }> {
    const messageId = ids.get(m.messageId) ?? (await selectAndDetect(m)).messageId;
    const url = `moz-extension://${uuid}/pages/viewer.html?message=${messageId}&reason=p7m-off`;
    const page = new KeysPage(tb, url);
    const since = await tb.chrome<number>('return Date.now();');
    if (via === 'url') await page.open();
    else {
      const clicked = await tb.chrome<number>(
        `let n = 0;
         for (const w of Services.wm.getEnumerator("alert:alert")) { w.onAlertClick(); n++; }
         return n;`,
      );
      expect(clicked).toBe(1);
      // The background's notifications.onClicked opened the viewer tab for exactly this message.
      await waitFor(
        () => tb.chrome<boolean>(
          `const tabmail = Services.wm.getMostRecentWindow("mail:3pane").document.getElementById("tabmail");
           return tabmail.tabInfo.some(t => t.browser && t.browser.currentURI && t.browser.currentURI.spec === arguments[0]);`,
          [url],
        ),
        15_000,
        `viewer tab ${url}`,
        100,
      );
    }
    const r = await tb.waitForRendered(m.messageId, since, 30_000);
    const dom = await waitFor(
      () =>
        page.run<ViewerDom>(`(content) => {
          const d = content.document;
          return { state: d.body.getAttribute("data-state"), kind: d.body.getAttribute("data-kind"), title: d.title,
                   prefOffShown: !d.getElementById("pref-off").hidden, policy: d.getElementById("policy").textContent };
        }`).then((x) => (x.state !== 'loading' ? x : undefined)),
      15_000,
      'viewer done',
      100,
    );
    await tb.screenshot(join(RESULTS_DIR, `${id}.png`));
    await tb.chrome(
      `const win = Services.wm.getMostRecentWindow("mail:3pane");
       const tabmail = win.document.getElementById("tabmail");
       const tab = tabmail.tabInfo.find(t => t.browser && t.browser.currentURI && t.browser.currentURI.spec === arguments[0]);
       if (tab) tabmail.closeTab(tab);
       tabmail.switchToTab(0);`,
      [url],
    );
    return { r, dom, ms: r.at - since };
  }

  it('pref-off-notified: no display event for the encrypted message ⇒ condition recorded and one notification', async () => {
    await scenario('pref-off-notified', async (ctx) => {
      const sel = await selectAndDetect(s.clean);
      const notes = await waitFor(async () => {
        const v = (await tb.diagnostics()).notifications;
        return v?.length ? v : undefined;
      }, 10_000, 'notification recorded', 100);
      ctx.screenshot = await tb.screenshot(join(RESULTS_DIR, 'pref-off-notified.png'));
      // What Thunderbird shows: its alert window with Unseal's title and the fix.
      const shown = await waitFor(async () => ((await alerts()).length ? alerts() : undefined), 10_000, 'alert window', 100);
      Object.assign(ctx.metrics, { selectToConditionMs: sel.conditionAt - sel.selectedAt, selectToNotificationMs: notes[0]!.at - sel.selectedAt, alertWindows: shown.length });
      expect(shown).toHaveLength(1);
      expect(shown[0]!.title).toBe('Unseal cannot check S/MIME messages');
      // Visible without hovering: what is wrong, the user's fix, and that a click opens the viewer.
      for (const part of ['mailnews.p7m_external', 'Config Editor', 'Unseal viewer']) expect(shown[0]!.text).toContain(part);
      // The whole text (tooltip) has the admin's policy and where it goes.
      for (const part of ['{"policies":{"Preferences":{"mailnews.p7m_external":{"Value":true,"Status":"locked"}}}}', '/etc/thunderbird/policies/policies.json']) expect(shown[0]!.full).toContain(part);
      ctx.metrics['alertText'] = shown[0]!.text;
      expect(notes).toHaveLength(1);
      expect(notes[0]).toMatchObject({ code: 'P7M_EXTERNAL_OFF_SUSPECTED', messageId: sel.messageId });
      expect(notes[0]!.notificationId).toBe(`unseal-viewer:${sel.messageId}:p7m-off`);
      expect(await tb.reportsFor(s.clean.messageId, sel.selectedAt)).toEqual([]);

      // Once per session: another S/MIME message records the condition again, but no second notification.
      await selectAndDetect(s.infected);
      await new Promise((r) => setTimeout(r, 500));
      expect((await tb.diagnostics()).notifications).toHaveLength(1);
      expect(await alerts()).toHaveLength(1);
    });
  }, 60_000);

  it('viewer-clean: a click on the notification opens the viewer, which decrypts, scans clean and renders the message with its attachment', async () => {
    await scenario('viewer-clean', async (ctx) => {
      const { r, dom, ms } = await openViewer(s.clean, 'viewer-clean', 'notification');
      ctx.ms = ms;
      ctx.screenshot = join(RESULTS_DIR, 'viewer-clean.png');
      expect(r.surface).toBe('viewer');
      expect(r.rendered).toBe('clean');
      expect(r.attachmentCount).toBe(1);
      expect(r.blockedBanner).toBe(false);
      expect(r.renderedTextLength).toBeGreaterThan(10);
      expect(r.keySource).toBe('unseal');
      expect(dom).toMatchObject({ state: 'done', kind: 'clean', prefOffShown: true });
      expect(dom.policy).toContain('"mailnews.p7m_external":{"Value":true,"Status":"locked"}');
    });
  }, 90_000);

  it('viewer-infected: EICAR inside the encryption ⇒ the viewer shows the blocked banner only', async () => {
    await scenario('viewer-infected', async (ctx) => {
      const { r, dom, ms } = await openViewer(s.infected, 'viewer-infected', 'url');
      ctx.ms = ms;
      ctx.screenshot = join(RESULTS_DIR, 'viewer-infected.png');
      expect(r.surface).toBe('viewer');
      expect(r.rendered).toBe('infected');
      expect(r.blockedBanner).toBe(true);
      expect(r.findingSignatures?.join(' ')).toMatch(/EICAR/i);
      expect(r.renderedTextLength ?? 0).toBe(0);
      expect(r.attachmentCount ?? 0).toBe(0);
      expect(dom).toMatchObject({ state: 'done', kind: 'infected' });
    });
  }, 90_000);
});
