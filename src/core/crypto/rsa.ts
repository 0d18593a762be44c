/**
 * RSA private-key operations WebCrypto cannot do: RSAES-PKCS1-v1_5 (the default key transport of
 * OpenSSL, NSS, gpgsm, Outlook) and OAEP with parameters WebCrypto will not accept on an imported
 * key (MGF1 hash ≠ hash). Keys are raw BigInts because a CryptoKey cannot be used for v1.5 at all.
 * BigInt arithmetic is not constant-time, so the private operation is blinded and fault-checked,
 * and v1.5 rejects bad padding implicitly instead of throwing.
 */
import { UnsealError } from '../errors.js';
import { bigIntToBytes, bitLength, bytesToBigInt, modInverse, modPow, randomBytes } from './bigint.js';
import { hashLength, hashSync, type HashName } from './hash.js';
import { mgf1 } from './mgf1.js';
import { implicitRejectionKdk, syntheticMessage } from './rsa-implicit-rejection.js';

export type { HashName } from './hash.js';
export { bytesToBigInt, bigIntToBytes } from './bigint.js';

export interface RsaPrivateKey {
  n: bigint;
  e: bigint;
  d: bigint;
  p: bigint;
  q: bigint;
  dp: bigint;
  dq: bigint;
  qi: bigint;
}

export interface OaepParams {
  hash: HashName;
  mgf1Hash: HashName;
  label?: Uint8Array;
}

const DECRYPT_FAILED = 'could not decrypt';

export function rsaModulusBytes(key: RsaPrivateKey): number {
  return Math.ceil(bitLength(key.n) / 8);
}

function modulusBytes(n: bigint): number {
  return Math.ceil(bitLength(n) / 8);
}

/** Leading zero octets are sometimes stripped by producers; OpenSSL accepts such ciphertexts too. */
function leftPad(c: Uint8Array, k: number): Uint8Array | undefined {
  if (c.length > k) return undefined;
  if (c.length === k) return c;
  const out = new Uint8Array(k);
  out.set(c, k - c.length);
  return out;
}

/**
 * Blinding pair (r^e, r^-1) per key, refreshed by squaring on every use as OpenSSL does, so a
 * modular inverse (the expensive part) is only computed every REBLIND uses.
 */
interface Blinding {
  a: bigint;
  ai: bigint;
  uses: number;
}
const REBLIND = 32;
const blindings = new WeakMap<RsaPrivateKey, Blinding>();

function newBlinding(key: RsaPrivateKey): Blinding {
  const k = modulusBytes(key.n);
  for (;;) {
    const r = bytesToBigInt(randomBytes(k + 8)) % key.n;
    if (r < 2n) continue;
    const ai = modInverse(r, key.n);
    if (ai === undefined) continue;
    return { a: modPow(r, key.e, key.n), ai, uses: 0 };
  }
}

function nextBlinding(key: RsaPrivateKey): Blinding {
  let b = blindings.get(key);
  if (!b || b.uses >= REBLIND) {
    b = newBlinding(key);
  } else {
    b = { a: (b.a * b.a) % key.n, ai: (b.ai * b.ai) % key.n, uses: b.uses + 1 };
  }
  blindings.set(key, b);
  return b;
}

function crt(key: RsaPrivateKey, c: bigint): bigint {
  const m1 = modPow(c % key.p, key.dp, key.p);
  const m2 = modPow(c % key.q, key.dq, key.q);
  const h = (key.qi * (((m1 - m2) % key.p) + key.p)) % key.p;
  return m2 + h * key.q;
}

function privateOp(key: RsaPrivateKey, c: bigint): bigint {
  const { n, e } = key;
  const bl = nextBlinding(key);
  const cb = (c * bl.a) % n;
  let mb = crt(key, cb);
  // A fault in the CRT half (bit flip, corrupted dp/dq/qi) would leak a factor of n if the result
  // left this function (Bellcore attack); check it and retry without CRT.
  if (modPow(mb, e, n) !== cb) {
    mb = modPow(cb, key.d, n);
    if (modPow(mb, e, n) !== cb) throw new UnsealError('decryption_failed', DECRYPT_FAILED);
  }
  return (mb * bl.ai) % n;
}

export function rsaDecryptRaw(key: RsaPrivateKey, c: Uint8Array): Uint8Array {
  const k = rsaModulusBytes(key);
  const ci = bytesToBigInt(c);
  if (c.length > k || ci >= key.n) throw new UnsealError('decryption_failed', DECRYPT_FAILED);
  return bigIntToBytes(privateOp(key, ci), k);
}

/** 1 when x === 0, else 0, for x in 0..255, without a branch. */
function isZero(x: number): number {
  return ((x - 1) >>> 31) & 1;
}
/** 1 when a === b, else 0, for 16-bit-ish non-negative values. */
function eq(a: number, b: number): number {
  return ((((a ^ b) - 1) >>> 31) & 1);
}

