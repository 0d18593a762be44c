import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../helpers/cli.js';
import { tortureCases } from '../../helpers/corpus.js';
import { startClamd, type ClamdHandle } from '../../helpers/scanners/clamd.js';
import { startCicap, type CicapHandle } from '../../helpers/scanners/cicap.js';

/**
 * `unseal open --scanner` on the shared torture cases whose EICAR exists only inside the
 * encryption, against a real clamd and a real c-icap: the scanner sees the plaintext, and content
 * is printed only for a clean verdict.
 */
let clamd: ClamdHandle;
let cicap: CicapHandle;
beforeAll(async () => {
  clamd = await startClamd({ alertExceedsMax: true });
  cicap = await startCicap({ clamdSocket: clamd.socketPath });
});
afterAll(async () => {
  await cicap?.stop();
  await clamd?.stop();
});

const byId = (suffix: string) => tortureCases().find((c) => c.id.endsWith(suffix))!;

interface Report {
  scan: { verdict: string; findings: { part: string; signature: string }[]; reason: string | null; engine: { engine: string } | null };
  message?: { text: string };
  layers: unknown[];
}

async function openScan(suffix: string, scanner: string) {
  const c = byId(suffix);
  const r = await runCli(['open', '--json', '--scanner', scanner, ...c.args, c.input]);
  return { c, r, json: r.stdout.length ? (JSON.parse(r.stdout.toString('utf8')) as Report) : undefined };
}

describe('open --scanner with real scanners', () => {
  for (const via of ['clamd', 'icap'] as const) {
    const url = () => (via === 'clamd' ? clamd.url : cicap.avscanUrl);

    it(`${via}: torture 26 — EICAR attachment inside the encryption ⇒ infected, no content`, async () => {
      const { r, json } = await openScan('26-eicar-base64-attachment', url());
      expect(r.code, r.stderr).toBe(10);
      expect(json!.scan.verdict).toBe('infected');
      expect(json!.scan.findings.length).toBeGreaterThan(0);
      expect(json!.scan.findings.map((f) => f.signature).join(' ')).toMatch(/Eicar|EICAR/i);
      expect(json!.message).toBeUndefined();
      expect(json!.layers.length).toBe(1);
    });

    it(`${via}: torture 28 — EICAR in a zip inside a zip ⇒ infected`, async () => {
      const { r, json } = await openScan('28-eicar-zip-in-zip', url());
      expect(r.code, r.stderr).toBe(10);
      expect(json!.scan.verdict).toBe('infected');
      expect(json!.message).toBeUndefined();
    });

    it(`${via}: torture 29 — clean attachments ⇒ clean, content shown`, async () => {
      const { c, r, json } = await openScan('29-clean-attachments', url());
      expect(r.code, r.stderr).toBe(0);
      expect(json!.scan.verdict).toBe('clean');
      expect(json!.scan.engine?.engine).toBeTruthy();
      if (c.expected.plaintext_contains) expect(json!.message!.text).toContain(c.expected.plaintext_contains);
    });
  }

  it('infected findings name the part', async () => {
    const { json } = await openScan('26-eicar-base64-attachment', clamd.url);
    expect(json!.scan.findings.some((f) => /eicar\.com/.test(f.part))).toBe(true);
  });

  it('scanner unreachable ⇒ not scanned (11), no content', async () => {
    const { r, json } = await openScan('29-clean-attachments', 'clamd+unix:///nonexistent/unseal/clamd.ctl');
    expect(r.code, r.stderr).toBe(11);
    expect(json!.scan.verdict).toBe('unscanned');
    expect(json!.scan.reason).toBe('unavailable');
    expect(json!.message).toBeUndefined();
  });
});
