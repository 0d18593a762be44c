/**
 * Private keys in every container a user is likely to have: PKCS#8 PrivateKeyInfo /
 * OneAsymmetricKey (RFC 5958), EncryptedPrivateKeyInfo, PKCS#1 RSAPrivateKey (RFC 8017 A.1.2)
 * and SEC1 ECPrivateKey (RFC 5915). Everything comes out with a normalised PKCS#8 that WebCrypto
 * in both Gecko and Node imports: rsaEncryption (also for RSA-PSS-tagged keys, which WebCrypto
 * refuses for decryption), EC keys always with their public point, X25519/X448 as version 0.
 */
import { base64Decode, bytesEqual } from '../bytes.js';
import { children, octets, oid as readOid, readTlv, smallInt } from '../asn1/ber.js';
import { isUnsealError } from '../errors.js';
import { bitLength } from '../crypto/bigint.js';
import { bytesToBigInt, type RsaPrivateKey } from '../crypto/rsa.js';
import { passwordToBmp } from '../crypto/kdf.js';
import { bitString, derNull, octetString, oid, seq, tlv, uint } from './der-writer.js';
import { parsingAsync, unreadable, unsupported, wrongPassword } from './key-errors.js';
import { pbeDecrypt, type PasswordForm } from './pbe.js';
import { curveOfParams } from './ec-curves.js';
import { CURVE_OID, CURVES, KEY_OID, isRsaOid } from './public-key.js';
import type { EcCurve, PrivateKeyMaterial } from './types.js';

const KEY_ALG_NAMES: Record<string, string> = {
  [KEY_OID.ed25519]: 'Ed25519',
  [KEY_OID.ed448]: 'Ed448',
  [KEY_OID.dsa]: 'DSA',
  '1.2.840.10046.2.1': 'X9.42 DH',
  '1.2.643.7.1.1.1.1': 'GOST R 34.10-2012',
};

export async function parsePrivateKey(crypto: SubtleCrypto, der: Uint8Array, label?: string, password?: string): Promise<PrivateKeyMaterial> {
  return parsingAsync('private key', async () => {
    const shape = keyShape(der);
    if (shape === 'encrypted-pkcs8' || label === 'ENCRYPTED PRIVATE KEY') {
      const plain = await decryptPkcs8(crypto, der, passwordForms(password), 'the private key');
      return privateKeyFromPkcs8(crypto, plain);
    }
    switch (shape) {
      case 'pkcs8':
        return privateKeyFromPkcs8(crypto, der);
      case 'pkcs1':
        return rsaMaterial(der);
      case 'sec1':
        return ecMaterial(crypto, der, undefined);
      default:
        unreadable('private key', label ? `unrecognised "${label}" structure` : 'not a PKCS#8, PKCS#1 or SEC1 key');
    }
  });
}

export type KeyShape = 'encrypted-pkcs8' | 'pkcs8' | 'pkcs1' | 'sec1' | undefined;

/** Tells the DER key containers apart by their first fields. */
export function keyShape(der: Uint8Array): KeyShape {
  try {
    const top = readTlv(der, 0);
    if (top.tag !== 16 || !top.constructed) return undefined;
    const c = children(der, top);
    const [a, b, d] = c;
    if (!a || !b) return undefined;
    if (c.length === 2 && a.tag === 16 && b.tag === 4) return 'encrypted-pkcs8';
    if (a.tag !== 2) return undefined;
    if (b.tag === 16 && d?.tag === 4) return 'pkcs8';
    if (b.tag === 4 && smallInt(der, a) === 1) return 'sec1';
    if (c.length >= 9 && c.slice(0, 9).every((t) => t.tag === 2)) return 'pkcs1';
  } catch {
    // not DER at all
  }
  return undefined;
}

/**
 * The encodings to try for a password. An empty or absent password is ambiguous for the
 * BMPString-based PKCS#12 KDF: OpenSSL's `-passout pass:` and NSS use the terminator `00 00`,
 * while Windows and `PKCS12_parse(…, NULL, …)` use zero bytes. OpenSSL tries both on import
 * (NULL first), and so does this. For a non-ASCII password, pre-3.0 OpenSSL turned each UTF-8
 * byte into one BMP character; that form is the last resort, as OpenSSL's own `pkcs12` does.
 */
export function passwordForms(password: string | undefined): PasswordForm[] {
  const pw = password ?? '';
  const utf8 = new TextEncoder().encode(pw);
  if (pw === '') {
    const zero = { utf8, bmp: new Uint8Array(0) };
    const term = { utf8, bmp: passwordToBmp('') };
    return password === undefined ? [zero, term] : [term, zero];
  }
  const forms = [{ utf8, bmp: passwordToBmp(pw) }];
  if (/[^\x00-\x7f]/.test(pw)) forms.push({ utf8, bmp: passwordToBmp(String.fromCharCode(...utf8)) });
  return forms;
}

