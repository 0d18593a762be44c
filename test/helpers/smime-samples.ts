/**
 * S/MIME sample messages made with OpenSSL at run time (nothing large is stored): what the e2e
 * scenarios and the demo put into Thunderbird. Each sample knows the text a user should see.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { eicarBytes } from '../../src/host/scanners/eicar.js';

// Relative to the project root (the working directory of vitest and of the demo).
export const DEMO_DIR = resolve('test/fixtures/demo');
export const ALICE = { p12: join(DEMO_DIR, 'alice.p12'), pass: 'demo', cert: join(DEMO_DIR, 'alice.pem'), key: join(DEMO_DIR, 'alice.key') };
/** A throw-away key pair and certificate made with OpenSSL (for "someone else's" and NSS-only keys). */
function makeKeyPair(dir: string, name: string, cn: string): { cert: string; key: string } {
  const key = join(dir, `${name}.key`);
  const cert = join(dir, `${name}.pem`);
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '3650', '-subj', `/CN=${cn}`, '-addext', 'keyUsage=keyEncipherment,digitalSignature'], { stdio: 'ignore' });
  return { cert, key };
}

export interface Sample {
  readonly file: string;
  readonly subject: string;
  readonly messageId: string;
  /** The decrypted text/plain body a user should see (single-part plain bodies only). */
  readonly text?: string;
}

const CRLF = (s: string) => s.replace(/\r?\n/g, '\r\n');

function transport(subject: string, messageId: string, from = 'Bob Sender <bob@demo.example>'): string {
  return CRLF(`From: ${from}\nTo: Alice Demo <alice@demo.example>\nSubject: ${subject}\nDate: Thu, 03 Dec 2026 10:00:00 +0000\nMessage-ID: <${messageId}>\nMIME-Version: 1.0\n`);
}

function encrypt(dir: string, name: string, inner: Buffer, cert: string, cipher = '-aes256'): string {
  const i = join(dir, `${name}.inner`);
  const o = join(dir, `${name}.p7m.eml`);
  writeFileSync(i, inner);
  execFileSync('openssl', ['cms', '-encrypt', '-binary', cipher, '-in', i, '-out', o, cert]);
  // openssl writes its own MIME-Version; the transport headers carry one already.
  return readFileSync(o, 'latin1').replace(/^MIME-Version: 1\.0\r?\n/m, '');
}

function textEntity(text: string): Buffer {
  return Buffer.from(CRLF(`Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n${text}\n`), 'utf8');
}

function base64Lines(b: Uint8Array): string {
  return Buffer.from(b).toString('base64').replace(/.{76}/g, '$&\r\n');
}

function mixed(parts: string[]): Buffer {
  const bd = `b-${randomBytes(6).toString('hex')}`;
  return Buffer.from(CRLF(`Content-Type: multipart/mixed; boundary="${bd}"\n\n`) + parts.map((p) => `--${bd}\r\n${p}\r\n`).join('') + `--${bd}--\r\n`, 'utf8');
}

function attachment(name: string, type: string, data: Uint8Array): string {
  return CRLF(`Content-Type: ${type}; name="${name}"\nContent-Disposition: attachment; filename="${name}"\nContent-Transfer-Encoding: base64\n\n`) + base64Lines(data);
}

function write(dir: string, name: string, subject: string, messageId: string, body: string, text?: string, from?: string): Sample {
  const file = join(dir, `${name}.eml`);
  writeFileSync(file, Buffer.from(transport(subject, messageId, from) + body, 'latin1'));
  return { file, subject, messageId, ...(text !== undefined ? { text } : {}) };
}

