import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { children, readTlv } from '../../../src/core/asn1/ber.js';
import { base64Decode, concatBytes } from '../../../src/core/bytes.js';
import { verifySignedData } from '../../../src/core/cms/signed.js';
import { bytes, CORPUS, FIXTURES, pemCerts, subtle } from './helpers.js';

/**
 * SignedData built here, signed with WebCrypto Ed25519 (RFC 8419), to reach what OpenSSL will not
 * produce: Ed25519 itself, and signed attributes that break RFC 5652 §5.3 rules while carrying a
 * perfectly good signature.
 */
const plain = bytes(`${CORPUS}producers/plain.txt`);
const cert = pemCerts(`${FIXTURES}ed25519.pem`)[0]!;
const now = new Date('2027-06-01T00:00:00Z');

function tlv(tag: number, ...content: Uint8Array[]): Uint8Array {
  const c = concatBytes(content);
  const len: number[] = [];
  if (c.length < 0x80) len.push(c.length);
  else {
    for (let x = c.length; x > 0; x = Math.floor(x / 256)) len.unshift(x & 0xff);
    len.unshift(0x80 | len.length);
  }
  return concatBytes([Uint8Array.of(tag, ...len), c]);
}
const oid = (hex: string): Uint8Array => tlv(0x06, Uint8Array.from(hex.match(/../g)!.map((h) => parseInt(h, 16))));
const OID_DATA = oid('2a864886f70d010701');
const OID_SIGNED = oid('2a864886f70d010702');
const OID_SHA512 = oid('608648016503040203');
const OID_ED25519 = oid('2b6570');
const OID_CT = oid('2a864886f70d010903');
const OID_MD = oid('2a864886f70d010904');
const OID_ST = oid('2a864886f70d010905');
const attr = (type: Uint8Array, ...values: Uint8Array[]): Uint8Array => tlv(0x30, type, tlv(0x31, ...values));

async function key(): Promise<CryptoKey> {
  const pem = readFileSync(`${FIXTURES}ed25519.key`, 'latin1').replace(/-----[^-]+-----/g, '');
  return subtle.importKey('pkcs8', base64Decode(pem) as Uint8Array<ArrayBuffer>, { name: 'Ed25519' }, false, ['sign']);
}

function issuerAndSerial(): Uint8Array {
  const tbs = children(cert, children(cert, readTlv(cert, 0))[0]!);
  const [, serial, , issuer] = tbs; // [0] version, serial, signature, issuer
  return tlv(0x30, cert.subarray(issuer!.start, issuer!.end), cert.subarray(serial!.start, serial!.end));
}

async function build(opts: { attrs?: Uint8Array[]; eContentType?: Uint8Array; content?: Uint8Array }): Promise<Uint8Array> {
  const k = await key();
  const content = opts.content ?? plain;
  let signedAttrs = new Uint8Array(0);
  let toSign = content;
  if (opts.attrs) {
    const set = tlv(0x31, ...opts.attrs);
    toSign = set;
    signedAttrs = set.slice();
    signedAttrs[0] = 0xa0;
  }
  const sig = new Uint8Array(await subtle.sign('Ed25519', k, toSign as Uint8Array<ArrayBuffer>));
  const signerInfo = tlv(0x30, tlv(0x02, Uint8Array.of(1)), issuerAndSerial(), tlv(0x30, OID_SHA512), signedAttrs, tlv(0x30, OID_ED25519), tlv(0x04, sig));
  const sd = tlv(
    0x30,
    tlv(0x02, Uint8Array.of(1)),
    tlv(0x31, tlv(0x30, OID_SHA512)),
    tlv(0x30, opts.eContentType ?? OID_DATA, tlv(0xa0, tlv(0x04, plain))),
    tlv(0xa0, cert),
    tlv(0x31, signerInfo),
  );
  return tlv(0x30, OID_SIGNED, tlv(0xa0, sd));
}