/** EncryptedPrivateKeyInfo → PrivateKeyInfo DER; every form fails ⇒ 'wrong_password'. */
export async function decryptPkcs8(crypto: SubtleCrypto, der: Uint8Array, forms: readonly PasswordForm[], what: string): Promise<Uint8Array> {
  const top = readTlv(der, 0);
  const [algT, dataT] = children(der, top);
  if (!algT || !dataT || algT.tag !== 16 || dataT.tag !== 4) unreadable(what, 'not an EncryptedPrivateKeyInfo');
  const alg = der.subarray(algT.start, algT.end);
  const data = octets(der, dataT);
  let last: unknown;
  for (const form of dedupeForms(alg, forms)) {
    try {
      const plain = await pbeDecrypt(crypto, alg, data, form, what);
      if (keyShape(plain) === 'pkcs8') return plain;
      last = new Error('decrypted data is not a PrivateKeyInfo');
    } catch (e) {
      if (!isUnsealError(e) || e.kind !== 'wrong_password') throw e;
      last = e;
    }
  }
  wrongPassword(what, last);
}

/** PBES2 and PBES1 see only the UTF-8 bytes, so the BMP variants would just repeat the same work. */
function dedupeForms(alg: Uint8Array, forms: readonly PasswordForm[]): PasswordForm[] {
  const out: PasswordForm[] = [];
  const bmpMatters = (() => {
    try {
      const o = readOid(alg, children(alg, readTlv(alg, 0))[0]!);
      return o.startsWith('1.2.840.113549.1.12.1.');
    } catch {
      return true;
    }
  })();
  for (const f of forms) {
    if (out.some((g) => bytesEqual(g.utf8, f.utf8) && (!bmpMatters || bytesEqual(g.bmp, f.bmp)))) continue;
    out.push(f);
  }
  return out;
}

export async function privateKeyFromPkcs8(crypto: SubtleCrypto, der: Uint8Array): Promise<PrivateKeyMaterial> {
  const top = readTlv(der, 0);
  const f = children(der, top);
  const [, algT, keyT] = f;
  if (!algT || !keyT || algT.tag !== 16 || keyT.tag !== 4) unreadable('private key', 'not a PrivateKeyInfo');
  const [algOidT, paramsT] = children(der, algT);
  const algOid = readOid(der, algOidT!);
  const inner = octets(der, keyT);
  if (isRsaOid(algOid)) return rsaMaterial(inner);
  if (algOid === KEY_OID.ecPublicKey) {
    return ecMaterial(crypto, inner, curveOfParams(der, paramsT, CURVES));
  }
  if (algOid === KEY_OID.x25519 || algOid === KEY_OID.x448) {
    const type = algOid === KEY_OID.x25519 ? 'x25519' : 'x448';
    const rawT = readTlv(inner, 0);
    if (rawT.tag !== 4) unreadable('private key', `${type} key is not an OCTET STRING`);
    const raw = octets(inner, rawT);
    if (raw.length !== (type === 'x25519' ? 32 : 56)) unreadable('private key', `${type} key has ${raw.length} bytes`);
    // OneAsymmetricKey (v2) may carry the public key as [1] IMPLICIT BIT STRING after the attributes.
    const pubT = f.slice(3).find((t) => t.cls === 2 && t.tag === 1);
    const pkcs8 = seq(uint(0), seq(oid(algOid)), octetString(tlv(0x04, raw)));
    const publicKey = pubT ? der.slice(pubT.contentStart + 1, pubT.contentEnd) : await deriveMontgomeryPublic(crypto, type, pkcs8);
    return publicKey ? { type, pkcs8, publicKey } : { type, pkcs8 };
  }
  unsupported(`unsupported private key algorithm ${KEY_ALG_NAMES[algOid] ? `${KEY_ALG_NAMES[algOid]} (${algOid})` : algOid}: it cannot decrypt S/MIME mail`);
}

