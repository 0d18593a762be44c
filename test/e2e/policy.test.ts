/**
 * The admin policy in a real Thunderbird 153: the add-on's managed storage comes from this run's
 * HOME (`~/.mozilla/managed-storage/unseal@unseal.example.json`, what Thunderbird also reads besides
 * policies.json — no system folder is written). Thunderbird reads managed storage once per session,
 * so each policy change is followed by a restart on the same profile, as an admin's would be.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startClamd, type ClamdHandle } from '../helpers/scanners/clamd.js';
import { ALICE, makeSamples, type Sample } from '../helpers/smime-samples.js';
import { ADDON_ID, RESULTS_DIR, Thunderbird, builtXpi, scenario, waitFor, type DisplayReport, installHost, reportDigest } from '../helpers/thunderbird/index.js';
import { inMessagePane as paneScript } from '../helpers/thunderbird/frame-script.js';
import { KeysPage, importKeyThroughPage } from '../helpers/thunderbird/keys-page.js';

/** Report fields added for the policy (the harness type predates them). */
type Report = Omit<DisplayReport, 'rendered'> & { rendered?: string; saveCopyOffered?: boolean };


const WARN = { scanner: { required: false } };
const STRICT = {
  scanner: { required: true },
  onInfected: { action: 'quarantine', quarantineFolder: 'Unseal Quarantine' },
  decryptedCopies: { mode: 'folder', folder: 'Unseal Decrypted' },
};
const INVALID = { scanner: { required: 'no' }, onInfected: { action: 'delete' }, colour: 'red' };