export function makeSamples(dir: string) {
  mkdirSync(dir, { recursive: true });
  /** A key Unseal never gets: for "no key" mail. */
  const OTHER = makeKeyPair(dir, 'other', 'Someone Else');
  /** A key only Thunderbird holds (imported into its NSS store): for the NSS key source. */
  const NSS_ONLY = makeKeyPair(dir, 'nss-only', 'Key In Thunderbird Only');
  const id = (n: string) => `${n}@samples.unseal.example`;

  const cleanHtml = '<html><body><p>CLEAN-RENDER <b>quarterly figures</b> are attached.</p><img src="http://127.0.0.1:9/track.png" alt="tracker"><p><a href="https://example.org/report">Report</a></p></body></html>';
  const cleanInner = mixed([
    (() => {
      const bd = 'alt-1';
      return CRLF(`Content-Type: multipart/alternative; boundary="${bd}"\n\n--${bd}\nContent-Type: text/plain; charset=utf-8\n\nCLEAN-RENDER quarterly figures are attached.\n--${bd}\nContent-Type: text/html; charset=utf-8\n\n${cleanHtml}\n--${bd}--`);
    })(),
    attachment('figures.csv', 'text/csv', Buffer.from('quarter,revenue\nQ1,1200\n')),
  ]);
  const clean = write(dir, 'clean', '[sample] clean html + attachment', id('clean'), encrypt(dir, 'clean', cleanInner, ALICE.cert));

  const infectedInner = mixed([CRLF('Content-Type: text/plain; charset=utf-8\n\nINFECTED-MARKER see the attachment.'), attachment('eicar.com', 'application/octet-stream', eicarBytes())]);
  const infected = write(dir, 'infected', '[sample] infected attachment', id('infected'), encrypt(dir, 'infected', infectedInner, ALICE.cert));

  const plainText = (marker: string) => `${marker}: this text exists only inside the encryption.`;
  const one = (name: string, subject: string, marker: string, cert = ALICE.cert, cipher = '-aes256') =>
    write(dir, name, subject, id(name), encrypt(dir, name, textEntity(plainText(marker)), cert, cipher), plainText(marker));

  const scannerDown = one('scanner-down', '[sample] scanner down', 'SCANNER-DOWN-MARKER');
  const hostMissing = one('host-missing', '[sample] host missing', 'HOST-MISSING-MARKER');
  const slowScan = one('slow-scan', '[sample] slow scanner', 'SLOW-SCAN-MARKER');
  const noKey = one('no-key', '[sample] no key', 'NO-KEY-MARKER', OTHER.cert);
  const nss = one('nss-key', '[sample] key only in Thunderbird', 'NSS-KEY-MARKER', NSS_ONLY.cert);
  const rapid = [1, 2, 3, 4, 5].map((n) => one(`rapid-${n}`, `[sample] rapid ${n}`, `RAPID-${n}-MARKER`));

  // Opaque signed only (smime-type=signed-data): Thunderbird shows an empty body with the pref on.
  const opaqueText = plainText('OPAQUE-SIGNED-MARKER');
  writeFileSync(join(dir, 'opaque.inner'), textEntity(opaqueText));
  execFileSync('openssl', ['cms', '-sign', '-nodetach', '-in', join(dir, 'opaque.inner'), '-out', join(dir, 'opaque.p7m.eml'), '-signer', ALICE.cert, '-inkey', ALICE.key]);
  const opaque = write(dir, 'opaque', '[sample] opaque signed', id('opaque'), readFileSync(join(dir, 'opaque.p7m.eml'), 'latin1').replace(/^MIME-Version: 1\.0\r?\n/m, ''), opaqueText, 'Alice Demo <alice@demo.example>');

  // 10 MB: a text body and a big binary attachment (random, so nothing compresses away).
  const big = (name: string, cipher: string) =>
    write(dir, name, `[sample] large ${name}`, id(name), encrypt(dir, name, mixed([CRLF(`Content-Type: text/plain\n\nLARGE ${name} message.`), attachment('data.bin', 'application/octet-stream', randomBytes(7_500_000))]), ALICE.cert, cipher));
  const large = big('large-10mb', '-aes256');
  // ~100 KB: a typical message with a small attachment, for the everyday latency figure.
  const medium = write(dir, 'medium-100kb', '[sample] medium 100 KB', id('medium-100kb'), encrypt(dir, 'medium-100kb', mixed([CRLF('Content-Type: text/plain\n\nMEDIUM message with a 70 KB attachment.'), attachment('notes.bin', 'application/octet-stream', randomBytes(70_000))]), ALICE.cert));
  const large3des = big('large-10mb-3des', '-des3');

  const signedEncrypted: Sample = { file: join(DEMO_DIR, 'encrypted-signed.eml'), subject: 'Quarterly figures (encrypted)', messageId: 'demo-1@demo.example' };
  const plain = write(dir, 'plain', '[sample] plain message', id('plain'), CRLF('Content-Type: text/plain; charset=utf-8\n\nPLAIN-MARKER nothing encrypted here.\n'), 'PLAIN-MARKER nothing encrypted here.');

  /** A PKCS#12 of the NSS-only key, for importing into Thunderbird's own store. */
  const nssOnlyP12 = (password: string): string => {
    const out = join(dir, 'nss-only.p12');
    execFileSync('openssl', ['pkcs12', '-export', '-inkey', NSS_ONLY.key, '-in', NSS_ONLY.cert, '-passout', `pass:${password}`, '-out', out]);
    return out;
  };
  return { clean, infected, scannerDown, hostMissing, slowScan, noKey, nss, rapid, opaque, large, large3des, medium, signedEncrypted, plain, nssOnlyP12 };
}
