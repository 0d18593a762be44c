import { describe, expect, it } from 'vitest';
import { namesEqual, parseCertificate } from '../../../src/core/keys/certificate.js';
import { oid, seq, tlv } from '../../../src/core/keys/der-writer.js';
import { parsePem } from '../../../src/core/keys/pem.js';
import { corpusFile } from './corpus-paths.js';

const certOf = (rel: string) => parseCertificate(parsePem(new TextDecoder().decode(corpusFile(rel)))[0]!.der);

describe('parseCertificate', () => {
  it('reads every field of producers/keys/rsa2048.pem (values from openssl x509)', () => {
    const c = certOf('producers/keys/rsa2048.pem');
    expect(c.subject).toBe('emailAddress=rsa2048@example.test, CN=RSA 2048 Recipient');
    expect(c.issuer).toBe('CN=Lab Test CA');
    expect(c.serialHex).toBe('4ac9d8ca1b688413dbb5d993a0431e1e0bd4180f');
    expect(c.serialBytes).toEqual(Uint8Array.from(Buffer.from(c.serialHex, 'hex')));
    expect(c.notBefore.toISOString()).toBe('2026-12-03T18:08:25.000Z');
    expect(c.notAfter.toISOString()).toBe('2029-03-07T18:08:25.000Z');
    expect(Buffer.from(c.subjectKeyId!).toString('hex')).toBe('33b7f94673381223baed277f51d0b8bd3d2a4c5f');
    expect(c.keyUsage).toEqual(['digitalSignature', 'keyEncipherment', 'dataEncipherment', 'keyAgreement']);
    expect(c.extKeyUsage).toEqual(['emailProtection']);
    expect(c.emails).toEqual(['rsa2048@example.test']);
    expect(c.publicKeyAlgorithm).toBe('rsa');
    expect(c.publicKeyBits).toBe(2048);
    expect(c.isCa).toBe(false);
    // Issuer Name DER is the CA's subject: namesEqual agrees.
    const ca = certOf('producers/keys/ca.pem');
    expect(namesEqual(c.issuerDer, ca.issuerDer)).toBe(true);
    expect(ca.isCa).toBe(true);
  });

  it('fingerprint is the SHA-256 of the DER', () => {
    const c = certOf('producers/keys/rsa2048.pem');
    expect(c.sha256Fingerprint).toBe('8ba08a8b2c9dafff2ce26e390c8f9a0a7c2f6d79e5d5c960d81260bbb7dc4543');
  });

  it('EC certificates name their curve', () => {
    const c = certOf('producers/keys/ecp384.pem');
    expect(c).toMatchObject({ publicKeyAlgorithm: 'ec', curve: 'P-384', publicKeyBits: 384, serialHex: '4ac9d8ca1b688413dbb5d993a0431e1e0bd41814' });
  });

  it('GeneralizedTime after 2049 (notmuch test.crt)', () => {
    const c = certOf('public/notmuch/test.crt');
    expect(c.notAfter.toISOString()).toBe('2063-04-05T17:00:00.000Z');
    expect(c.notBefore.toISOString()).toBe('2015-12-14T02:08:10.000Z');
  });

  it('RFC 4134 DER certificate', () => {
    const c = parseCertificate(corpusFile('public/rfc4134-bc-test-data/BobRSASignByCarl.cer'));
    expect(c.subject).toBe('CN=BobRSA');
    expect(c.issuer).toBe('CN=CarlRSA');
  });

  it('garbage and truncation ⇒ key_unreadable', () => {
    const der = corpusFile('public/rfc4134-bc-test-data/BobRSASignByCarl.cer');
    for (const bad of [new Uint8Array(0), new TextEncoder().encode('hello'), der.subarray(0, der.length - 1), der.subarray(0, 40)]) {
      expect(() => parseCertificate(bad)).toThrow(expect.objectContaining({ kind: 'key_unreadable' }));
    }
  });
});

/** Name ::= SEQUENCE OF SET OF SEQUENCE { type, value }, one attribute per RDN. */
const name = (...avas: [string, number, string][]) =>
  seq(...avas.map(([type, tag, value]) => tlv(0x31, seq(oid(type), tlv(tag, new TextEncoder().encode(value))))));
const C = '2.5.4.6';
const O = '2.5.4.10';
const CN = '2.5.4.3';
const PRINTABLE = 0x13;
const UTF8 = 0x0c;

describe('namesEqual (RFC 5280 §7.1)', () => {
  const base = name([C, PRINTABLE, 'DE'], [O, PRINTABLE, 'Example Org'], [CN, PRINTABLE, 'Alice Smith']);

  it('PrintableString and UTF8String of the same text are equal', () => {
    expect(namesEqual(base, name([C, PRINTABLE, 'DE'], [O, UTF8, 'Example Org'], [CN, UTF8, 'Alice Smith']))).toBe(true);
  });

  it('case and insignificant spaces do not matter', () => {
    expect(namesEqual(base, name([C, PRINTABLE, 'de'], [O, UTF8, '  example   ORG '], [CN, UTF8, 'alice  smith']))).toBe(true);
  });

  it('a different CN, a missing RDN or another order are different names', () => {
    expect(namesEqual(base, name([C, PRINTABLE, 'DE'], [O, PRINTABLE, 'Example Org'], [CN, PRINTABLE, 'Bob Smith']))).toBe(false);
    expect(namesEqual(base, name([C, PRINTABLE, 'DE'], [O, PRINTABLE, 'Example Org']))).toBe(false);
    expect(namesEqual(base, name([O, PRINTABLE, 'Example Org'], [C, PRINTABLE, 'DE'], [CN, PRINTABLE, 'Alice Smith']))).toBe(false);
  });

  it('BMPString compares by its text', () => {
    const bmp = tlv(0x1e, Uint8Array.from(Buffer.from('\u0000A\u0000l\u0000i\u0000c\u0000e\u0000 \u0000S\u0000m\u0000i\u0000t\u0000h', 'latin1')));
    const withBmp = seq(tlv(0x31, seq(oid(C), tlv(PRINTABLE, new TextEncoder().encode('DE')))), tlv(0x31, seq(oid(O), tlv(UTF8, new TextEncoder().encode('Example Org')))), tlv(0x31, seq(oid(CN), bmp)));
    expect(namesEqual(base, withBmp)).toBe(true);
  });

  it('a certificate issuer equals its CA subject re-encoded as UTF8String', () => {
    // Lab Test CA's subject, re-encoded: what NSS does when it copies issuer names.
    const c = certOf('producers/keys/rsa2048.pem');
    expect(namesEqual(c.issuerDer, name([CN, UTF8, 'lab test ca']))).toBe(true);
    expect(namesEqual(c.issuerDer, name([CN, UTF8, 'Lab Test CA 2']))).toBe(false);
  });
});
