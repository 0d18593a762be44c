/**
 * Re-scan in a real Thunderbird 153: a folder of 54 messages encrypted with OpenSSL at test time
 * (clean, EICAR inside the encryption, for another key, one malformed, one plain) is re-scanned
 * from the add-on's re-scan page through the real native host and a real clamd. The page shows
 * progress and the summary; the host's audit log has one event per decryption and verdict and no
 * plaintext.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeRescanCorpus, type RescanCorpus } from '../helpers/rescan-corpus.js';
import { startClamd, type ClamdHandle } from '../helpers/scanners/clamd.js';
import { ALICE } from '../helpers/smime-samples.js';
import { RESULTS_DIR, TEST_FOLDER, Thunderbird, builtXpi, scenario, waitFor, installHost } from '../helpers/thunderbird/index.js';
import { KeysPage, importKeyThroughPage } from '../helpers/thunderbird/keys-page.js';

describe('re-scan encrypted mail in Thunderbird', () => {
  let tb: Thunderbird;
  let clamd: ClamdHandle;
  let dir: string;
  let corpus: RescanCorpus;
  let auditLog = '';

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'unseal-e2e-rescan-'));
    corpus = makeRescanCorpus(join(dir, 'folder'));
    clamd = await startClamd({ alertExceedsMax: true });
    tb = await Thunderbird.start({
      xpi: builtXpi(),
      p7mExternal: true,
      messages: corpus.messages.map((m) => m.file),
      beforeLaunch: (p) => {
        installHost(p.home, clamd.url);
        auditLog = join(p.home, '.local/state/unseal/audit.jsonl');
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

  it('rescan-folder: the test folder is re-scanned with progress and a correct summary', async () => {
    await scenario('rescan-folder', async (ctx) => {
      // Show the folder once, as a user who right-clicks it has: Thunderbird builds the folder's
      // index of a fresh mbox on first display, and messages.list sees only indexed messages.
      await tb.selectMessage(corpus.messages[0]!.subject);
      await tb.clearSelection();
      const page = new KeysPage(tb, `moz-extension://${await KeysPage.uuid(tb)}/pages/rescan.html`);
      await page.open();
      const folderId = await waitFor(
        () =>
          page
            .run<string | null>(`(content, name) => { const o = Array.from(content.document.querySelectorAll("#folder option")).find(o => o.textContent.endsWith(name)); return o ? o.value : null; }`, TEST_FOLDER)
            .catch(() => null),
        20_000,
        'folder list on the re-scan page',
        200,
      );
      await page.run(`(content, id) => { const s = content.document.getElementById("folder"); s.value = id; content.document.getElementById("start").click(); }`, folderId);
      const t0 = Date.now();
      const seen = new Set<string>();
      const final = await waitFor(
        async () => {
          const st = await page.run<{ state: string; done: string; total: string; summary: string }>(`(content) => ({ ...content.document.body.dataset })`);
          if (st.state === 'running') seen.add(`${st.done}/${st.total}`);
          return st.state === 'done' || st.state === 'failed' ? st : undefined;
        },
        170_000,
        're-scan done',
        250,
      );
      ctx.ms = Date.now() - t0;
      ctx.screenshot = await tb.screenshot(join(RESULTS_DIR, 'rescan-folder.png'));
      ctx.metrics['progress_updates'] = seen.size;
      expect(final.state).toBe('done');
      const c = corpus.count;
      expect(JSON.parse(final.summary)).toMatchObject({
        total: corpus.messages.length,
        scanned: c.clean + c.infected,
        clean: c.clean,
        infected: c.infected,
        unscanned: 0,
        couldNotDecrypt: c.otherKey + c.malformed,
        skipped: 0,
        notEncrypted: c.plain,
      });
      // Progress was visible while it ran.
      expect(seen.size).toBeGreaterThan(1);
      const rows = await page.run<{ status: string; text: string }[]>(`(content) => Array.from(content.document.querySelectorAll("#problems tr")).map(tr => ({ status: tr.dataset.status, text: tr.textContent }))`);
      expect(rows.filter((r) => r.status === 'infected')).toHaveLength(c.infected);
      expect(rows.filter((r) => r.status === 'infected').every((r) => /EICAR/i.test(r.text))).toBe(true);
    });
  }, 200_000);

  it('audit-no-plaintext: one audit event per decryption and per verdict, no plaintext', async () => {
    await scenario('audit-no-plaintext', async () => {
      await waitFor(() => existsSync(auditLog), 10_000, 'audit log');
      const ids = new Set(corpus.messages.map((m) => m.messageId));
      const strip = (s?: string) => (s ?? '').replace(/^<|>$/g, '');
      const read = () => readFileSync(auditLog, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { event: string; messageId?: string; verdict?: string; folder?: string; sender?: string });
      const decryptable = corpus.count.clean + corpus.count.infected;
      // The add-on's events arrive asynchronously: wait until all are in.
      await waitFor(() => read().filter((e) => e.event === 'decrypted' && ids.has(strip(e.messageId))).length >= decryptable || undefined, 20_000, 'decrypted events');
      const events = read().filter((e) => ids.has(strip(e.messageId)));
      const decrypted = events.filter((e) => e.event === 'decrypted');
      const verdicts = events.filter((e) => e.event === 'verdict');
      const failed = events.filter((e) => e.event === 'decrypt_failed');
      expect(new Set(decrypted.map((e) => e.messageId)).size).toBe(decryptable);
      expect(decrypted).toHaveLength(decryptable);
      // The outer From as Thunderbird lists it, and the folder the message lies in.
      expect(decrypted.every((e) => e.sender === 'Bob Sender <bob@demo.example>' && e.folder?.includes(TEST_FOLDER))).toBe(true);
      expect(verdicts).toHaveLength(decryptable);
      expect(verdicts.filter((e) => e.verdict === 'infected')).toHaveLength(corpus.count.infected);
      expect(failed).toHaveLength(corpus.count.otherKey + corpus.count.malformed);
      const log = readFileSync(auditLog, 'utf8');
      for (const m of corpus.messages) expect(log).not.toContain(m.marker);
      expect(log).not.toContain('confidential text');

      // The audit viewer shows the same events.
      const page = new KeysPage(tb, `moz-extension://${await KeysPage.uuid(tb)}/pages/audit.html`);
      await page.open();
      const st = await waitFor(
        () => page.run<{ state?: string; events?: string }>(`(content) => ({ ...content.document.body.dataset })`).then((d) => (d.state === 'idle' || d.state === 'error' ? d : undefined)).catch(() => undefined),
        20_000,
        'audit page loaded',
        200,
      );
      expect(st.state).toBe('idle');
      expect(Number(st.events)).toBe(read().length);
    });
  }, 60_000);
});