const sha512 = async (b: Uint8Array): Promise<Uint8Array> => new Uint8Array(await subtle.digest('SHA-512', b as Uint8Array<ArrayBuffer>));

describe('hand-built SignedData (Ed25519, RFC 8419)', () => {
  it('Ed25519 without signed attributes', async () => {
    const r = await verifySignedData(subtle, await build({}), { trustAnchors: [cert], now });
    expect(r.signers[0]).toMatchObject({
      signatureValid: true,
      certificateStatus: 'valid',
      signatureAlgorithm: 'Ed25519',
      digestAlgorithm: 'SHA-512',
      subject: 'emailAddress=ed@example.test, CN=Ed25519 signer',
      email: 'ed@example.test',
      serialHex: '4d',
    });
  });

  it('Ed25519 with signed attributes, including a GeneralizedTime signingTime', async () => {
    const attrs = [attr(OID_CT, OID_DATA), attr(OID_ST, tlv(0x18, new TextEncoder().encode('20270101120000Z'))), attr(OID_MD, tlv(0x04, await sha512(plain)))];
    const r = await verifySignedData(subtle, await build({ attrs }), { trustAnchors: [cert], now });
    expect(r.signers[0]).toMatchObject({ signatureValid: true, certificateStatus: 'valid', signingTime: '2027-01-01T12:00:00.000Z' });
  });

  it('a signingTime later than now is not believed: validity is judged at now', async () => {
    const attrs = [attr(OID_CT, OID_DATA), attr(OID_ST, tlv(0x17, new TextEncoder().encode('400101000000Z'))), attr(OID_MD, tlv(0x04, await sha512(plain)))];
    const r = await verifySignedData(subtle, await build({ attrs }), { trustAnchors: [cert], now: new Date('2026-06-01T00:00:00Z') });
    // 2026-06 is before the certificate starts; 2040 would be after it ends. Either way not 'valid',
    // and the report shows the claim as signed.
    expect(r.signers[0]).toMatchObject({ signatureValid: true, certificateStatus: 'not-yet-valid', signingTime: '2040-01-01T00:00:00.000Z' });
  });

  it('signed attributes without messageDigest ⇒ invalid even though the signature itself is good', async () => {
    const r = await verifySignedData(subtle, await build({ attrs: [attr(OID_CT, OID_DATA)] }), { trustAnchors: [cert], now });
    expect(r.signers[0]).toMatchObject({ signatureValid: false, certificateStatus: 'valid' });
    expect(r.signers[0]!.error).toMatch(/lack contentType or messageDigest/);
  });

  it('contentType attribute different from eContentType ⇒ invalid', async () => {
    const attrs = [attr(OID_CT, OID_SIGNED), attr(OID_MD, tlv(0x04, await sha512(plain)))];
    const r = await verifySignedData(subtle, await build({ attrs }), { trustAnchors: [cert], now });
    expect(r.signers[0]!.signatureValid).toBe(false);
    expect(r.signers[0]!.error).toMatch(/contentType attribute differs/);
  });

  it('a repeated messageDigest attribute ⇒ invalid', async () => {
    const md = attr(OID_MD, tlv(0x04, await sha512(plain)));
    const r = await verifySignedData(subtle, await build({ attrs: [attr(OID_CT, OID_DATA), md, md] }), { trustAnchors: [cert], now });
    expect(r.signers[0]!.signatureValid).toBe(false);
  });

  it('a signature by a different key does not verify', async () => {
    const other = await subtle.generateKey({ name: 'Ed25519' }, false, ['sign', 'verify']);
    const der = await build({});
    const sig = new Uint8Array(await subtle.sign('Ed25519', (other as CryptoKeyPair).privateKey, plain as Uint8Array<ArrayBuffer>));
    const at = der.length - 64; // the signature is the last 64 bytes of this encoding
    der.set(sig, at);
    const r = await verifySignedData(subtle, der, { trustAnchors: [cert], now });
    expect(r.signers[0]!.signatureValid).toBe(false);
  });
});