export function rsaDecryptPkcs1v15(
  key: RsaPrivateKey,
  ciphertext: Uint8Array,
  expectedLengths?: readonly number[],
): Uint8Array {
  const k = rsaModulusBytes(key);
  const usable = expectedLengths?.filter((l) => Number.isInteger(l) && l >= 0 && l <= k - 11);
  const padded = leftPad(ciphertext, k) ?? ciphertext;
  const kdk = implicitRejectionKdk(bigIntToBytes(key.d, k), padded);
  const synth = syntheticMessage(kdk, k, usable && usable.length > 0 ? usable : undefined);

  // A ciphertext that cannot be decrypted at all, or a faulty key, is handled like bad padding:
  // callers get one behaviour for every failure.
  let em: Uint8Array;
  try {
    em = padded.length === k ? rsaDecryptRaw(key, padded) : new Uint8Array(k);
  } catch {
    em = new Uint8Array(k);
  }

  let good = isZero(em[0]!) & eq(em[1]!, 2);
  let found = 0;
  let zeroIndex = 0;
  for (let i = 2; i < k; i++) {
    const z = isZero(em[i]!) & ~found & 1;
    zeroIndex = (i & -z) | (zeroIndex & ~-z);
    found |= z;
  }
  good &= found;
  good &= ((9 - zeroIndex) >>> 31) & 1; // at least 8 padding octets: zeroIndex >= 10
  const msgLen = k - zeroIndex - 1;
  if (usable && usable.length > 0) {
    let ok = 0;
    for (const l of usable) ok |= eq(msgLen, l);
    good &= ok;
  } else if (expectedLengths && expectedLengths.length > 0) {
    good = 0; // only impossible lengths were expected
  }

  const mask = -good & 0xff;
  const mixed = new Uint8Array(k);
  const sb = synth.buffer;
  for (let i = 0; i < k; i++) mixed[i] = (em[i]! & mask) | (sb[i]! & ~mask);
  const len = (msgLen & -good) | (synth.length & ~-good);
  return mixed.slice(k - len);
}

export function rsaDecryptOaep(key: RsaPrivateKey, ciphertext: Uint8Array, p: OaepParams): Uint8Array {
  const k = rsaModulusBytes(key);
  const hLen = hashLength(p.hash);
  const padded = leftPad(ciphertext, k);
  if (!padded || k < 2 * hLen + 2) throw new UnsealError('decryption_failed', DECRYPT_FAILED);
  const em = rsaDecryptRaw(key, padded);
  const lHash = hashSync(p.hash, p.label ?? new Uint8Array(0));
  const maskedSeed = em.subarray(1, 1 + hLen);
  const maskedDb = em.subarray(1 + hLen);
  const seedMask = mgf1(p.mgf1Hash, maskedDb, hLen);
  const seed = new Uint8Array(hLen);
  for (let i = 0; i < hLen; i++) seed[i] = maskedSeed[i]! ^ seedMask[i]!;
  const dbMask = mgf1(p.mgf1Hash, seed, k - hLen - 1);
  const db = new Uint8Array(k - hLen - 1);
  for (let i = 0; i < db.length; i++) db[i] = maskedDb[i]! ^ dbMask[i]!;

  // Accumulate every check into one flag so the failure is the same whichever part was wrong.
  let bad = em[0]!;
  for (let i = 0; i < hLen; i++) bad |= db[i]! ^ lHash[i]!;
  let found = 0;
  let oneIndex = 0;
  for (let i = hLen; i < db.length; i++) {
    const b = db[i]!;
    const isOne = eq(b, 1) & ~found & 1;
    const notZeroNotOne = (1 - isZero(b)) & (1 - eq(b, 1)) & ~found & 1;
    bad |= notZeroNotOne;
    oneIndex = (i & -isOne) | (oneIndex & ~-isOne);
    found |= isOne;
  }
  bad |= 1 - found;
  if (bad !== 0) throw new UnsealError('decryption_failed', DECRYPT_FAILED);
  return db.slice(oneIndex + 1);
}

function publicOp(n: bigint, e: bigint, em: Uint8Array): Uint8Array {
  const k = modulusBytes(n);
  return bigIntToBytes(modPow(bytesToBigInt(em), e, n), k);
}

export function rsaEncryptPkcs1v15(n: bigint, e: bigint, msg: Uint8Array): Uint8Array {
  const k = modulusBytes(n);
  if (msg.length > k - 11) throw new RangeError('message too long for RSA PKCS#1 v1.5');
  const em = new Uint8Array(k);
  em[1] = 2;
  const psEnd = k - msg.length - 1;
  for (let i = 2; i < psEnd; ) {
    for (const b of randomBytes(psEnd - i)) if (b !== 0 && i < psEnd) em[i++] = b;
  }
  em.set(msg, psEnd + 1);
  return publicOp(n, e, em);
}

export function rsaEncryptOaep(n: bigint, e: bigint, msg: Uint8Array, p: OaepParams): Uint8Array {
  const k = modulusBytes(n);
  const hLen = hashLength(p.hash);
  if (msg.length > k - 2 * hLen - 2) throw new RangeError('message too long for RSA-OAEP');
  const db = new Uint8Array(k - hLen - 1);
  db.set(hashSync(p.hash, p.label ?? new Uint8Array(0)));
  db[db.length - msg.length - 1] = 1;
  db.set(msg, db.length - msg.length);
  const seed = randomBytes(hLen);
  const dbMask = mgf1(p.mgf1Hash, seed, db.length);
  for (let i = 0; i < db.length; i++) db[i] = db[i]! ^ dbMask[i]!;
  const seedMask = mgf1(p.mgf1Hash, db, hLen);
  for (let i = 0; i < hLen; i++) seed[i] = seed[i]! ^ seedMask[i]!;
  const em = new Uint8Array(k);
  em.set(seed, 1);
  em.set(db, 1 + hLen);
  return publicOp(n, e, em);
}
