import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, runCli } from '../../helpers/cli.js';
import { startClamd, type ClamdHandle } from '../../helpers/scanners/clamd.js';

/**
 * `unseal scan` on encrypted content nobody decrypted: the scanner only sees ciphertext, so its
 * "clean" must not be passed on. Raw CMS (EnvelopedData, AuthEnvelopedData, EncryptedData in DER,
 * BER, PEM, base64) as made by OpenSSL, and an S/MIME .eml scanned `--as file`, are unscanned with
 * reason not_scannable and exit 11; plain content stays clean.
 */
const DEMO = join(ROOT, 'test/fixtures/demo');
let clamd: ClamdHandle;
let dir: string;
const f = (name: string) => join(dir, name);

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'unseal-scan-enc-'));
  writeFileSync(f('plain.eml'), 'Content-Type: text/plain\r\nSubject: scan\r\n\r\nnothing to see\r\n');
  const enc = (args: string[]) => execFileSync('openssl', ['cms', '-in', f('plain.eml'), ...args]);
  const alice = join(DEMO, 'alice.pem');
  enc(['-encrypt', '-binary', '-aes128', '-outform', 'DER', '-out', f('env.der'), alice]);
  enc(['-encrypt', '-binary', '-aes128', '-stream', '-outform', 'DER', '-out', f('env.ber'), alice]);
  enc(['-encrypt', '-binary', '-aes128', '-outform', 'PEM', '-out', f('env.pem'), alice]);
  enc(['-encrypt', '-binary', '-aes-128-gcm', '-outform', 'DER', '-out', f('auth.der'), alice]);
  enc(['-EncryptedData_encrypt', '-aes128', '-secretkey', '000102030405060708090a0b0c0d0e0f', '-outform', 'DER', '-out', f('encdata.der')]);
  enc(['-encrypt', '-aes128', '-out', f('smime.eml'), alice]);
  writeFileSync(f('env.b64'), readFileSync(f('env.der')).toString('base64').replace(/.{64}/g, '$&\n'));
  clamd = await startClamd({ alertExceedsMax: true });
}, 120_000);
afterAll(async () => {
  await clamd?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

interface Report {
  scan: { verdict: string; reason: string | null; message?: string; engine: { engine: string } | null };
}

async function scan(file: string, extra: string[] = []): Promise<{ code: number; report: Report; stderr: string }> {
  const r = await runCli(['scan', '--scanner', clamd.url, '--json', ...extra, file]);
  return { code: r.code, report: JSON.parse(r.stdout.toString('utf8')) as Report, stderr: r.stderr };
}

describe.concurrent('unseal scan: encrypted content is never clean', () => {
  it.each([
    ['env.der', /EnvelopedData\)/],
    ['env.ber', /EnvelopedData\)/],
    ['env.pem', /EnvelopedData, pem\)/],
    ['env.b64', /EnvelopedData, base64\)/],
    ['auth.der', /AuthEnvelopedData\)/],
    ['encdata.der', /EncryptedData\)/],
  ])('a raw CMS object %s (default --as auto): unscanned, not_scannable, exit 11', async (name, what) => {
    const r = await scan(f(name));
    expect(r.code, r.stderr).toBe(11);
    expect(r.report.scan).toMatchObject({ verdict: 'unscanned', reason: 'not_scannable' });
    expect(r.report.scan.message).toMatch(what);
    expect(r.report.scan.message).toContain('the input is an encrypted CMS object');
    // The scanner was asked (and answered): its engine is still reported.
    expect(r.report.scan.engine?.engine).toMatch(/^ClamAV/);
  });

  it('--as file and --as message on a raw EnvelopedData: not_scannable as well', async () => {
    for (const as of ['file', 'message']) {
      const r = await scan(f('env.der'), ['--as', as]);
      expect(r.code, `${as}: ${r.stderr}`).toBe(11);
      expect(r.report.scan, as).toMatchObject({ verdict: 'unscanned', reason: 'not_scannable' });
    }
  });

  it('an S/MIME-encrypted .eml: not_scannable with --as file, as with --as auto (its part) ', async () => {
    const file = await scan(f('smime.eml'), ['--as', 'file']);
    expect(file.code, file.stderr).toBe(11);
    expect(file.report.scan).toMatchObject({ verdict: 'unscanned', reason: 'not_scannable' });
    expect(file.report.scan.message).toContain('S/MIME-encrypted message (EnvelopedData)');
    const auto = await scan(f('smime.eml'));
    expect(auto.code, auto.stderr).toBe(11);
    expect(auto.report.scan).toMatchObject({ verdict: 'unscanned', reason: 'not_scannable' });
  });

  it('mail as decrypt reads it — a BOM in front, bare-CR line ends, a header block over 64 KiB — is still mail (--as auto)', async () => {
    const eml = readFileSync(f('smime.eml'), 'latin1');
    const received = Array.from({ length: 900 }, (_, i) => `Received: from relay${i}.example.org by mx.example.org; Thu, 3 Dec 2026 10:00:00 +0000`).join('\r\n');
    const variants: [string, string][] = [
      ['bom.eml', `\ufeff${eml}`],
      ['cr.eml', eml.replace(/\r?\n/g, '\r')],
      ['long-headers.eml', `${received}\r\n${eml}`],
    ];
    for (const [name, text] of variants) {
      writeFileSync(f(name), name === 'bom.eml' ? Buffer.from(text, 'utf8') : Buffer.from(text, 'latin1'));
      const r = await scan(f(name));
      expect(r.code, `${name}: ${r.stderr}`).toBe(11);
      expect(r.report.scan, name).toMatchObject({ verdict: 'unscanned', reason: 'not_scannable' });
    }
  });

  it('decrypted plaintext with a BOM or bare-CR line ends (what decrypt -o writes for such mail) and an EICAR attachment ⇒ infected', async () => {
    const plain = execFileSync(process.execPath, [join(ROOT, 'dist/cli/unseal.mjs'), 'decrypt', '--key', join(ROOT, '../shared/corpus/torture/26-eicar-base64-attachment/key.pem'), '--cert', join(ROOT, '../shared/corpus/torture/26-eicar-base64-attachment/cert.pem'), join(ROOT, '../shared/corpus/torture/26-eicar-base64-attachment/message.eml')]);
    const text = plain.toString('latin1');
    for (const [name, bytes] of [
      ['p-bom.eml', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), plain])],
      ['p-cr.eml', Buffer.from(text.replace(/\r?\n/g, '\r'), 'latin1')],
    ] as const) {
      writeFileSync(f(name), bytes);
      const r = await scan(f(name));
      expect(r.code, `${name}: ${r.stderr}`).toBe(10);
      expect(r.report.scan.verdict, name).toBe('infected');
    }
  });

  it('the text report names the reason', async () => {
    const r = await runCli(['scan', '--scanner', clamd.url, f('env.der')]);
    expect(r.code, r.stderr).toBe(11);
    expect(r.stdout.toString()).toMatch(/^not scanned \(not_scannable\): the input is an encrypted CMS object \(EnvelopedData\)/m);
  });

  it('plain content stays clean: the message, and the same message --as file', async () => {
    for (const extra of [[], ['--as', 'file']]) {
      const r = await scan(f('plain.eml'), extra);
      expect(r.code, r.stderr).toBe(0);
      expect(r.report.scan.verdict).toBe('clean');
    }
  });
});
