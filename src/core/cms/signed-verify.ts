import { md5 } from '@noble/hashes/legacy.js';
import { sha224 } from '@noble/hashes/sha2.js';
import { children, expectTag, octets, oid, readTlv, smallInt } from '../asn1/ber.js';
import { asBufferSource, bytesEqual, concatBytes } from '../bytes.js';
import { UnsealError } from '../errors.js';
import { OID } from './oids.js';
import { bitStringBytes, parseAlgId, type AlgId } from './signed-x509.js';

/**
 * Signature primitives for SignedData and certificate chains: one verifier for both, so a PSS or
 * ECDSA CA works exactly like a PSS or ECDSA signer. WebCrypto does the work; MD5 and SHA-224 (not
 * in WebCrypto) are hashed with @noble/hashes and, for RSA PKCS#1 v1.5, checked with a BigInt
 * public-key operation (public data only, so constant time does not matter).
 */
export type HashName = 'MD5' | 'SHA-1' | 'SHA-224' | 'SHA-256' | 'SHA-384' | 'SHA-512';
export type Scheme = 'RSASSA-PKCS1-v1_5' | 'RSA-PSS' | 'ECDSA' | 'Ed25519';

export interface SigAlg {
  readonly scheme: Scheme;
  /** Absent only for Ed25519, which hashes internally. */
  readonly hash?: HashName;
  readonly saltLength?: number;
}

const OID_MD5 = '1.2.840.113549.2.5';
const OID_RSASSA_PSS = '1.2.840.113549.1.1.10';
const OID_ED25519 = '1.3.101.112';

const DIGESTS: Record<string, HashName> = {
  [OID_MD5]: 'MD5',
  [OID.sha1]: 'SHA-1',
  [OID.sha224]: 'SHA-224',
  [OID.sha256]: 'SHA-256',
  [OID.sha384]: 'SHA-384',
  [OID.sha512]: 'SHA-512',
};

const RSA_WITH: Record<string, HashName> = {
  '1.2.840.113549.1.1.4': 'MD5',
  '1.2.840.113549.1.1.5': 'SHA-1',
  '1.3.14.3.2.29': 'SHA-1',
  '1.2.840.113549.1.1.14': 'SHA-224',
  '1.2.840.113549.1.1.11': 'SHA-256',
  '1.2.840.113549.1.1.12': 'SHA-384',
  '1.2.840.113549.1.1.13': 'SHA-512',
};

const ECDSA_WITH: Record<string, HashName> = {
  '1.2.840.10045.4.1': 'SHA-1',
  '1.2.840.10045.4.3.1': 'SHA-224',
  '1.2.840.10045.4.3.2': 'SHA-256',
  '1.2.840.10045.4.3.3': 'SHA-384',
  '1.2.840.10045.4.3.4': 'SHA-512',
};

const HASH_OID: Record<HashName, string> = {
  MD5: OID_MD5,
  'SHA-1': OID.sha1,
  'SHA-224': OID.sha224,
  'SHA-256': OID.sha256,
  'SHA-384': OID.sha384,
  'SHA-512': OID.sha512,
};

const unsupported = (msg: string): never => {
  throw new UnsealError('unsupported_algorithm', msg);
};

/** The digest named by a SignerInfo digestAlgorithm; some producers put a signature OID there. */
export function hashFromOid(id: string): HashName | undefined {
  return DIGESTS[id] ?? RSA_WITH[id] ?? ECDSA_WITH[id];
}

export const isWeakHash = (h: HashName | undefined): boolean => h === 'MD5' || h === 'SHA-1';

export async function digest(subtle: SubtleCrypto, h: HashName, data: Uint8Array): Promise<Uint8Array> {
  if (h === 'MD5') return md5(data);
  if (h === 'SHA-224') return sha224(data);
  return new Uint8Array(await subtle.digest(h, asBufferSource(data)));
}

/**
 * Resolves a signatureAlgorithm into a WebCrypto-shaped scheme. `digestHash` is the SignerInfo
 * digestAlgorithm, which supplies the hash when the OID names only the key type (rsaEncryption,
 * id-ecPublicKey — both common in S/MIME).
 */
export function resolveSigAlg(alg: AlgId, digestHash: HashName | undefined): SigAlg {
  const id = alg.oid;
  const need = (h: HashName | undefined): HashName => h ?? unsupported(`no usable digest algorithm for ${id}`);
  if (id === OID.rsaEncryption) return { scheme: 'RSASSA-PKCS1-v1_5', hash: need(digestHash) };
  const rsa = RSA_WITH[id];
  if (rsa) return { scheme: 'RSASSA-PKCS1-v1_5', hash: rsa };
  if (id === OID.ecPublicKey) return { scheme: 'ECDSA', hash: need(digestHash) };
  const ec = ECDSA_WITH[id];
  if (ec) return { scheme: 'ECDSA', hash: ec };
  if (id === OID_ED25519) return { scheme: 'Ed25519' };
  if (id === OID_RSASSA_PSS) return resolvePss(alg.params);
  return unsupported(`signature algorithm ${id}`);
}

