/**
 * The user's own settings in a real Thunderbird 153: changed on the status page as a user would
 * (click the control, Save), applied by the running background at once — no restart — and, once
 * an admin policy sets the same setting (per-user managed storage in this run's HOME, then a
 * restart as policy.test.ts does), shown read-only and not applied.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startClamd, type ClamdHandle } from '../helpers/scanners/clamd.js';
import { ALICE, makeSamples, type Sample } from '../helpers/smime-samples.js';
import { ADDON_ID, RESULTS_DIR, Thunderbird, builtXpi, scenario, waitFor, type DisplayReport, installHost, reportDigest } from '../helpers/thunderbird/index.js';
import { KeysPage, importKeyThroughPage } from '../helpers/thunderbird/keys-page.js';

/** Report fields added for the policy (the harness type predates them). */
type Report = Omit<DisplayReport, 'rendered'> & { rendered?: string };


interface Row {
  source: string;
  locked: string;
  editable: string;
  text: string;
  /** The control's kind and state, null when the row has none (read-only). */
  control: { kind: string; checked: boolean; disabled: boolean } | null;
}
interface StatusState {
  state: string;
  saved: string | null;
  /** 'done' once the page's scanner health check (the canaries) has answered. */
  health: string | null;
  saveCount: string | null;
  saveDisabled: boolean;
  saveErrors: string[];
  errors: string[];
  rows: Record<string, Row>;
}

const READ_STATUS = `(content) => {
  const d = content.document;
  const b = d.body;
  const rows = {};
  for (const tr of d.querySelectorAll("#settings tbody tr[data-path][data-source][data-locked]")) {
    const c = tr.querySelector("input[data-path], select[data-path], textarea[data-path], fieldset[data-path]");
    rows[tr.dataset.path] = { source: tr.dataset.source, locked: tr.dataset.locked, editable: tr.dataset.editable, text: tr.textContent,
      control: c ? { kind: c.dataset.kind, checked: !!c.checked, disabled: !!c.disabled } : null };
  }
  return { state: b.dataset.state, saved: b.dataset.saved || null, health: b.dataset.health || null, saveCount: b.dataset.saveCount || null,
    saveDisabled: d.getElementById("save").disabled,
    saveErrors: Array.from(d.querySelectorAll("#save-errors li")).map(li => li.textContent),
    errors: Array.from(d.querySelectorAll("#errors li")).map(li => li.textContent), rows };
}`;

