/**
 * A folder's worth of encrypted mail for the re-scan tests, made with OpenSSL at test time: clean
 * messages for ALICE (each with its own plaintext marker), EICAR attachments inside the encryption,
 * messages for another key, one malformed S/MIME message and one plain message.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { eicarBytes } from '../../src/host/scanners/eicar.js';
import { ALICE } from './smime-samples.js';

export interface RescanCorpusMessage {
  readonly file: string;
  readonly name: string;
  readonly subject: string;
  readonly messageId: string;
  readonly kind: 'clean' | 'infected' | 'other-key' | 'malformed' | 'plain';
  /** A string that exists only inside the encryption (never in logs or output). */
  readonly marker: string;
}

export interface RescanCorpus {
  readonly dir: string;
  readonly messages: readonly RescanCorpusMessage[];
  readonly count: { clean: number; infected: number; otherKey: number; malformed: number; plain: number };
}

const CRLF = (s: string) => s.replace(/\r?\n/g, '\r\n');

export function makeRescanCorpus(dir: string, opts: { clean?: number; infected?: number; otherKey?: number } = {}): RescanCorpus {
  const nClean = opts.clean ?? 42;
  const nInfected = opts.infected ?? 6;
  const nOther = opts.otherKey ?? 4;
  const work = `${dir}-work`;
  mkdirSync(work, { recursive: true });
  mkdirSync(dir, { recursive: true });
  const otherKey = join(work, 'other.key');
  const otherCert = join(work, 'other.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', otherKey, '-out', otherCert, '-days', '3650', '-subj', '/CN=Rescan Someone Else'], { stdio: 'ignore' });

  const messages: RescanCorpusMessage[] = [];
  const header = (subject: string, messageId: string) =>
    CRLF(`From: Bob Sender <bob@demo.example>\nTo: Alice Demo <alice@demo.example>\nSubject: ${subject}\nDate: Thu, 03 Dec 2026 10:00:00 +0000\nMessage-ID: <${messageId}>\nMIME-Version: 1.0\n`);
  const encrypt = (name: string, inner: Buffer, cert: string): string => {
    const i = join(work, `${name}.inner`);
    const o = join(work, `${name}.p7m`);
    writeFileSync(i, inner);
    execFileSync('openssl', ['cms', '-encrypt', '-binary', '-aes256', '-in', i, '-out', o, cert]);
    return readFileSync(o, 'latin1').replace(/^MIME-Version: 1\.0\r?\n/m, '');
  };
  const add = (kind: RescanCorpusMessage['kind'], n: number, body: (marker: string, name: string) => string) => {
    const name = `${kind}-${String(n).padStart(2, '0')}`;
    const marker = `RESCAN-${kind.toUpperCase()}-${n}-MARKER`;
    const subject = `[rescan] ${kind} ${n}`;
    const messageId = `${name}@rescan.unseal.example`;
    const file = join(dir, `${name}.eml`);
    writeFileSync(file, Buffer.from(header(subject, messageId) + body(marker, name), 'latin1'));
    messages.push({ file, name, subject, messageId, kind, marker });
  };
  const text = (marker: string) => Buffer.from(CRLF(`Content-Type: text/plain; charset=utf-8\n\n${marker}: confidential text.\nFrom the desk of the sender (a From line inside).\n`), 'utf8');
  const withEicar = (marker: string) => {
    const bd = 'rescan-bd';
    const b64 = Buffer.from(eicarBytes()).toString('base64');
    return Buffer.from(
      CRLF(`Content-Type: multipart/mixed; boundary="${bd}"\n\n--${bd}\nContent-Type: text/plain\n\n${marker} see attachment.\n--${bd}\nContent-Type: application/octet-stream; name="eicar.com"\nContent-Disposition: attachment; filename="eicar.com"\nContent-Transfer-Encoding: base64\n\n${b64}\n--${bd}--\n`),
      'latin1',
    );
  };
  for (let i = 1; i <= nClean; i++) add('clean', i, (m, name) => encrypt(name, text(m), ALICE.cert));
  for (let i = 1; i <= nInfected; i++) add('infected', i, (m, name) => encrypt(name, withEicar(m), ALICE.cert));
  for (let i = 1; i <= nOther; i++) add('other-key', i, (m, name) => encrypt(name, text(m), otherCert));
  // S/MIME labels, but the CMS is cut off in the middle.
  add('malformed', 1, (m, name) => {
    const full = encrypt(name, text(m), ALICE.cert);
    const cut = full.indexOf('\r\n\r\n');
    const b64 = full.slice(cut + 4).replace(/\s+/g, '');
    return `${full.slice(0, cut + 4)}${b64.slice(0, Math.floor(b64.length / 2)).replace(/.{76}/g, '$&\r\n')}\r\n`;
  });
  add('plain', 1, (m) => CRLF(`Content-Type: text/plain\n\n${m} not encrypted.\n`));
  return { dir, messages, count: { clean: nClean, infected: nInfected, otherKey: nOther, malformed: 1, plain: 1 } };
}
