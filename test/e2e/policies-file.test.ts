/**
 * The admin's real path in a real Thunderbird 153: `docs/examples/policies.json`, unchanged, placed
 * in Thunderbird's distribution folder (`<install dir>/distribution/policies.json`, what an admin
 * deploys on Linux). The test profile's own user.js sets `mailnews.p7m_external` to false: the
 * locked preference from the policy must win over it, and the add-on's settings under
 * `3rdparty.Extensions` must reach it as `storage.managed` — the quarantine folder, fail closed.
 *
 * It writes a system file, so it refuses to run over a policy an admin already has there (or in
 * /etc/thunderbird/policies, which Thunderbird would read first) and removes its own afterwards.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, rmdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/cli.js';
import { startClamd, type ClamdHandle } from '../helpers/scanners/clamd.js';
import { ALICE, makeSamples, type Sample } from '../helpers/smime-samples.js';
import { RESULTS_DIR, THUNDERBIRD_BIN, Thunderbird, builtXpi, scenario, waitFor, installHost } from '../helpers/thunderbird/index.js';
import { KeysPage, importKeyThroughPage } from '../helpers/thunderbird/keys-page.js';

const EXAMPLE = join(ROOT, 'docs/examples/policies.json');
const DIST_DIR = join(dirname(THUNDERBIRD_BIN), 'distribution');
const DIST_FILE = join(DIST_DIR, 'policies.json');
const SYSTEM_FILE = '/etc/thunderbird/policies/policies.json';
/** Marks the file as this test's, so a run killed before its cleanup does not block the next. */
const MARK = 'written-by-unseal-e2e-policies-file-test';

describe('policies.json in Thunderbird\'s distribution folder', () => {
  let tb: Thunderbird;
  let clamd: ClamdHandle;
  let dir: string;
  let s: ReturnType<typeof makeSamples>;
  let wroteFile = false;
  let madeDir = false;

  beforeAll(async () => {
    for (const f of [SYSTEM_FILE, DIST_FILE]) {
      // A file of our own left by an interrupted run is replaced; anything else is an admin's.
      const leftover = f === DIST_FILE && existsSync(f) && readFileSync(f, 'utf8').includes(MARK);
      if (existsSync(f) && !leftover) throw new Error(`${f} exists (an admin's policy?): this test will not overwrite it; move it away to run the test`);
    }
    madeDir = !existsSync(DIST_DIR);
    try {
      mkdirSync(DIST_DIR, { recursive: true });
      // The example's policies, unchanged; Thunderbird reads only the "policies" member.
      const example = JSON.parse(readFileSync(EXAMPLE, 'utf8')) as { policies: unknown };
      writeFileSync(DIST_FILE, JSON.stringify({ [MARK]: true, policies: example.policies }, null, 2));
    } catch (e) {
      throw new Error(`cannot write ${DIST_FILE} (${(e as Error).message}): this test places a real policies.json and needs write access there (run as root, as CI does)`);
    }
    wroteFile = true;
    dir = mkdtempSync(join(tmpdir(), 'unseal-e2e-policies-file-'));
    s = makeSamples(join(dir, 'samples'));
    clamd = await startClamd({ alertExceedsMax: true });
    const all: Sample[] = [s.clean, s.infected, s.scannerDown];
    tb = await Thunderbird.start({
      xpi: builtXpi(),
      // What a user might have set: the admin's locked value must win.
      p7mExternal: false,
      messages: all.map((m) => m.file),
      beforeLaunch: (p) => {
        installHost(p.home, clamd.url);
      },
    });
    await tb.waitForBackground(60_000);
    await importKeyThroughPage(tb, ALICE.p12, ALICE.pass);
  }, 180_000);

  afterAll(async () => {
    await tb?.stop();
    await clamd?.stop();
    if (wroteFile) rmSync(DIST_FILE, { force: true });
    if (madeDir) rmdirSync(DIST_DIR);
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  it('policy-file-distribution: the example policies.json locks mailnews.p7m_external and its add-on settings apply', async () => {
    await scenario('policy-file-distribution', async (ctx) => {
      const pref = await tb.chrome<{ value: boolean; locked: boolean; policies: string }>(
        `return { value: Services.prefs.getBoolPref("mailnews.p7m_external"),
                  locked: Services.prefs.prefIsLocked("mailnews.p7m_external"),
                  policies: String(Services.policies.status) };`,
      );
      // Services.policies.status: ACTIVE = 1.
      expect(pref).toEqual({ value: true, locked: true, policies: '1' });

      // Settings from the file reach the add-on as managed storage, locked.
      const page = new KeysPage(tb, `moz-extension://${await KeysPage.uuid(tb)}/pages/status.html`);
      await page.open();
      const rows = await waitFor(
        () =>
          page
            .run<Record<string, { source: string; locked: string }> | null>(
              `(content) => {
                 const d = content.document;
                 if (d.body.dataset.state !== "ready") return null;
                 const rows = {};
                 for (const tr of d.querySelectorAll("#settings tbody tr")) rows[tr.dataset.path] = { source: tr.dataset.source, locked: tr.dataset.locked };
                 return rows;
               }`,
            )
            .catch(() => null),
        20_000,
        'status page ready',
      );
      const errors = await page.run<number>(`(content) => content.document.querySelectorAll("#errors li").length`);
      expect(errors).toBe(0);
      expect(rows['onInfected.action']).toMatchObject({ source: 'managed', locked: 'true' });
      expect(rows['onInfected.quarantineFolder']).toMatchObject({ source: 'managed', locked: 'true' });
      expect(rows['scanner.required']).toMatchObject({ source: 'managed', locked: 'true' });

      // Behaviour: display scripts run (the locked pref), the clean message renders after its scan …
      const sel = await tb.selectMessage(s.clean.subject);
      const clean = await tb.waitForRendered(s.clean.messageId, sel.selectedAt, 30_000);
      ctx.ms = clean.at - sel.selectedAt;
      expect(clean.rendered).toBe('clean');
      expect(clean.thunderbirdContentVisible).toBe(false);

      // … and the infected one is blocked and moved to the policy's quarantine folder.
      const sel2 = await tb.selectMessage(s.infected.subject);
      const infected = await tb.waitForRendered(s.infected.messageId, sel2.selectedAt, 30_000);
      expect(infected.rendered).toBe('infected');
      expect(infected.renderedTextLength ?? 0).toBe(0);
      const inQuarantine = await waitFor(
        () =>
          tb.chrome<boolean>(
            `const { MailServices } = ChromeUtils.importESModule("resource:///modules/MailServices.sys.mjs");
             const root = MailServices.accounts.localFoldersServer.rootFolder;
             let f = null;
             try { f = root.getChildNamed("Unseal Quarantine"); } catch (e) { return false; }
             for (const h of f.messages) if (h.messageId === arguments[0]) return true;
             return false;`,
            [s.infected.messageId],
          ).then((b) => b || undefined),
        20_000,
        'infected message in Unseal Quarantine',
      );
      expect(inQuarantine).toBe(true);
      ctx.screenshot = await tb.screenshot(join(RESULTS_DIR, 'policy-file-distribution.png'));
    });
  });
});