function rsaMaterial(der: Uint8Array): PrivateKeyMaterial {
  const top = readTlv(der, 0);
  if (top.tag !== 16) unreadable('private key', 'RSA key is not a SEQUENCE');
  const f = children(der, top);
  if (f.length < 9 || !f.slice(0, 9).every((t) => t.tag === 2)) unreadable('private key', 'RSAPrivateKey fields missing');
  if (smallInt(der, f[0]!) !== 0 || f.length > 9) unsupported('multi-prime RSA keys are not supported');
  const [n, e, d, p, q, dp, dq, qi] = f.slice(1, 9).map((t) => bytesToBigInt(der.subarray(t.contentStart, t.contentEnd))) as [bigint, bigint, bigint, bigint, bigint, bigint, bigint, bigint];
  if (n < 3n || p * q !== n) unreadable('private key', 'RSA key is inconsistent (p·q ≠ n)');
  const rsa: RsaPrivateKey = { n, e, d, p, q, dp, dq, qi };
  const pkcs8 = seq(uint(0), seq(oid(KEY_OID.rsaEncryption), derNull()), octetString(der.slice(top.start, top.end)));
  return { type: 'rsa', rsa, pkcs8, bits: bitLength(n) };
}

async function ecMaterial(crypto: SubtleCrypto, der: Uint8Array, outerCurve: EcCurve | 'unknown' | undefined): Promise<PrivateKeyMaterial> {
  const top = readTlv(der, 0);
  const f = children(der, top);
  const [verT, dT] = f;
  if (!verT || !dT || verT.tag !== 2 || dT.tag !== 4) unreadable('private key', 'not an ECPrivateKey');
  const paramsT = f.find((t) => t.cls === 2 && t.tag === 0);
  const pubT = f.find((t) => t.cls === 2 && t.tag === 1);
  const name = outerCurve ?? curveOfParams(der, paramsT ? children(der, paramsT)[0] : undefined, CURVES);
  if (!name) unreadable('private key', 'EC key names no curve');
  if (name === 'unknown') unsupported('unsupported EC curve: only P-256, P-384 and P-521 are supported');
  const curve = CURVES[CURVE_OID[name]]!;
  const d = fixedLength(octets(der, dT), curve.bytes);
  let publicKey: Uint8Array | undefined;
  if (pubT) {
    const bits = children(der, pubT)[0];
    if (bits && bits.tag === 3) publicKey = der.slice(bits.contentStart + 1, bits.contentEnd);
  }
  if (!publicKey || publicKey[0] !== 0x04 || publicKey.length !== 1 + 2 * curve.bytes) {
    publicKey = await deriveEcPublic(crypto, curve.name, ecPkcs8(curve.name, d, undefined));
  }
  return { type: 'ec', curve: curve.name, pkcs8: ecPkcs8(curve.name, d, publicKey), publicKey };
}

/** Some encoders drop leading zero bytes of the scalar; SEC1 wants the field length. */
function fixedLength(d: Uint8Array, len: number): Uint8Array {
  let i = 0;
  while (d.length - i > len && d[i] === 0) i++;
  const v = d.subarray(i);
  if (v.length > len) unreadable('private key', 'EC private scalar too long for its curve');
  const out = new Uint8Array(len);
  out.set(v, len - v.length);
  return out;
}

function ecPkcs8(curve: EcCurve, d: Uint8Array, publicKey: Uint8Array | undefined): Uint8Array {
  const ecKey = publicKey ? seq(uint(1), octetString(d), tlv(0xa1, bitString(publicKey))) : seq(uint(1), octetString(d));
  return seq(uint(0), seq(oid(KEY_OID.ecPublicKey), oid(CURVE_OID[curve])), octetString(ecKey));
}

async function deriveEcPublic(crypto: SubtleCrypto, curve: EcCurve, pkcs8: Uint8Array): Promise<Uint8Array> {
  try {
    const key = await crypto.importKey('pkcs8', pkcs8 as Uint8Array<ArrayBuffer>, { name: 'ECDH', namedCurve: curve }, true, ['deriveBits']);
    const jwk = await crypto.exportKey('jwk', key);
    const x = base64Decode(jwk.x!);
    const y = base64Decode(jwk.y!);
    const out = new Uint8Array(1 + x.length + y.length);
    out[0] = 0x04;
    out.set(x, 1);
    out.set(y, 1 + x.length);
    return out;
  } catch (e) {
    unreadable('private key', `could not derive the ${curve} public key`, e);
  }
}

async function deriveMontgomeryPublic(crypto: SubtleCrypto, type: 'x25519' | 'x448', pkcs8: Uint8Array): Promise<Uint8Array | undefined> {
  try {
    const key = await crypto.importKey('pkcs8', pkcs8 as Uint8Array<ArrayBuffer>, { name: type === 'x25519' ? 'X25519' : 'X448' }, true, ['deriveBits']);
    const jwk = await crypto.exportKey('jwk', key);
    return jwk.x ? base64Decode(jwk.x) : undefined;
  } catch {
    // Runtimes without X25519/X448 in WebCrypto: the key still works where it is supported.
    return undefined;
  }
}

