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
