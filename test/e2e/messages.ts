/** The three messages every e2e profile gets, with what the tests expect of them. */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

export const PLAIN = {
  file: resolve('test/e2e/fixtures/plain.eml'),
  subject: '[e2e] plain text message',
  messageId: 'e2e-plain-1@unseal.example',
};
export const LEGACY_ENCRYPTED = {
  file: resolve('test/e2e/fixtures/legacy-x-pkcs7-mime.eml'),
  subject: '[04-x-pkcs7-mime-legacy-type] legacy x-pkcs7-mime',
  messageId: '04-x-pkcs7-mime-legacy-type@example.org',
};
export const DEMO_ENCRYPTED = {
  file: resolve('test/fixtures/demo/encrypted-signed.eml'),
  subject: 'Quarterly figures (encrypted)',
  messageId: 'demo-1@demo.example',
};

/** The plain fixture's body as the display script normalizes visible text. */
export function plainBodyText(): string {
  const raw = readFileSync(PLAIN.file, 'utf8').replace(/\r\n/g, '\n');
  return raw.slice(raw.indexOf('\n\n') + 2).replace(/\s+/g, ' ').trim();
}

/** A big text/plain message: Thunderbird is still parsing it when the display script starts. */
export const LARGE_PLAIN = {
  subject: '[e2e] large plain message',
  messageId: 'e2e-large-plain@unseal.example',
};

/** Lines of the large plain body (numbered so nothing collapses), about `bytes` long. */
export function largePlainBody(bytes = 2_000_000): string {
  const lines: string[] = [];
  let n = 0;
  for (let size = 0; size < bytes; n++) {
    const line = `Line ${n}: plain text that Unseal must leave alone, marker LARGE-PLAIN-VISIBLE.`;
    lines.push(line);
    size += line.length + 2;
  }
  return lines.join('\r\n') + '\r\n';
}

export function largePlainMessage(bytes?: number): Uint8Array {
  const head = [
    'From: Carol Plain <carol@example.org>',
    'To: Alice Example <alice@example.com>',
    `Subject: ${LARGE_PLAIN.subject}`,
    'Date: Mon, 02 Mar 2026 08:00:00 +0000',
    `Message-ID: <${LARGE_PLAIN.messageId}>`,
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    'Content-Transfer-Encoding: 7bit',
  ].join('\r\n');
  return new TextEncoder().encode(`${head}\r\n\r\n${largePlainBody(bytes)}`);
}

/** multipart/mixed: a big plain part first, then the demo's encrypted part (held as a whole). */
export const LARGE_MIXED = {
  subject: '[e2e] large mixed message with an encrypted part',
  messageId: 'e2e-large-mixed@unseal.example',
};

export function largeMixedMessage(bytes?: number): Uint8Array {
  const demo = readFileSync(DEMO_ENCRYPTED.file, 'latin1').replace(/\r\n/g, '\n');
  const p7m = demo.slice(demo.indexOf('\n\n') + 2).trim().replace(/\n/g, '\r\n');
  const text = [
    'From: Bob Demo <bob@demo.example>',
    'To: Alice Demo <alice@demo.example>',
    `Subject: ${LARGE_MIXED.subject}`,
    'Date: Mon, 02 Mar 2026 07:00:00 +0000',
    `Message-ID: <${LARGE_MIXED.messageId}>`,
    'MIME-Version: 1.0',
    'Content-Type: multipart/mixed; boundary="unseal-e2e-b"',
    '',
    '--unseal-e2e-b',
    'Content-Type: text/plain; charset=utf-8',
    '',
    largePlainBody(bytes),
    '--unseal-e2e-b',
    'Content-Type: application/pkcs7-mime; smime-type=enveloped-data; name="smime.p7m"',
    'Content-Disposition: attachment; filename="smime.p7m"',
    'Content-Transfer-Encoding: base64',
    '',
    p7m,
    '--unseal-e2e-b--',
    '',
  ].join('\r\n');
  return new TextEncoder().encode(text);
}