describe('admin policy in Thunderbird', () => {
  let tb: Thunderbird;
  let clamd: ClamdHandle;
  let dir: string;
  let home = '';
  let s: ReturnType<typeof makeSamples>;

  function setPolicy(data: unknown): void {
    const d = join(home, '.mozilla/managed-storage');
    mkdirSync(d, { recursive: true });
    writeFileSync(join(d, `${ADDON_ID}.json`), JSON.stringify({ name: ADDON_ID, description: 'Unseal e2e policy', type: 'storage', data }));
  }

  async function restartWith(data: unknown): Promise<void> {
    setPolicy(data);
    await tb.restart();
    await tb.waitForBackground(60_000);
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'unseal-e2e-policy-'));
    s = makeSamples(join(dir, 'samples'));
    clamd = await startClamd({ alertExceedsMax: true });
    const all: Sample[] = [s.clean, s.infected, s.scannerDown, s.hostMissing, s.rapid[0]!, s.rapid[1]!];
    tb = await Thunderbird.start({
      xpi: builtXpi(),
      p7mExternal: true,
      messages: all.map((m) => m.file),
      beforeLaunch: (p) => {
        home = p.home;
        installHost(p.home, clamd.url);
        setPolicy(WARN);
      },
    });
    await tb.waitForBackground(60_000);
    await importKeyThroughPage(tb, ALICE.p12, ALICE.pass);
  }, 180_000);

  afterAll(async () => {
    await tb?.stop();
    await clamd?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  async function show(m: Sample, id: string, timeoutMs = 30_000): Promise<{ r: Report; ms: number }> {
    const sel = await tb.selectMessage(m.subject);
    const r = (await tb.waitForRendered(m.messageId, sel.selectedAt, timeoutMs)) as unknown as Report;
    await tb.screenshot(join(RESULTS_DIR, `${id}.png`));
    return { r, ms: r.at - sel.selectedAt };
  }

  /** Header Message-IDs in a folder directly under Local Folders (null when the folder does not exist). */
  function folderMessages(name: string): Promise<string[] | null> {
    return tb.chrome<string[] | null>(
      `const { MailServices } = ChromeUtils.importESModule("resource:///modules/MailServices.sys.mjs");
       const root = MailServices.accounts.localFoldersServer.rootFolder;
       let f = null;
       try { f = root.getChildNamed(arguments[0]); } catch (e) { return null; }
       if (!f) return null;
       const out = [];
       for (const h of f.messages) out.push(h.messageId);
       return out;`,
      [name],
    );
  }

  const inMessagePane = <T>(fn: string, args: unknown = null, timeoutMs = 20_000) => paneScript<T>(tb, fn, args, timeoutMs);

  it('decrypted-copy-policy (absent): without decryptedCopies in the policy no "Save decrypted copy" is offered', async () => {
    await scenario('decrypted-copy-absent', async (ctx) => {
      const { r, ms } = await show(s.clean, 'decrypted-copy-absent');
      ctx.ms = ms;
      expect(r.rendered).toBe('clean');
      expect(r.saveCopyOffered).toBe(false);
    });
  });

  it('quarantine-move: an EICAR message is blocked and moved into the policy\'s quarantine folder', async () => {
    await scenario('quarantine-move', async (ctx) => {
      await restartWith(STRICT);
      const { r, ms } = await show(s.infected, 'quarantine-move');
      ctx.ms = ms;
      ctx.screenshot = join(RESULTS_DIR, 'quarantine-move.png');
      expect(r.rendered).toBe('infected');
      expect(r.renderedTextLength ?? 0).toBe(0);
      const t0 = Date.now();
      const moved = await waitFor(async () => ((await folderMessages('Unseal Quarantine')) ?? []).includes(s.infected.messageId), 20_000, 'message in Unseal Quarantine');
      ctx.metrics['verdict_to_moved_ms'] = Date.now() - t0;
      expect(moved).toBe(true);
      expect(await folderMessages('Unseal Tests')).not.toContain(s.infected.messageId);
    });
  });

  it('decrypted-copy-policy: offered when the policy names a folder; saving imports a decrypted copy there', async () => {
    await scenario('decrypted-copy-policy', async (ctx) => {
      const { r, ms } = await show(s.clean, 'decrypted-copy-policy');
      ctx.ms = ms;
      expect(r.rendered).toBe('clean');
      expect(r.saveCopyOffered).toBe(true);
      const clicked = await inMessagePane<string>(
        `(content) => {
           const host = content.document.querySelector("unseal-gate");
           const root = host && host.openOrClosedShadowRoot;
           const b = root && root.querySelector("button.save-copy");
           if (!b) return "no button";
           b.click();
           return "clicked";
         }`,
      );
      expect(clicked).toBe('clicked');
      const state = await waitFor(
        () =>
          inMessagePane<string | null>(
            `(content) => { const s = content.document.querySelector("unseal-gate").openOrClosedShadowRoot.querySelector(".save-copy .detail"); return s && s.dataset.state || null; }`,
          ),
        20_000,
        'save state',
      );
      expect(state).toBe('saved');
      const copies = await waitFor(async () => {
        const l = await folderMessages('Unseal Decrypted');
        return l && l.includes(s.clean.messageId) ? l : undefined;
      }, 20_000, 'copy in Unseal Decrypted');
      expect(copies).toContain(s.clean.messageId);
      ctx.screenshot = await tb.screenshot(join(RESULTS_DIR, 'decrypted-copy-policy.png'));
    });
  });

  it('policy-fail-closed: scanner.required true and the scanner down ⇒ nothing of the message is shown', async () => {
    await scenario('policy-fail-closed', async (ctx) => {
      // A fresh session: the quarantine move made Thunderbird select the next message, and that
      // message's clean verdict would rightly be served from the in-memory cache.
      await restartWith(STRICT);
      await clamd.stop();
      const { r, ms } = await show(s.scannerDown, 'policy-fail-closed');
      ctx.ms = ms;
      ctx.screenshot = join(RESULTS_DIR, 'policy-fail-closed.png');
      expect(r.rendered).toBe('unscanned');
      expect(r.renderedTextLength ?? 0).toBe(0);
      expect(r.thunderbirdContentVisible).toBe(false);
    });
  });

  it('policy-warn-mode: scanner.required false and the scanner down ⇒ content shown under a NOT-scanned warning', async () => {
    await scenario('policy-warn-mode', async (ctx) => {
      await restartWith(WARN);
      const { r, ms } = await show(s.hostMissing, 'policy-warn-mode');
      ctx.ms = ms;
      ctx.screenshot = join(RESULTS_DIR, 'policy-warn-mode.png');
      expect(r.rendered).toBe('unscanned-allowed');
      expect(r.renderedReason).toBe('unavailable');
      expect(r.renderedTextSha256).toBe(reportDigest(s.hostMissing.text!));
    });
  });

  it('policy-invalid-shown: an invalid policy is listed on the status page and falls back to fail closed', async () => {
    await scenario('policy-invalid-shown', async (ctx) => {
      await restartWith(INVALID);
      // scanner.required "no" is invalid ⇒ the safe default (fail closed), not warn mode.
      const { r } = await show(s.rapid[0]!, 'policy-invalid-fail-closed');
      expect(r.rendered).toBe('unscanned');
      expect(r.renderedTextLength ?? 0).toBe(0);

      const page = new KeysPage(tb, `moz-extension://${await KeysPage.uuid(tb)}/pages/status.html`);
      await page.open();
      const state = await waitFor(
        () =>
          page
            .run<{ state: string; errors: { path: string; source: string; text: string }[]; rows: Record<string, { source: string; locked: string }> } | null>(
              `(content) => {
                 const d = content.document;
                 if (d.body.dataset.state !== "ready") return null;
                 const rows = {};
                 for (const tr of d.querySelectorAll("#settings tbody tr")) rows[tr.dataset.path] = { source: tr.dataset.source, locked: tr.dataset.locked };
                 return { state: d.body.dataset.state,
                          errors: Array.from(d.querySelectorAll("#errors li")).map(li => ({ path: li.dataset.path, source: li.dataset.source, text: li.textContent })),
                          rows };
               }`,
            )
            .catch(() => null),
        20_000,
        'status page ready',
      );
      ctx.screenshot = await tb.screenshot(join(RESULTS_DIR, 'policy-invalid-shown.png'));
      ctx.metrics['errors'] = state.errors.length;
      const paths = state.errors.map((e) => e.path);
      expect(paths).toEqual(expect.arrayContaining(['$.scanner.required', '$.onInfected.action', '$.colour']));
      expect(state.errors.every((e) => e.source === 'managed')).toBe(true);
      expect(state.errors.find((e) => e.path === '$.onInfected.action')!.text).toContain('expected one of "block", "quarantine", "tag", got "delete"');
      expect(state.rows['scanner.required']).toEqual({ source: 'default', locked: 'true' });
      expect(state.rows['scan.timeLimitSeconds']).toEqual({ source: 'default', locked: 'false' });
    });
  });
});
