import { describe, expect, it } from 'vitest';
import { loadCertificates, loadKeyFile } from '../../../src/core/keys/load.js';
import { parsePem } from '../../../src/core/keys/pem.js';
import { corpusFile, fixture, rejectionKind, subtle } from './corpus-paths.js';

const text = (b: Uint8Array) => new TextDecoder().decode(b);
const bytes = (s: string) => new TextEncoder().encode(s);

describe('parsePem', () => {
  it('CRLF, leading text, several blocks and RFC 1421 headers', () => {
    const key = text(fixture('rsa2048.pkcs1-aes256.pem')).replace(/\n/g, '\r\n');
    const cert = text(corpusFile('producers/keys/ca.pem'));
    const blocks = parsePem(`Bag Attributes\r\n    friendlyName: x\r\n${key}\r\nsome words\n${cert}`);
    expect(blocks.map((b) => b.label)).toEqual(['RSA PRIVATE KEY', 'CERTIFICATE']);
    expect(blocks[0]!.headers['Proc-Type']).toBe('4,ENCRYPTED');
    expect(blocks[0]!.headers['DEK-Info']).toMatch(/^AES-256-CBC,[0-9A-F]{32}$/);
    expect(blocks[1]!.headers).toEqual({});
    expect(blocks[1]!.der[0]).toBe(0x30);
  });

  it('no blocks in plain text; bad base64 ⇒ key_unreadable', () => {
    expect(parsePem('nothing here')).toEqual([]);
    expect(() => parsePem('-----BEGIN CERTIFICATE-----\n#!*\n-----END CERTIFICATE-----\n')).toThrow(expect.objectContaining({ kind: 'key_unreadable' }));
  });
});

describe('loadKeyFile', () => {
  it('PEM with two keys and certificates in mixed order: each key gets its own certificate', async () => {
    const b = await loadKeyFile(subtle, fixture('two-keys.pem'), {});
    expect(b.keys.map((k) => k.privateKey.type)).toEqual(['rsa', 'ec']);
    expect(b.keys.map((k) => k.certificate?.subject)).toEqual([expect.stringMatching(/RSA 3072/), expect.stringMatching(/P-256/)]);
    expect(b.keys.every((k) => k.chain.length === 1 && k.chain[0]!.subject === 'CN=Lab Test CA')).toBe(true);
    expect(b.certificates).toHaveLength(3);
  });

  it('openssl pkcs12 -nodes output with Bag Attributes (notmuch key+cert.pem)', async () => {
    const b = await loadKeyFile(subtle, corpusFile('public/notmuch/key+cert.pem'), {});
    expect(b.keys).toHaveLength(1);
    expect(b.keys[0]!.certificate!.subject).toBe('CN=Notmuch Test Suite');
  });

  it('extra certificates pair by public key; unrelated ones do not', async () => {
    const [rsaCert] = await loadCertificates(corpusFile('producers/keys/rsa2048.pem'));
    const [caCert] = await loadCertificates(corpusFile('producers/keys/ca.pem'));
    const [otherCert] = await loadCertificates(corpusFile('producers/keys/rsa3072.pem'));
    const b = await loadKeyFile(subtle, corpusFile('producers/keys/rsa2048.p8.der'), { extraCerts: [otherCert!, caCert!, rsaCert!] });
    expect(b.keys[0]!.certificate!.sha256Fingerprint).toBe(rsaCert!.sha256Fingerprint);
    expect(b.keys[0]!.chain).toEqual([caCert]);
    const alone = await loadKeyFile(subtle, corpusFile('producers/keys/rsa2048.p8.der'), { extraCerts: [otherCert!] });
    expect(alone.keys[0]!.certificate).toBeUndefined();
  });

  it('key ids are the same whichever container holds the key', async () => {
    const ids = await Promise.all([
      loadKeyFile(subtle, corpusFile('producers/keys/rsa2048.key'), {}),
      loadKeyFile(subtle, fixture('rsa2048.pkcs1.der'), {}),
      loadKeyFile(subtle, corpusFile('producers/pkcs12/p12-ossl3-default.p12'), { password: 'test1234' }),
    ]).then((bs) => bs.map((b) => b.keys[0]!.id));
    expect(new Set(ids).size).toBe(1);
    // …and equal to the SHA-256 of the certificate's SubjectPublicKeyInfo.
    const [cert] = await loadCertificates(corpusFile('producers/keys/rsa2048.pem'));
    const spkiHash = Buffer.from(await subtle.digest('SHA-256', cert!.spkiDer as Uint8Array<ArrayBuffer>)).toString('hex');
    expect(ids[0]).toBe(spkiHash);
  });

  it('a certificate-only file gives keys: []', async () => {
    const b = await loadKeyFile(subtle, corpusFile('producers/keys/ca.pem'), {});
    expect(b.keys).toEqual([]);
    expect(b.certificates).toHaveLength(1);
  });

  it('PEM without keys or certificates, and binary junk ⇒ key_unreadable', async () => {
    expect(await rejectionKind(loadKeyFile(subtle, bytes('-----BEGIN X509 CRL-----\nMAA=\n-----END X509 CRL-----\n'), {}))).toBe('key_unreadable');
    expect(await rejectionKind(loadKeyFile(subtle, bytes('just text'), {}))).toBe('key_unreadable');
    expect(await rejectionKind(loadKeyFile(subtle, Uint8Array.from([0x30, 0x82, 0xff, 0xff, 1, 2]), {}))).toBe('key_unreadable');
  });
});

describe('loadCertificates', () => {
  it('PEM bundle, DER, PKCS#7 (.p7b) and TRUSTED CERTIFICATE', async () => {
    const bundle = bytes(text(corpusFile('producers/keys/rsa2048.pem')) + text(corpusFile('producers/keys/ca.pem')));
    expect((await loadCertificates(bundle)).map((c) => c.subject)).toEqual(['emailAddress=rsa2048@example.test, CN=RSA 2048 Recipient', 'CN=Lab Test CA']);
    expect((await loadCertificates(corpusFile('public/rfc4134-bc-test-data/CarlRSASelf.cer')))[0]!.subject).toBe('CN=CarlRSA');
    expect((await loadCertificates(fixture('chain.p7b'))).map((c) => c.subject)).toEqual(['emailAddress=rsa2048@example.test, CN=RSA 2048 Recipient', 'CN=Lab Test CA']);
    expect((await loadCertificates(fixture('ca.trusted.pem')))[0]!.subject).toBe('CN=Lab Test CA');
  });

  it('no certificate ⇒ key_unreadable', async () => {
    expect(await rejectionKind(loadCertificates(corpusFile('producers/keys/rsa2048.key')))).toBe('key_unreadable');
    expect(await rejectionKind(loadCertificates(bytes('garbage')))).toBe('key_unreadable');
  });
});