describe('user settings in Thunderbird', () => {
  let tb: Thunderbird;
  let clamd: ClamdHandle;
  let dir: string;
  let home = '';
  let s: ReturnType<typeof makeSamples>;
  let statusUrl = '';

  function setPolicy(data: unknown): void {
    const d = join(home, '.mozilla/managed-storage');
    mkdirSync(d, { recursive: true });
    writeFileSync(join(d, `${ADDON_ID}.json`), JSON.stringify({ name: ADDON_ID, description: 'Unseal e2e policy', type: 'storage', data }));
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'unseal-e2e-user-settings-'));
    s = makeSamples(join(dir, 'samples'));
    clamd = await startClamd();
    const all: Sample[] = [s.clean, s.scannerDown, s.hostMissing, s.rapid[0]!];
    tb = await Thunderbird.start({
      xpi: builtXpi(),
      p7mExternal: true,
      messages: all.map((m) => m.file),
      beforeLaunch: (p) => {
        home = p.home;
        // The host and a scanner, and no admin policy.
        installHost(p.home, clamd.url);
      },
    });
    await tb.waitForBackground(60_000);
    await importKeyThroughPage(tb, ALICE.p12, ALICE.pass);
    statusUrl = `moz-extension://${await KeysPage.uuid(tb)}/pages/status.html`;
  }, 180_000);

  afterAll(async () => {
    await tb?.stop();
    await clamd?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  async function show(m: Sample, timeoutMs = 30_000): Promise<{ r: Report; ms: number }> {
    const sel = await tb.selectMessage(m.subject);
    const r = (await tb.waitForRendered(m.messageId, sel.selectedAt, timeoutMs)) as unknown as Report;
    return { r, ms: r.at - sel.selectedAt };
  }

  async function openStatus(): Promise<KeysPage> {
    const page = new KeysPage(tb, statusUrl);
    await page.open();
    return page;
  }

  function readStatus(page: KeysPage, pred: (x: StatusState) => boolean, what: string, ms = 20_000): Promise<StatusState> {
    let last: StatusState | undefined;
    return waitFor(async () => {
      last = await page.run<StatusState>(READ_STATUS).catch(() => undefined);
      return last && last.state === 'ready' && pred(last) ? last : undefined;
    }, ms, what, 100).catch((e: Error) => {
      throw new Error(`${e.message}; page: ${JSON.stringify(last)?.slice(0, 3000)}`);
    });
  }

  function closeStatus(): Promise<void> {
    return tb.chrome(
      `const win = Services.wm.getMostRecentWindow("mail:3pane");
       const tabmail = win.document.getElementById("tabmail");
       for (const tab of tabmail.tabInfo.filter(t => t.browser && t.browser.currentURI && t.browser.currentURI.spec === arguments[0])) tabmail.closeTab(tab);
       tabmail.switchToTab(0);`,
      [statusUrl],
    );
  }

  it('user-setting-change: scanner.required switched off on the status page applies at once (warn mode); an admin policy locks it and the saved value does not apply', async () => {
    await scenario('user-setting-change', async (ctx) => {
      // The default is fail closed: with the scanner down nothing of the message is shown.
      await clamd.stop();
      const before = await show(s.scannerDown);
      expect(before.r.rendered).toBe('unscanned');
      expect(before.r.renderedTextLength ?? 0).toBe(0);

      // The status page: no policy, scanner.required is the user's to change.
      const page = await openStatus();
      let st = await readStatus(page, (x) => x.rows['scanner.required'] !== undefined, 'status page ready');
      expect(st.rows['scanner.required']).toMatchObject({ source: 'default', locked: 'false', editable: 'true', control: { kind: 'checkbox', checked: true, disabled: false } });
      // Admin-only settings have no control; the number/select/checkbox-set kinds come from the schema.
      expect(st.rows['keys.importAllowed']!.control).toBeNull();
      expect(st.rows['scan.timeLimitSeconds']!.control?.kind).toBe('number');
      expect(st.rows['onInfected.action']!.control?.kind).toBe('select');
      expect(st.rows['algorithms.warn']!.control?.kind).toBe('checkbox-set');
      expect(st.errors).toEqual([]);

      // An invalid value is refused with the validator's message, and nothing is stored.
      await page.type('input[data-path="scan.timeLimitSeconds"]', '2');
      await page.click('#save');
      st = await readStatus(page, (x) => x.saved === 'invalid', 'save refused');
      expect(st.saveErrors).toEqual(['$.scan.timeLimitSeconds: expected an integer from 5 to 3600, got 2']);
      expect(st.rows['scan.timeLimitSeconds']!.source).toBe('default');
      await page.type('input[data-path="scan.timeLimitSeconds"]', '180');

      // Warn mode: untick, Save.
      await page.click('input[data-path="scanner.required"]');
      const savedAt = Date.now();
      await page.click('#save');
      st = await readStatus(page, (x) => x.saved === 'saved', 'saved');
      ctx.metrics['save_ms'] = Date.now() - savedAt;
      expect(st.saveErrors).toEqual([]);
      expect(st.rows['scanner.required']).toMatchObject({ source: 'user', locked: 'false', editable: 'true', control: { kind: 'checkbox', checked: false } });
      expect(st.rows['scan.timeLimitSeconds']!.source).toBe('default');
      expect(st.errors).toEqual([]);
      ctx.screenshot = await tb.screenshot(join(RESULTS_DIR, 'user-setting-change-saved.png'));
      // The page's scanner health check (the host's canaries) is over before the next scan.
      await readStatus(page, (x) => x.health === 'done', 'health check done');
      await closeStatus();

      // Same Thunderbird session, scanner still down: the content is shown under the NOT-scanned warning.
      const warn = await show(s.hostMissing);
      ctx.ms = warn.ms;
      await tb.screenshot(join(RESULTS_DIR, 'user-setting-change-warn.png'));
      expect(warn.r.rendered).toBe('unscanned-allowed');
      // The scanner is down — also while the host still holds clamd's engine version from before the
      // stop (cached 10 s) and its self-test cannot reach clamd: that is 'unavailable', not a
      // misconfigured scanner.
      expect(warn.r.renderedReason).toBe('unavailable');
      expect(warn.r.renderedTextSha256).toBe(reportDigest(s.hostMissing.text!));
      // The message refused before the change is shown now too (unscanned results are never cached).
      const again = await show(s.scannerDown);
      expect(again.r.rendered).toBe('unscanned-allowed');
      expect(again.r.renderedTextSha256).toBe(reportDigest(s.scannerDown.text!));

      // The admin sets scanner.required: read-only, locked, and the user's saved false does not apply.
      setPolicy({ scanner: { required: true } });
      await tb.restart();
      await tb.waitForBackground(60_000);
      await closeStatus(); // a restored tab, if Thunderbird brought one back
      const locked = await openStatus();
      st = await readStatus(locked, (x) => x.rows['scanner.required']?.source === 'managed', 'status page under the policy');
      expect(st.rows['scanner.required']).toMatchObject({ source: 'managed', locked: 'true', editable: 'false', control: null });
      expect(st.rows['scanner.required']!.text).toContain('locked by your administrator');
      // The user's saved value is still stored (it applies again without the policy), but not now.
      expect(st.rows['scanner.required']!.text).toContain('your own value false stays saved but does not apply');
      // The other user settings stay editable.
      expect(st.rows['scan.timeLimitSeconds']).toMatchObject({ locked: 'false', editable: 'true' });
      expect(st.errors).toEqual([]);
      await tb.screenshot(join(RESULTS_DIR, 'user-setting-change-locked.png'));
      await closeStatus();
      const failClosed = await show(s.rapid[0]!);
      expect(failClosed.r.rendered).toBe('unscanned');
      expect(failClosed.r.renderedTextLength ?? 0).toBe(0);
      expect(failClosed.r.thunderbirdContentVisible).toBe(false);
    });
  });
});
