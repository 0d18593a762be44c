/**
 * Public-key identity. A key's id and its pairing with certificates use one canonical
 * SubjectPublicKeyInfo per key, so an RSA-PSS certificate, an rsaEncryption certificate and the
 * private key itself all agree on who the key is.
 */
import { children, octets, oid as readOid, readTlv } from '../asn1/ber.js';
import { bytesToBigInt } from '../crypto/rsa.js';
import { curveOfParams } from './ec-curves.js';
import { bitString, derNull, oid, seq, uint } from './der-writer.js';
import type { CertInfo, EcCurve, PrivateKeyMaterial } from './types.js';

export const KEY_OID = {
  rsaEncryption: '1.2.840.113549.1.1.1',
  rsassaPss: '1.2.840.113549.1.1.10',
  rsaesOaep: '1.2.840.113549.1.1.7',
  ecPublicKey: '1.2.840.10045.2.1',
  x25519: '1.3.101.110',
  x448: '1.3.101.111',
  ed25519: '1.3.101.112',
  ed448: '1.3.101.113',
  dsa: '1.2.840.10040.4.1',
} as const;

const RSA_OIDS = new Set<string>([KEY_OID.rsaEncryption, KEY_OID.rsassaPss, KEY_OID.rsaesOaep]);
export const isRsaOid = (o: string): boolean => RSA_OIDS.has(o);

export const CURVES: Record<string, { name: EcCurve; bytes: number; bits: number }> = {
  '1.2.840.10045.3.1.7': { name: 'P-256', bytes: 32, bits: 256 },
  '1.3.132.0.34': { name: 'P-384', bytes: 48, bits: 384 },
  '1.3.132.0.35': { name: 'P-521', bytes: 66, bits: 521 },
};
export const CURVE_OID: Record<EcCurve, string> = { 'P-256': '1.2.840.10045.3.1.7', 'P-384': '1.3.132.0.34', 'P-521': '1.3.132.0.35' };

const OTHER_CURVES: Record<string, string> = {
  '1.3.36.3.3.2.8.1.1.7': 'brainpoolP256r1',
  '1.3.36.3.3.2.8.1.1.11': 'brainpoolP384r1',
  '1.3.36.3.3.2.8.1.1.13': 'brainpoolP512r1',
  '1.3.132.0.10': 'secp256k1',
};

interface SpkiParts {
  alg: string;
  paramsOid: string | undefined;
  /** For EC keys: the NIST curve, whether named or spelled out as explicit parameters. */
  curve: EcCurve | 'unknown' | undefined;
  key: Uint8Array;
}

function spkiParts(spki: Uint8Array): SpkiParts {
  const top = readTlv(spki, 0);
  const [algId, bits] = children(spki, top);
  if (!algId || !bits || bits.tag !== 3) throw new TypeError('not a SubjectPublicKeyInfo');
  const [algOid, params] = children(spki, algId);
  return {
    alg: readOid(spki, algOid!),
    curve: curveOfParams(spki, params, CURVES),
    paramsOid: params && params.tag === 6 ? readOid(spki, params) : undefined,
    key: spki.subarray(bits.contentStart + 1, bits.contentEnd),
  };
}

export function rsaPublicFromSpkiKey(key: Uint8Array): { n: bigint; e: bigint } {
  const [n, e] = children(key, readTlv(key, 0));
  return { n: bytesToBigInt(octets(key, n!)), e: bytesToBigInt(octets(key, e!)) };
}

export function describeSpki(spki: Uint8Array): Pick<CertInfo, 'publicKeyAlgorithm' | 'publicKeyBits' | 'curve'> {
  const p = spkiParts(spki);
  if (isRsaOid(p.alg)) {
    const { n } = rsaPublicFromSpkiKey(p.key);
    return { publicKeyAlgorithm: 'rsa', publicKeyBits: n.toString(2).length };
  }
  if (p.alg === KEY_OID.ecPublicKey) {
    const c = p.curve && p.curve !== 'unknown' ? CURVES[CURVE_OID[p.curve]] : undefined;
    if (c) return { publicKeyAlgorithm: 'ec', publicKeyBits: c.bits, curve: c.name };
    return { publicKeyAlgorithm: 'ec', curve: p.paramsOid ? (OTHER_CURVES[p.paramsOid] ?? p.paramsOid) : 'explicit' };
  }
  if (p.alg === KEY_OID.x25519) return { publicKeyAlgorithm: 'x25519' };
  if (p.alg === KEY_OID.x448) return { publicKeyAlgorithm: 'x448' };
  return { publicKeyAlgorithm: 'other' };
}

export function rsaSpki(n: bigint, e: bigint): Uint8Array {
  return seq(seq(oid(KEY_OID.rsaEncryption), derNull()), bitString(seq(uint(n), uint(e))));
}

export function ecSpki(curve: EcCurve, point: Uint8Array): Uint8Array {
  return seq(seq(oid(KEY_OID.ecPublicKey), oid(CURVE_OID[curve])), bitString(point));
}

export function rawSpki(algOid: string, key: Uint8Array): Uint8Array {
  return seq(seq(oid(algOid)), bitString(key));
}

/** Canonical SPKI of a certificate's key, or undefined for keys Unseal cannot hold privately. */
export function canonicalSpki(spki: Uint8Array): Uint8Array | undefined {
  try {
    const p = spkiParts(spki);
    if (isRsaOid(p.alg)) {
      const { n, e } = rsaPublicFromSpkiKey(p.key);
      return rsaSpki(n, e);
    }
    if (p.alg === KEY_OID.ecPublicKey) {
      return p.curve && p.curve !== 'unknown' ? ecSpki(p.curve, p.key) : undefined;
    }
    if (p.alg === KEY_OID.x25519 || p.alg === KEY_OID.x448) return rawSpki(p.alg, p.key);
  } catch {
    // A certificate with an undecodable key simply pairs with nothing.
  }
  return undefined;
}

/** Canonical SPKI of a private key's public half; undefined when an X25519/X448 public key is unknown. */
export function privateKeySpki(k: PrivateKeyMaterial): Uint8Array | undefined {
  switch (k.type) {
    case 'rsa':
      return rsaSpki(k.rsa.n, k.rsa.e);
    case 'ec':
      return ecSpki(k.curve, k.publicKey);
    default:
      return k.publicKey ? rawSpki(k.type === 'x25519' ? KEY_OID.x25519 : KEY_OID.x448, k.publicKey) : undefined;
  }
}