/** RFC 4055 RSASSA-PSS-params, defaults SHA-1 / MGF1-SHA-1 / salt 20. */
function resolvePss(params: Uint8Array | undefined): SigAlg {
  let hash: HashName = 'SHA-1';
  let mgfHash: HashName = 'SHA-1';
  let saltLength = 20;
  if (params) {
    const seq = readTlv(params, 0);
    for (const f of children(params, expectTag(seq, 0, 16, 'RSASSA-PSS-params'))) {
      if (f.cls !== 2) continue;
      const inner = children(params, f)[0];
      if (!inner) continue;
      if (f.tag === 0) hash = hashFromOid(parseAlgId(params, inner).oid) ?? unsupported('PSS hash');
      else if (f.tag === 1) {
        const mgf = parseAlgId(params, inner);
        if (mgf.oid !== OID.mgf1 || !mgf.params) return unsupported('PSS mask generation function');
        const mh = parseAlgId(mgf.params, readTlv(mgf.params, 0));
        mgfHash = hashFromOid(mh.oid) ?? unsupported('PSS MGF1 hash');
      } else if (f.tag === 2) saltLength = smallInt(params, inner);
      else if (f.tag === 3 && smallInt(params, inner) !== 1) return unsupported('PSS trailer field');
    }
  }
  // WebCrypto ties the MGF1 hash to the message hash; nobody ships them different.
  if (mgfHash !== hash) return unsupported(`RSA-PSS with ${hash} and MGF1-${mgfHash}`);
  return { scheme: 'RSA-PSS', hash, saltLength };
}

interface SpkiInfo {
  keyOid: string;
  curve?: string;
  key: Uint8Array;
}

function readSpki(spki: Uint8Array): SpkiInfo {
  const [algT, keyT] = children(spki, readTlv(spki, 0));
  if (!algT || !keyT) throw new UnsealError('malformed_cms', 'incomplete SubjectPublicKeyInfo');
  const alg = parseAlgId(spki, algT);
  const info: SpkiInfo = { keyOid: alg.oid, key: bitStringBytes(spki, expectTag(keyT, 0, 3, 'subjectPublicKey')) };
  if (alg.oid === OID.ecPublicKey && alg.params) {
    const p = readTlv(alg.params, 0);
    if (p.cls === 0 && p.tag === 6) info.curve = oid(alg.params, p);
  }
  return info;
}

const CURVES: Record<string, { name: string; size: number }> = {
  [OID.p256]: { name: 'P-256', size: 32 },
  [OID.p384]: { name: 'P-384', size: 48 },
  [OID.p521]: { name: 'P-521', size: 66 },
};

const RSA_KEY_OIDS = new Set([OID.rsaEncryption, OID_RSASSA_PSS]);

/**
 * True when `signature` over `data` verifies under the key in `spki`. False for a wrong
 * signature; throws UnsealError('unsupported_algorithm') when it cannot be checked at all, so the
 * caller can say which.
 */
export async function verifySignature(
  subtle: SubtleCrypto,
  spki: Uint8Array,
  alg: SigAlg,
  data: Uint8Array,
  signature: Uint8Array,
): Promise<boolean> {
  const k = readSpki(spki);
  switch (alg.scheme) {
    case 'RSASSA-PKCS1-v1_5':
    case 'RSA-PSS': {
      if (!RSA_KEY_OIDS.has(k.keyOid)) return unsupported(`${alg.scheme} signature with a ${k.keyOid} key`);
      const hash = alg.hash!;
      if (hash === 'MD5' || hash === 'SHA-224') {
        if (alg.scheme === 'RSA-PSS') return unsupported(`RSA-PSS with ${hash}`);
        return rsaPkcs1VerifyBigInt(k.key, HASH_OID[hash], await digest(subtle, hash, data), signature);
      }
      // id-RSASSA-PSS keys are rewritten as rsaEncryption: WebCrypto implementations differ in
      // whether they accept the PSS OID, and the key material is the same.
      const der = k.keyOid === OID.rsaEncryption ? spki : rsaEncryptionSpki(k.key);
      const key = await subtle.importKey('spki', asBufferSource(der), { name: alg.scheme, hash }, false, ['verify']);
      const params = alg.scheme === 'RSA-PSS' ? { name: 'RSA-PSS', saltLength: alg.saltLength ?? 20 } : { name: alg.scheme };
      return subtle.verify(params, key, asBufferSource(signature), asBufferSource(data));
    }
    case 'ECDSA': {
      if (k.keyOid !== OID.ecPublicKey) return unsupported(`ECDSA signature with a ${k.keyOid} key`);
      const curve = k.curve ? CURVES[k.curve] : undefined;
      if (!curve) return unsupported(`ECDSA curve ${k.curve ?? '(parameters not a named curve)'}`);
      const hash = alg.hash!;
      if (hash === 'MD5' || hash === 'SHA-224') return unsupported(`ECDSA with ${hash}`);
      const raw = ecdsaDerToRaw(signature, curve.size);
      if (!raw) return false;
      const key = await subtle.importKey('spki', asBufferSource(spki), { name: 'ECDSA', namedCurve: curve.name }, false, ['verify']);
      return subtle.verify({ name: 'ECDSA', hash }, key, asBufferSource(raw), asBufferSource(data));
    }
    case 'Ed25519': {
      if (k.keyOid !== OID_ED25519) return unsupported(`Ed25519 signature with a ${k.keyOid} key`);
      const key = await subtle.importKey('spki', asBufferSource(spki), { name: 'Ed25519' }, false, ['verify']);
      return subtle.verify({ name: 'Ed25519' }, key, asBufferSource(signature), asBufferSource(data));
    }
  }
}

