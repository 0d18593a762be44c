import { describe, expect, it } from 'vitest';
import { children, readTlv } from '../../../src/core/asn1/ber.js';
import { concatBytes, hexEncode } from '../../../src/core/bytes.js';
import { verifySignedData } from '../../../src/core/cms/signed.js';
import { bytes, CORPUS, FIXTURES, pemCerts, subtle } from './helpers.js';

const P = `${CORPUS}producers/`;
const plain = bytes(`${P}plain.txt`);
const labCa = pemCerts(`${P}keys/ca.pem`);
const fx = (name: string): Uint8Array => bytes(`${FIXTURES}${name}`);
const now = new Date('2027-06-01T00:00:00Z');

/** BER header with indefinite length. */
const indef = (id: number): Uint8Array => Uint8Array.of(id, 0x80);
const EOC = Uint8Array.of(0, 0);

function derHeader(id: number, len: number): Uint8Array {
  if (len < 0x80) return Uint8Array.of(id, len);
  const b: number[] = [];
  for (let x = len; x > 0; x = Math.floor(x / 256)) b.unshift(x & 0xff);
  return Uint8Array.of(id, 0x80 | b.length, ...b);
}

/**
 * Re-encodes a DER SignedData the way NSS writes it: every outer level indefinite-length and the
 * content as a constructed OCTET STRING of `chunk`-byte pieces. The signature is unaffected (it
 * covers the content octets and the signed attributes, not the framing).
 */
function toNssBer(der: Uint8Array, content: Uint8Array, chunk: number): Uint8Array {
  const top = readTlv(der, 0);
  const [ct, wrap] = children(der, top);
  const [sd] = children(der, wrap!);
  const f = children(der, sd!);
  const eci = children(der, f[2]!);
  const raw = (t: { start: number; end: number }): Uint8Array => der.subarray(t.start, t.end);
  const pieces: Uint8Array[] = [];
  for (let o = 0; o < content.length; o += chunk) {
    const c = content.subarray(o, o + chunk);
    pieces.push(derHeader(0x04, c.length), c);
  }
  return concatBytes([
    indef(0x30), raw(ct!), indef(0xa0), indef(0x30), raw(f[0]!), raw(f[1]!),
    indef(0x30), raw(eci[0]!), indef(0xa0), indef(0x24), ...pieces, EOC, EOC, EOC,
    ...f.slice(3).map(raw), EOC, EOC, EOC,
  ]);
}

