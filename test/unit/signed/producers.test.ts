import { describe, expect, it } from 'vitest';
import { canonicalizeMime, verifySignedData } from '../../../src/core/cms/signed.js';
import { UnsealError } from '../../../src/core/errors.js';
import { parseCertificate } from '../../../src/core/keys/certificate.js';
import { bytes, CORPUS, pemCerts, subtle } from './helpers.js';

const P = `${CORPUS}producers/`;
const plain = bytes(`${P}plain.txt`);
const anchors = [...pemCerts(`${P}keys/ca.pem`), ...pemCerts(`${P}keys/oldca.pem`)];
const signed = (name: string): Uint8Array => bytes(`${P}signed/${name}.der`);
// The corpus certificates start on 2026-12-03 18:08; pinning the clock keeps results stable.
const now = new Date('2027-06-01T00:00:00Z');

describe('verifySignedData on the producers corpus (OpenSSL 3.0)', () => {
  it('RSA PKCS#1 v1.5 SHA-256, opaque', async () => {
    const r = await verifySignedData(subtle, signed('ossl-signed-rsa15-sha256-opaque'), { trustAnchors: anchors, now });
    expect(r.detached).toBe(false);
    expect(r.eContentType).toBe('1.2.840.113549.1.7.1');
    expect(r.content).toEqual(plain);
    expect(r.certificates).toHaveLength(1);
    expect(r.signers).toHaveLength(1);
    const s = r.signers[0]!;
    expect(s).toMatchObject({
      signatureValid: true,
      certificateStatus: 'valid',
      digestAlgorithm: 'SHA-256',
      signatureAlgorithm: 'RSASSA-PKCS1-v1_5',
      weakDigest: false,
      subject: 'emailAddress=rsa2048@example.test, CN=RSA 2048 Recipient',
      email: 'rsa2048@example.test',
      issuer: 'CN=Lab Test CA',
      serialHex: '4ac9d8ca1b688413dbb5d993a0431e1e0bd4180f',
      signingTime: '2026-12-03T18:18:38.000Z',
    });
    expect(s.error).toBeUndefined();
    expect(s.certificateDer).toEqual(r.certificates[0]);
    // The report describes the certificate exactly as the key store does.
    const info = parseCertificate(s.certificateDer!);
    expect([info.subject, info.issuer, info.serialHex]).toEqual([s.subject, s.issuer, s.serialHex]);
  });

  it('RSA PKCS#1 v1.5 SHA-256, detached over plain.txt', async () => {
    const r = await verifySignedData(subtle, signed('ossl-signed-rsa15-sha256-detached'), { detachedContent: plain, trustAnchors: anchors, now });
    expect(r.detached).toBe(true);
    expect(r.content).toBe(plain);
    expect(r.signers[0]).toMatchObject({ signatureValid: true, certificateStatus: 'valid', digestAlgorithm: 'SHA-256' });
  });

  it('a detached signature without its content is reported, not thrown', async () => {
    const r = await verifySignedData(subtle, signed('ossl-signed-rsa15-sha256-detached'), { trustAnchors: anchors, now });
    expect(r.detached).toBe(true);
    expect(r.content).toHaveLength(0);
    expect(r.signers[0]!.signatureValid).toBe(false);
    expect(r.signers[0]!.error).toMatch(/content was not supplied/);
  });

  it('detached content stored with bare LF verifies after CRLF canonicalisation', async () => {
    const text = new TextDecoder().decode(plain);
    expect(text.split('\r\n')).toHaveLength(45); // plain.txt is canonical CRLF MIME
    const lf = new TextEncoder().encode(text.replace(/\r\n/g, '\n'));
    const r = await verifySignedData(subtle, signed('ossl-signed-rsa15-sha256-detached'), { detachedContent: lf, trustAnchors: anchors, now });
    expect(r.signers[0]).toMatchObject({ signatureValid: true, certificateStatus: 'valid' });
    // The result reports the bytes the caller passed, not the canonical copy.
    expect(r.content).toBe(lf);
  });

  it('canonicalisation only adds CRs: a doubled line ending still fails', async () => {
    const text = new TextDecoder().decode(plain);
    const changed = new TextEncoder().encode(text.replace('\r\n', '\r\n\n'));
    const r = await verifySignedData(subtle, signed('ossl-signed-rsa15-sha256-detached'), { detachedContent: changed, trustAnchors: anchors, now });
    expect(r.signers[0]!.signatureValid).toBe(false);
    expect(r.signers[0]!.error).toMatch(/digest mismatch/);
  });

  it('RSA-PSS SHA-256', async () => {
    const r = await verifySignedData(subtle, signed('ossl-signed-rsapss-sha256-opaque'), { trustAnchors: anchors, now });
    expect(r.signers[0]).toMatchObject({ signatureValid: true, certificateStatus: 'valid', signatureAlgorithm: 'RSA-PSS', digestAlgorithm: 'SHA-256', email: 'rsa2048@example.test' });
    expect(r.content).toEqual(plain);
  });

  it.each([
    ['ossl-signed-ecdsa-p256-sha256-opaque', 'SHA-256', 'ecp256@example.test'],
    ['ossl-signed-ecdsa-p384-sha384-opaque', 'SHA-384', 'ecp384@example.test'],
  ])('ECDSA %s', async (name, digest, email) => {
    const r = await verifySignedData(subtle, signed(name), { trustAnchors: anchors, now });
    expect(r.signers[0]).toMatchObject({ signatureValid: true, certificateStatus: 'valid', signatureAlgorithm: 'ECDSA', digestAlgorithm: digest, email, weakDigest: false });
    expect(r.content).toEqual(plain);
  });

  it('SHA-1 verifies but is flagged weak', async () => {
    const r = await verifySignedData(subtle, signed('ossl-signed-rsa15-sha1-opaque'), { trustAnchors: anchors, now });
    expect(r.signers[0]).toMatchObject({ signatureValid: true, certificateStatus: 'valid', digestAlgorithm: 'SHA-1', weakDigest: true });
  });

  it('a certificate that expired in 2021 is valid for a signature made in 2020 (signingTime)', async () => {
    const r = await verifySignedData(subtle, signed('ossl-signed-expiredcert-signingtime2020-opaque'), { trustAnchors: anchors, now });
    expect(r.signers[0]).toMatchObject({
      signatureValid: true,
      certificateStatus: 'valid',
      signingTime: '2020-06-01T12:00:01.000Z',
      subject: 'emailAddress=expired@example.test, CN=Expired signer (old CA)',
      issuer: 'CN=Lab Old CA (2019)',
      serialHex: '2000',
    });
  });

  it('the same certificate used after expiry is reported expired, with a valid signature', async () => {
    const r = await verifySignedData(subtle, signed('ossl-signed-expiredcert-signingtimenow-opaque'), { trustAnchors: anchors, now });
    const s = r.signers[0]!;
    expect(s.signatureValid).toBe(true);
    expect(s.certificateStatus).toBe('expired');
    expect(s.signingTime).toBe('2026-12-03T18:18:51.000Z');
    expect(s.certificateDetail).toMatch(/expired 2021-01-01T00:00:00.000Z/);
  });

  it('without trust anchors the certificate is untrusted but the signature still verifies', async () => {
    const r = await verifySignedData(subtle, signed('ossl-signed-rsa15-sha256-opaque'), { now });
    expect(r.signers[0]).toMatchObject({ signatureValid: true, certificateStatus: 'untrusted' });
    expect(r.signers[0]!.certificateDetail).toMatch(/no trust anchors/);
  });

  it('the wrong trust anchor leaves the certificate untrusted', async () => {
    const r = await verifySignedData(subtle, signed('ossl-signed-rsa15-sha256-opaque'), { trustAnchors: pemCerts(`${P}keys/oldca.pem`), now });
    expect(r.signers[0]).toMatchObject({ signatureValid: true, certificateStatus: 'untrusted' });
    expect(r.signers[0]!.certificateDetail).toBe('issuer "CN=Lab Test CA" is not a trusted authority');
  });

  it('the signer certificate itself may be the trust anchor', async () => {
    const r = await verifySignedData(subtle, signed('ossl-signed-rsa15-sha256-opaque'), { trustAnchors: pemCerts(`${P}keys/rsa2048.pem`), now });
    expect(r.signers[0]).toMatchObject({ signatureValid: true, certificateStatus: 'valid' });
  });

  it('validity without signingTime falls back to `now`: not yet valid before the certificate starts', async () => {
    // Only a valid signature makes signingTime count; at 2026-01-01 the chain is checked at `now`
    // for a signature made later, which is impossible, so now is used → not-yet-valid.
    const r = await verifySignedData(subtle, signed('ossl-signed-rsa15-sha256-opaque'), { trustAnchors: anchors, now: new Date('2026-01-01T00:00:00Z') });
    expect(r.signers[0]).toMatchObject({ signatureValid: true, certificateStatus: 'not-yet-valid' });
  });

  it('a flipped content byte makes the signature invalid (opaque)', async () => {
    const der = signed('ossl-signed-rsa15-sha256-opaque').slice();
    const at = indexOf(der, plain.subarray(0, 32));
    expect(at).toBeGreaterThan(0);
    der[at + 5]! ^= 0x01;
    const r = await verifySignedData(subtle, der, { trustAnchors: anchors, now });
    expect(r.signers[0]!.signatureValid).toBe(false);
    expect(r.signers[0]!.error).toMatch(/digest mismatch/);
    // The certificate is still judged on its own.
    expect(r.signers[0]!.certificateStatus).toBe('valid');
  });

  it('a flipped content byte makes the signature invalid (detached)', async () => {
    const content = plain.slice();
    content[100]! ^= 0x20;
    const r = await verifySignedData(subtle, signed('ossl-signed-rsa15-sha256-detached'), { detachedContent: content, trustAnchors: anchors, now });
    expect(r.signers[0]!.signatureValid).toBe(false);
  });

  it('a flipped signature byte makes the signature invalid', async () => {
    const der = signed('ossl-signed-ecdsa-p256-sha256-opaque').slice();
    // The ECDSA signature value is the last OCTET STRING; flip a byte near the end of the file.
    der[der.length - 5]! ^= 0x01;
    const r = await verifySignedData(subtle, der, { trustAnchors: anchors, now });
    expect(r.signers[0]!.signatureValid).toBe(false);
    expect(r.signers[0]!.error).toMatch(/does not verify/);
  });

  it('throws malformed_cms for unreadable structure and for a non-SignedData', async () => {
    const der = signed('ossl-signed-rsa15-sha256-opaque');
    await expect(verifySignedData(subtle, der.subarray(0, 200), {})).rejects.toMatchObject({ kind: 'malformed_cms' });
    await expect(verifySignedData(subtle, bytes(`${P}enveloped/nss-rsa2048.der`), {})).rejects.toBeInstanceOf(UnsealError);
    await expect(verifySignedData(subtle, new Uint8Array([1, 2, 3]), {})).rejects.toMatchObject({ kind: 'malformed_cms' });
  });
});

describe('canonicalizeMime', () => {
  const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
  it('turns bare LF into CRLF and leaves CRLF and lone CR alone', () => {
    expect(new TextDecoder().decode(canonicalizeMime(enc('a\nb\r\nc\rd\n\n')))).toBe('a\r\nb\r\nc\rd\r\n\r\n');
    expect(new TextDecoder().decode(canonicalizeMime(enc('\nx')))).toBe('\r\nx');
  });
  it('returns the same array when already canonical', () => {
    const b = enc('a\r\nb\r\n');
    expect(canonicalizeMime(b)).toBe(b);
  });
});

function indexOf(hay: Uint8Array, needle: Uint8Array): number {
  outer: for (let i = 0; i + needle.length <= hay.length; i++) {
    for (let j = 0; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}