/** CMS carries ECDSA-Sig-Value (DER SEQUENCE of r, s); WebCrypto wants r‖s at the curve size. */
export function ecdsaDerToRaw(sig: Uint8Array, size: number): Uint8Array | null {
  try {
    const seq = readTlv(sig, 0);
    if (seq.end !== sig.length) return null;
    const parts = children(sig, expectTag(seq, 0, 16, 'ECDSA-Sig-Value'));
    if (parts.length !== 2) return null;
    const out = new Uint8Array(size * 2);
    for (let i = 0; i < 2; i++) {
      let v = octets(sig, expectTag(parts[i], 0, 2, 'INTEGER'));
      while (v.length > 0 && v[0] === 0) v = v.subarray(1);
      if (v.length > size) return null;
      out.set(v, (i + 1) * size - v.length);
    }
    return out;
  } catch {
    return null;
  }
}

// ---- DER building (only the few shapes needed here) ----

function derLen(n: number): Uint8Array {
  if (n < 0x80) return Uint8Array.of(n);
  const b: number[] = [];
  for (let x = n; x > 0; x = Math.floor(x / 256)) b.unshift(x & 0xff);
  return Uint8Array.of(0x80 | b.length, ...b);
}

function derTlv(tag: number, content: Uint8Array): Uint8Array {
  return concatBytes([Uint8Array.of(tag), derLen(content.length), content]);
}

function derOid(dotted: string): Uint8Array {
  const p = dotted.split('.').map(Number);
  const out: number[] = [];
  const push = (v: number): void => {
    const tmp = [v & 0x7f];
    for (v = Math.floor(v / 128); v > 0; v = Math.floor(v / 128)) tmp.unshift(0x80 | (v & 0x7f));
    out.push(...tmp);
  };
  push(p[0]! * 40 + p[1]!);
  for (const v of p.slice(2)) push(v);
  return derTlv(0x06, Uint8Array.from(out));
}

const DER_NULL = Uint8Array.of(0x05, 0x00);

function rsaEncryptionSpki(rsaPublicKey: Uint8Array): Uint8Array {
  const algId = derTlv(0x30, concatBytes([derOid(OID.rsaEncryption), DER_NULL]));
  return derTlv(0x30, concatBytes([algId, derTlv(0x03, concatBytes([Uint8Array.of(0), rsaPublicKey]))]));
}

function toBigInt(b: Uint8Array): bigint {
  let v = 0n;
  for (const x of b) v = (v << 8n) | BigInt(x);
  return v;
}

function modPow(base: bigint, exp: bigint, mod: bigint): bigint {
  let r = 1n;
  let b = base % mod;
  for (let e = exp; e > 0n; e >>= 1n) {
    if (e & 1n) r = (r * b) % mod;
    b = (b * b) % mod;
  }
  return r;
}

/** RSASSA-PKCS1-v1_5 (RFC 8017 §8.2.2) for hashes WebCrypto lacks; accepts DigestInfo with or without NULL. */
function rsaPkcs1VerifyBigInt(rsaPublicKey: Uint8Array, hashOid: string, hash: Uint8Array, sig: Uint8Array): boolean {
  const [nT, eT] = children(rsaPublicKey, readTlv(rsaPublicKey, 0));
  if (!nT || !eT) return false;
  const n = toBigInt(octets(rsaPublicKey, nT));
  const e = toBigInt(octets(rsaPublicKey, eT));
  let k = 0;
  for (let x = n; x > 0n; x >>= 8n) k++;
  if (sig.length !== k) return false;
  const s = toBigInt(sig);
  if (s >= n) return false;
  let m = modPow(s, e, n);
  const em = new Uint8Array(k);
  for (let i = k - 1; i >= 0; i--, m >>= 8n) em[i] = Number(m & 0xffn);
  const algWithNull = derTlv(0x30, concatBytes([derOid(hashOid), DER_NULL]));
  const algNoNull = derTlv(0x30, derOid(hashOid));
  return [algWithNull, algNoNull].some((a) => {
    const t = derTlv(0x30, concatBytes([a, derTlv(0x04, hash)]));
    if (k < t.length + 11) return false;
    const expected = new Uint8Array(k).fill(0xff);
    expected[0] = 0;
    expected[1] = 1;
    expected[k - t.length - 1] = 0;
    expected.set(t, k - t.length);
    return bytesEqual(em, expected);
  });
}