describe('algorithm and structure coverage (fixtures from make.sh, OpenSSL 3.0)', () => {
  it('subjectKeyIdentifier signer id', async () => {
    const r = await verifySignedData(subtle, fx('rsa-sha256-ski.der'), { trustAnchors: labCa, now });
    expect(r.signers[0]).toMatchObject({ signatureValid: true, certificateStatus: 'valid', email: 'rsa2048@example.test' });
  });

  it('no signed attributes, opaque: the signature covers the content itself; validity judged at now', async () => {
    const r = await verifySignedData(subtle, fx('rsa-sha256-noattr.der'), { trustAnchors: labCa, now });
    expect(r.content).toEqual(plain);
    expect(r.signers[0]).toMatchObject({ signatureValid: true, certificateStatus: 'valid' });
    expect(r.signers[0]!.signingTime).toBeUndefined();
    const late = await verifySignedData(subtle, fx('rsa-sha256-noattr.der'), { trustAnchors: labCa, now: new Date('2030-01-01T00:00:00Z') });
    expect(late.signers[0]).toMatchObject({ signatureValid: true, certificateStatus: 'expired' });
  });

  it('no signed attributes, detached, with a tampered copy', async () => {
    const ok = await verifySignedData(subtle, fx('rsa-sha256-noattr-detached.der'), { detachedContent: plain, trustAnchors: labCa, now });
    expect(ok.signers[0]!.signatureValid).toBe(true);
    const bad = plain.slice();
    bad[0]! ^= 1;
    const r = await verifySignedData(subtle, fx('rsa-sha256-noattr-detached.der'), { detachedContent: bad, trustAnchors: labCa, now });
    expect(r.signers[0]!.signatureValid).toBe(false);
    expect(r.signers[0]!.error).toMatch(/does not verify/);
  });

  it('ECDSA P-256, SKI signer id, no signed attributes', async () => {
    const r = await verifySignedData(subtle, fx('ecdsa-p256-ski-noattr.der'), { trustAnchors: labCa, now });
    expect(r.signers[0]).toMatchObject({ signatureValid: true, certificateStatus: 'valid', signatureAlgorithm: 'ECDSA', email: 'ecp256@example.test' });
  });

  it('ECDSA P-521 with SHA-512', async () => {
    const r = await verifySignedData(subtle, fx('ecdsa-p521-sha512.der'), { trustAnchors: labCa, now });
    expect(r.signers[0]).toMatchObject({ signatureValid: true, certificateStatus: 'valid', signatureAlgorithm: 'ECDSA', digestAlgorithm: 'SHA-512', email: 'ecp521@example.test' });
  });

  it('RSA SHA-512 (3072-bit) and RSA-PSS SHA-384 with 48-byte salt (4096-bit)', async () => {
    const a = await verifySignedData(subtle, fx('rsa-sha512.der'), { trustAnchors: labCa, now });
    expect(a.signers[0]).toMatchObject({ signatureValid: true, digestAlgorithm: 'SHA-512', signatureAlgorithm: 'RSASSA-PKCS1-v1_5', email: 'rsa3072@example.test' });
    const b = await verifySignedData(subtle, fx('pss-sha384.der'), { trustAnchors: labCa, now });
    expect(b.signers[0]).toMatchObject({ signatureValid: true, digestAlgorithm: 'SHA-384', signatureAlgorithm: 'RSA-PSS', email: 'rsa4096@example.test' });
  });

  it('SHA-224 and MD5 (not in WebCrypto) verify through the BigInt RSA path; MD5 is weak', async () => {
    const a = await verifySignedData(subtle, fx('rsa-sha224.der'), { trustAnchors: labCa, now });
    expect(a.signers[0]).toMatchObject({ signatureValid: true, certificateStatus: 'valid', digestAlgorithm: 'SHA-224', weakDigest: false });
    const b = await verifySignedData(subtle, fx('rsa-md5.der'), { trustAnchors: labCa, now });
    expect(b.signers[0]).toMatchObject({ signatureValid: true, certificateStatus: 'valid', digestAlgorithm: 'MD5', weakDigest: true });
  });

  it('the BigInt path rejects a damaged signature', async () => {
    const der = fx('rsa-sha224.der').slice();
    der[der.length - 10]! ^= 0x40; // inside the RSA signature, the last field
    const r = await verifySignedData(subtle, der, { trustAnchors: labCa, now });
    expect(r.signers[0]!.signatureValid).toBe(false);
    expect(r.signers[0]!.error).toMatch(/does not verify/);
  });

  it('two signers are reported separately', async () => {
    const r = await verifySignedData(subtle, fx('two-signers.der'), { trustAnchors: labCa, now });
    expect(r.certificates).toHaveLength(2);
    // DER sorts SET OF by encoding, so the order is not the command-line order.
    const rows = r.signers.map((s) => [s.email, s.signatureAlgorithm, s.signatureValid, s.certificateStatus]);
    expect(rows.sort((a, b) => String(a[0]).localeCompare(String(b[0])))).toEqual([
      ['ecp384@example.test', 'ECDSA', true, 'valid'],
      ['rsa2048@example.test', 'RSASSA-PKCS1-v1_5', true, 'valid'],
    ]);
  });

  it('a signer certificate that is not carried: unknown-signer, unless the caller knows the certificate', async () => {
    const r = await verifySignedData(subtle, fx('rsa-nocerts.der'), { trustAnchors: labCa, now });
    expect(r.certificates).toHaveLength(0);
    expect(r.signers[0]).toMatchObject({ signatureValid: false, certificateStatus: 'unknown-signer' });
    expect(r.signers[0]!.error).toMatch(/not included/);
    const known = await verifySignedData(subtle, fx('rsa-nocerts.der'), { trustAnchors: [...labCa, ...pemCerts(`${P}keys/rsa2048.pem`)], now });
    expect(known.signers[0]).toMatchObject({ signatureValid: true, certificateStatus: 'valid', email: 'rsa2048@example.test' });
  });

  it('NSS-style BER (indefinite lengths, 1-byte … 4 KiB chunks) verifies the same as DER', async () => {
    for (const chunk of [1, 7, 1000, 4096]) {
      const ber = toNssBer(fx('rsa-sha256-ski.der'), plain, chunk);
      const r = await verifySignedData(subtle, ber, { trustAnchors: labCa, now });
      expect(r.content).toEqual(plain);
      expect(r.signers[0]).toMatchObject({ signatureValid: true, certificateStatus: 'valid' });
    }
  });
});

