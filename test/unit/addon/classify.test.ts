import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { classifyRaw } from '../../../src/background/classify.js';

const enc = (s: string) => new TextEncoder().encode(s.replace(/\n/g, '\r\n'));

describe('classifyRaw (what the gate holds)', () => {
  it('holds enveloped data, also labelled x-pkcs7-mime', () => {
    expect(classifyRaw(readFileSync('test/e2e/fixtures/legacy-x-pkcs7-mime.eml'))).toMatchObject({ state: 'held', reason: 'smime-enveloped' });
    expect(classifyRaw(readFileSync('test/fixtures/demo/encrypted-signed.eml'))).toMatchObject({ state: 'held', reason: 'smime-enveloped' });
  });

  it('leaves plain and clear-signed messages alone', () => {
    expect(classifyRaw(readFileSync('test/e2e/fixtures/plain.eml'))).toEqual({ state: 'plain' });
    const clearSigned = enc(
      'Subject: s\nMIME-Version: 1.0\nContent-Type: multipart/signed; protocol="application/pkcs7-signature"; micalg=sha-256; boundary="b"\n\n--b\nContent-Type: text/plain\n\nhello\n--b\nContent-Type: application/pkcs7-signature; name=smime.p7s\nContent-Transfer-Encoding: base64\n\nMAA=\n--b--\n',
    );
    expect(classifyRaw(clearSigned)).toEqual({ state: 'plain' });
  });

  it('holds an encrypted part inside multipart/mixed', () => {
    const der = readFileSync('test/fixtures/demo/encrypted-signed.eml', 'latin1').split(/\r?\n\r?\n/).slice(1).join('\n').trim();
    const mixed = enc(
      `Subject: s\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="b"\n\n--b\nContent-Type: text/plain\n\nsee attachment\n--b\nContent-Type: application/pkcs7-mime; smime-type=enveloped-data; name=smime.p7m\nContent-Transfer-Encoding: base64\n\n${der}\n--b--\n`,
    );
    expect(classifyRaw(mixed)).toMatchObject({ state: 'held', reason: 'smime-enveloped' });
  });
});
