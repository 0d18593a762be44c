import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { cmsContentType } from '../../../src/core/cms/content-type.js';
import { parseMime } from '../../../src/core/mime/entity.js';
import { findEncryptedPart, findSmimeParts } from '../../../src/core/mime/smime-detect.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const corpus = path.resolve(here, '../../../../shared/corpus');

interface PublicCase {
  id: string;
  input: string;
  input_format: string;
  layers: string;
}

const tortureDirs = existsSync(path.join(corpus, 'torture'))
  ? readdirSync(path.join(corpus, 'torture')).filter((d) => existsSync(path.join(corpus, 'torture', d, 'message.eml')))
  : [];
const publicCases: PublicCase[] = existsSync(path.join(corpus, 'public/cases.json'))
  ? (JSON.parse(readFileSync(path.join(corpus, 'public/cases.json'), 'utf8')) as { cases: PublicCase[] }).cases.filter(
      (c) => c.input_format === 'mime' || c.input_format === 'mbox',
    )
  : [];

function expectEncryptedFound(bytes: Uint8Array): void {
  const root = parseMime(bytes);
  const part = findEncryptedPart(root);
  expect(part, 'encrypted part').toBeDefined();
  expect(['enveloped', 'authEnveloped']).toContain(part!.kind);
  expect(cmsContentType(part!.der!)).toBe(part!.kind);
}

describe('corpus: torture messages', () => {
  it('has the corpus', () => expect(tortureDirs.length).toBeGreaterThanOrEqual(20));
  it.each(tortureDirs)('%s: the encrypted part is found and sniffs as CMS of that kind', (dir) => {
    expectEncryptedFound(readFileSync(path.join(corpus, 'torture', dir, 'message.eml')));
  });

  it('03: the p7m is the second child of multipart/mixed; 14: authEnveloped', () => {
    const t03 = parseMime(readFileSync(path.join(corpus, 'torture/03-p7m-attached-in-multipart-mixed/message.eml')));
    expect(findEncryptedPart(t03)!.path).toBe('2');
    const t14 = parseMime(readFileSync(path.join(corpus, 'torture/14-authenveloped-aes-gcm/message.eml')));
    expect(findEncryptedPart(t14)!.kind).toBe('authEnveloped');
  });
});

describe('corpus: public MIME and mbox inputs', () => {
  it('has the corpus', () => expect(publicCases.length).toBeGreaterThanOrEqual(40));
  it.each(publicCases.map((c) => [c.id, c] as const))('%s', (_id, c) => {
    const bytes = readFileSync(path.join(corpus, 'public', c.input));
    const outerSigned = c.layers.startsWith('multipart/signed') || c.layers.startsWith('application/pkcs7-mime > signedData');
    const pgpSigned = c.layers.startsWith('multipart/signed > detached-?');
    if (!outerSigned) return expectEncryptedFound(bytes);
    const parts = findSmimeParts(parseMime(bytes));
    if (pgpSigned) {
      // An OpenPGP signature around S/MIME: not an S/MIME layer, the encrypted part comes first.
      expect(parts[0]!.kind).toBe('enveloped');
      return expectEncryptedFound(bytes);
    }
    expect(parts[0]!.path).toBe('');
    expect(parts[0]!.kind).toBe(c.layers.startsWith('multipart/signed') ? 'multipart-signed' : 'signed-data');
    if (c.layers.startsWith('multipart/signed')) expectEncryptedFound(bytes);
  });
});