describe('certificate chains (chain/: root RSA → intermediate P-384 → leaf P-256)', () => {
  const root = pemCerts(`${FIXTURES}chain/root.pem`);
  const inter = pemCerts(`${FIXTURES}chain/inter.pem`);

  it('a carried intermediate links the signer to the root', async () => {
    const r = await verifySignedData(subtle, fx('chain/leaf.der'), { trustAnchors: root, now });
    expect(r.certificates).toHaveLength(2);
    expect(r.signers[0]).toMatchObject({
      signatureValid: true,
      certificateStatus: 'valid',
      subject: 'CN=Chain leaf, O=Unseal Test',
      issuer: 'CN=Chain Intermediate, O=Unseal Test',
      email: 'chain@example.test',
      serialHex: '0a',
    });
  });

  it('the intermediate alone may be the anchor', async () => {
    const r = await verifySignedData(subtle, fx('chain/leaf.der'), { trustAnchors: inter, now });
    expect(r.signers[0]!.certificateStatus).toBe('valid');
  });

  it('an unrelated anchor or none: untrusted', async () => {
    expect((await verifySignedData(subtle, fx('chain/leaf.der'), { trustAnchors: labCa, now })).signers[0]!.certificateStatus).toBe('untrusted');
    expect((await verifySignedData(subtle, fx('chain/leaf.der'), { now })).signers[0]!.certificateStatus).toBe('untrusted');
  });

  it('a forged link (leaf certificate signature damaged) is untrusted, while the message signature still verifies', async () => {
    const der = fx('chain/leaf.der').slice();
    const leaf = pemCerts(`${FIXTURES}chain/leaf.pem`)[0]!;
    const at = hexEncode(der).indexOf(hexEncode(leaf)) / 2;
    expect(at).toBeGreaterThan(0);
    der[at + leaf.length - 3]! ^= 0x01;
    const r = await verifySignedData(subtle, der, { trustAnchors: root, now });
    expect(r.signers[0]!.signatureValid).toBe(true);
    expect(r.signers[0]!.certificateStatus).toBe('untrusted');
    expect(r.signers[0]!.certificateDetail).toBe('the signature of "CN=Chain Intermediate, O=Unseal Test" on "CN=Chain leaf, O=Unseal Test" does not verify');
  });

  it('a certificate for TLS servers only (extKeyUsage serverAuth) is not a mail signer', async () => {
    const r = await verifySignedData(subtle, fx('chain/server.der'), { trustAnchors: root, now });
    expect(r.signers[0]).toMatchObject({ signatureValid: true, certificateStatus: 'untrusted' });
    expect(r.signers[0]!.certificateDetail).toMatch(/e-mail protection/);
  });

  it('an end-entity certificate (CA:FALSE) cannot act as an issuer', async () => {
    const r = await verifySignedData(subtle, fx('chain/underfake.der'), { trustAnchors: root, now });
    expect(r.signers[0]).toMatchObject({ signatureValid: true, certificateStatus: 'untrusted' });
    expect(r.signers[0]!.certificateDetail).toBe('"CN=Chain fakeca, O=Unseal Test" is not a certificate authority');
  });
});

describe('large opaque message', () => {
  it('12 MiB in NSS-style 4 KiB chunks verifies quickly (BER reader, no asn1js tree)', async () => {
    const line = (i: number): string => `line ${String(i).padStart(8, '0')}\r\n`;
    const size = 12 * 1024 * 1024;
    const content = new Uint8Array(size);
    const enc = new TextEncoder();
    for (let i = 0, o = 0; o < size; i++) {
      const b = enc.encode(line(i));
      content.set(b.subarray(0, size - o), o);
      o += b.length;
    }
    expect(hexEncode(new Uint8Array(await subtle.digest('SHA-256', content)))).toBe(new TextDecoder().decode(fx('large.sha256')).trim());
    const ber = toNssBer(fx('large-detached.der'), content, 4096);
    const t0 = performance.now();
    const r = await verifySignedData(subtle, ber, { trustAnchors: labCa, now });
    const ms = performance.now() - t0;
    expect(r.detached).toBe(false);
    expect(r.content.length).toBe(size);
    expect(r.signers[0]).toMatchObject({ signatureValid: true, certificateStatus: 'valid' });
    expect(ms).toBeLessThan(2000);
  });
});
