import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eicarBytes } from '../../../src/host/scanners/eicar.js';
import { ROOT, runCli } from '../../helpers/cli.js';
import { startClamd, type ClamdHandle } from '../../helpers/scanners/clamd.js';

/**
 * QA findings through the built CLI and a real clamd: content a scanner cannot see inside decrypted
 * mail — an opaque signature wrapping an EICAR attachment, encryption nested in the plaintext,
 * plaintext with bare-CR line ends — must never come out clean.
 */
const DEMO = join(ROOT, 'test/fixtures/demo');
const ALICE = { cert: join(DEMO, 'alice.pem'), key: join(DEMO, 'alice.key'), p12: ['--key', join(DEMO, 'alice.p12'), '--pass-file', join(DEMO, 'alice.pass')] };
const CRLF = (s: string) => s.replace(/\r?\n/g, '\r\n');
const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64').replace(/.{76}/g, '$&\r\n');
let clamd: ClamdHandle;
let dir: string;

const eicarMail = () =>
  CRLF(`Subject: invoice\nContent-Type: multipart/mixed; boundary=in\n\n--in\nContent-Type: text/plain\n\nsee attachment\n--in\nContent-Type: application/octet-stream; name="eicar.com"\nContent-Disposition: attachment; filename="eicar.com"\nContent-Transfer-Encoding: base64\n\n`) +
  `${b64(eicarBytes())}\r\n--in--\r\n`;

function openssl(args: string[], input: string | Uint8Array, recipients: string[] = []): Buffer {
  const i = join(dir, `in-${Math.random().toString(36).slice(2)}`);
  writeFileSync(i, input);
  return execFileSync('openssl', [...args, '-in', i, ...recipients]);
}

/** Opaque SignedData (DER) of `content`, signed by Alice. */
const signOpaque = (content: string) => openssl(['cms', '-sign', '-nodetach', '-binary', '-outform', 'DER', '-signer', ALICE.cert, '-inkey', ALICE.key], content);
/** A whole S/MIME message encrypted to Alice (openssl's MIME output). */
const encryptTo = (cert: string, content: string | Uint8Array) => openssl(['cms', '-encrypt', '-binary', '-aes128'], content, [cert]).toString('latin1');

function outer(part: string): string {
  return CRLF(`From: a@example.org\nSubject: outer\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=o\n\n--o\nContent-Type: text/plain\n\nplease see the forwarded mail\n--o\n`) + part + CRLF('\n--o--\n');
}

async function scan(name: string, bytes: string) {
  const f = join(dir, name);
  writeFileSync(f, bytes, 'latin1');
  const r = await runCli(['scan', '--json', '--scanner', clamd.url, f]);
  return { r, json: JSON.parse(r.stdout.toString()) as { scan: { verdict: string; reason: string | null; findings: { part: string }[]; message?: string } } };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'unseal-opaque-'));
  clamd = await startClamd({ alertExceedsMax: true });
}, 120_000);
afterAll(async () => {
  await clamd?.stop();
});

describe('opaque-signed and encrypted content inside decrypted mail', () => {
  it('a forwarded message/rfc822 holding signed-data with an EICAR attachment ⇒ infected, named inside the signed content', async () => {
    const fwd = CRLF('Subject: fwd\nMIME-Version: 1.0\nContent-Type: application/pkcs7-mime; smime-type=signed-data; name=smime.p7m\nContent-Transfer-Encoding: base64\n\n') + b64(signOpaque(eicarMail()));
    const { r, json } = await scan('fwd-signed.eml', outer(CRLF('Content-Type: message/rfc822\n\n') + fwd));
    expect(r.code, r.stderr).toBe(10);
    expect(json.scan.findings.map((f) => f.part)).toContain('attachments/1 fwd.eml › attachments/1 smime.p7m › signed content › attachments/1 eicar.com');
  });

  it('a bare smime.p7m signed-data attachment (octet-stream) with an EICAR attachment ⇒ infected', async () => {
    const part = CRLF('Content-Type: application/octet-stream; name="smime.p7m"\nContent-Disposition: attachment; filename="smime.p7m"\nContent-Transfer-Encoding: base64\n\n') + b64(signOpaque(eicarMail()));
    const { r, json } = await scan('bare-p7m.eml', outer(part));
    expect(r.code, r.stderr).toBe(10);
    expect(json.scan.findings.map((f) => f.part)).toContain('attachments/1 smime.p7m › signed content › attachments/1 eicar.com');
  });

  it('a forwarded encrypted message ⇒ not scanned (exit 11), never clean', async () => {
    const enc = encryptTo(join(ROOT, '../shared/corpus/producers/keys/bob.pem'), eicarMail());
    const { r, json } = await scan('fwd-encrypted.eml', outer(CRLF('Content-Type: message/rfc822\n\nSubject: secret\n') + enc));
    expect(r.code, r.stderr).toBe(11);
    expect(json.scan.verdict).toBe('unscanned');
    expect(json.scan.reason).toBe('not_scannable');
    expect(json.scan.message).toMatch(/encrypted content/);
  });

  it('open --scanner: decrypted content with bare-CR line ends and an EICAR attachment ⇒ infected', async () => {
    const f = join(dir, 'cr-inner.eml');
    writeFileSync(f, encryptTo(ALICE.cert, Buffer.from(eicarMail().replace(/\r\n/g, '\r'), 'latin1')), 'latin1');
    const r = await runCli(['open', '--json', '--scanner', clamd.url, ...ALICE.p12, f]);
    expect(r.code, r.stderr).toBe(10);
    const j = JSON.parse(r.stdout.toString()) as { scan: { findings: { part: string }[] }; message?: unknown };
    expect(j.scan.findings.map((x) => x.part)).toContain('attachments/1 eicar.com');
    expect(j.message).toBeUndefined();
  });

  it('the same bare-CR message in the clear reads like CRLF (text and attachment)', async () => {
    const f = join(dir, 'cr-clean.eml');
    writeFileSync(f, encryptTo(ALICE.cert, Buffer.from(eicarMail().replace(/\r\n/g, '\r').replace(/TVqQ|WDVP[^\r]*/, 'QUJD'), 'latin1')), 'latin1');
    const r = await runCli(['open', '--json', ...ALICE.p12, f]);
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout.toString()) as { message: { text: string; attachments: { path: string }[] } };
    expect(j.message.text).toBe('see attachment');
    expect(j.message.attachments.map((a) => a.path)).toEqual(['attachments/1 eicar.com']);
  });
});
