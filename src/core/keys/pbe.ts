/**
 * Password-based decryption of key bags, encrypted PKCS#8 and PKCS#12 SafeContents: PBES2
 * (RFC 8018 §6.2: PBKDF2 or scrypt, AES/3DES/DES/RC2-CBC), the RFC 7292 Appendix C PBEs
 * (SHA-1 with 3DES, 2-key 3DES, RC2-128/40, RC4-128/40) and PBES1 (RFC 8018 §6.1).
 *
 * Passwords are encoded per scheme: PBES2 and PBES1 take the UTF-8 bytes, the PKCS#12 PBEs a
 * BMPString. Which BMPString is ambiguous for an empty password (zero bytes, or the terminator
 * `00 00`), so callers pass a candidate list and the first that decrypts wins.
 */
import { md5 } from '@noble/hashes/legacy.js';
import { scrypt } from '@noble/hashes/scrypt.js';
import { children, octets, oid as readOid, readTlv, smallInt, type Tlv } from '../asn1/ber.js';
import { isUnsealError } from '../errors.js';
import { cbcDecrypt, type CbcCipher } from '../crypto/block-cipher.js';
import { hashSync, type HashName } from '../crypto/hash.js';
import { pbkdf2, pkcs12Kdf } from '../crypto/kdf.js';
import { rc2EffectiveBitsFromVersion } from '../crypto/rc2.js';
import { rc4 } from '../crypto/rc4.js';
import { unreadable, unsupported, wrongPassword } from './key-errors.js';

/** One way of encoding the user's password: the bytes each scheme family feeds its KDF. */
export interface PasswordForm {
  utf8: Uint8Array;
  bmp: Uint8Array;
}

export const PBE_OID = {
  pbes2: '1.2.840.113549.1.5.13',
  pbkdf2: '1.2.840.113549.1.5.12',
  scrypt: '1.3.6.1.4.1.11591.4.11',
} as const;

const PKCS12_PBE: Record<string, { name: string; cipher: 'rc4' | CbcCipher; keyLen: number; rc2Bits?: number }> = {
  '1.2.840.113549.1.12.1.1': { name: 'pbeWithSHAAnd128BitRC4', cipher: 'rc4', keyLen: 16 },
  '1.2.840.113549.1.12.1.2': { name: 'pbeWithSHAAnd40BitRC4', cipher: 'rc4', keyLen: 5 },
  '1.2.840.113549.1.12.1.3': { name: 'pbeWithSHAAnd3-KeyTripleDES-CBC', cipher: 'des-ede3-cbc', keyLen: 24 },
  '1.2.840.113549.1.12.1.4': { name: 'pbeWithSHAAnd2-KeyTripleDES-CBC', cipher: 'des-ede3-cbc', keyLen: 16 },
  '1.2.840.113549.1.12.1.5': { name: 'pbeWithSHAAnd128BitRC2-CBC', cipher: 'rc2-cbc', keyLen: 16, rc2Bits: 128 },
  '1.2.840.113549.1.12.1.6': { name: 'pbewithSHAAnd40BitRC2-CBC', cipher: 'rc2-cbc', keyLen: 5, rc2Bits: 40 },
};

const PBES1: Record<string, { name: string; hash: 'MD5' | 'SHA-1'; cipher: 'des-cbc' | 'rc2-cbc' }> = {
  '1.2.840.113549.1.5.3': { name: 'pbeWithMD5AndDES-CBC', hash: 'MD5', cipher: 'des-cbc' },
  '1.2.840.113549.1.5.6': { name: 'pbeWithMD5AndRC2-CBC', hash: 'MD5', cipher: 'rc2-cbc' },
  '1.2.840.113549.1.5.10': { name: 'pbeWithSHA1AndDES-CBC', hash: 'SHA-1', cipher: 'des-cbc' },
  '1.2.840.113549.1.5.11': { name: 'pbeWithSHA1AndRC2-CBC', hash: 'SHA-1', cipher: 'rc2-cbc' },
};

const PRF: Record<string, HashName> = {
  '1.2.840.113549.2.7': 'SHA-1',
  '1.2.840.113549.2.8': 'SHA-224',
  '1.2.840.113549.2.9': 'SHA-256',
  '1.2.840.113549.2.10': 'SHA-384',
  '1.2.840.113549.2.11': 'SHA-512',
};

const PBES2_CIPHER: Record<string, { cipher: CbcCipher; keyLen: number }> = {
  '2.16.840.1.101.3.4.1.2': { cipher: 'aes-128-cbc', keyLen: 16 },
  '2.16.840.1.101.3.4.1.22': { cipher: 'aes-192-cbc', keyLen: 24 },
  '2.16.840.1.101.3.4.1.42': { cipher: 'aes-256-cbc', keyLen: 32 },
  '1.2.840.113549.3.7': { cipher: 'des-ede3-cbc', keyLen: 24 },
  '1.3.14.3.2.7': { cipher: 'des-cbc', keyLen: 8 },
  '1.2.840.113549.3.2': { cipher: 'rc2-cbc', keyLen: 16 },
};

/** Iteration counts beyond this are an attack on the user's time, not a key file. */
const MAX_ITERATIONS = 10_000_000;

/** True when the algorithm's KDF consumes the BMPString form of the password. */
export function usesBmpPassword(algId: Uint8Array): boolean {
  const t = readTlv(algId, 0);
  return readOid(algId, children(algId, t)[0]!) in PKCS12_PBE;
}

/** Readable name for an encryption AlgorithmIdentifier (for messages and tests). */
export function pbeName(algId: Uint8Array): string {
  const o = readOid(algId, children(algId, readTlv(algId, 0))[0]!);
  return PKCS12_PBE[o]?.name ?? PBES1[o]?.name ?? (o === PBE_OID.pbes2 ? 'PBES2' : o);
}

/**
 * Decrypts `data` under the AlgorithmIdentifier DER `algId`. Bad padding becomes
 * 'wrong_password' naming `what`; the caller must still check that the plaintext parses (RC4 and
 * a 1-in-256 padding accident give garbage without an error).
 */
export async function pbeDecrypt(crypto: SubtleCrypto, algId: Uint8Array, data: Uint8Array, pw: PasswordForm, what: string): Promise<Uint8Array> {
  const top = readTlv(algId, 0);
  const [oidT, paramsT] = children(algId, top);
  const o = readOid(algId, oidT!);
  try {
    if (o === PBE_OID.pbes2) return await pbes2(crypto, algId, need(paramsT, what), data, pw.utf8, what);
    const p12 = PKCS12_PBE[o];
    if (p12) return await pkcs12Pbe(crypto, p12, algId, need(paramsT, what), data, pw.bmp, what);
    const p1 = PBES1[o];
    if (p1) return await pbes1(crypto, p1, algId, need(paramsT, what), data, pw.utf8, what);
  } catch (e) {
    if (isUnsealError(e) && e.kind === 'decryption_failed') wrongPassword(what, e);
    throw e;
  }
  unsupported(`unsupported password-based encryption ${o} for ${what}`);
}

function need(t: Tlv | undefined, what: string): Tlv {
  if (!t || t.tag !== 16) unreadable(what, 'encryption parameters missing');
  return t;
}

function iterations(n: number, what: string): number {
  if (n < 1 || n > MAX_ITERATIONS) unreadable(what, `implausible iteration count ${n}`);
  return n;
}

async function pbes2(crypto: SubtleCrypto, buf: Uint8Array, params: Tlv, data: Uint8Array, password: Uint8Array, what: string): Promise<Uint8Array> {
  const [kdfT, encT] = children(buf, params);
  if (!kdfT || !encT) unreadable(what, 'PBES2 parameters incomplete');
  const [encOidT, encParamsT] = children(buf, encT);
  const encOid = readOid(buf, encOidT!);
  const enc = PBES2_CIPHER[encOid];
  if (!enc) unsupported(`unsupported PBES2 cipher ${encOid} for ${what}`);
  let iv: Uint8Array;
  let rc2Bits: number | undefined;
  if (enc.cipher === 'rc2-cbc') {
    // RC2-CBC-Parameter ::= SEQUENCE { rc2ParameterVersion INTEGER OPTIONAL, iv OCTET STRING }
    const parts = encParamsT ? children(buf, encParamsT) : [];
    const ivT = parts.find((p) => p.tag === 4);
    const verT = parts.find((p) => p.tag === 2);
    if (!ivT) unreadable(what, 'RC2 IV missing');
    iv = octets(buf, ivT);
    rc2Bits = verT ? rc2EffectiveBitsFromVersion(smallInt(buf, verT)) : 32;
  } else {
    if (!encParamsT || encParamsT.tag !== 4) unreadable(what, 'IV missing');
    iv = octets(buf, encParamsT);
  }

  const [kdfOidT, kdfParamsT] = children(buf, kdfT);
  const kdfOid = readOid(buf, kdfOidT!);
  if (!kdfParamsT || kdfParamsT.tag !== 16) unreadable(what, 'KDF parameters missing');
  const kp = children(buf, kdfParamsT);
  let key: Uint8Array;
  if (kdfOid === PBE_OID.pbkdf2) {
    // PBKDF2-params ::= SEQUENCE { salt, iterationCount, keyLength OPTIONAL, prf DEFAULT hmacWithSHA1 }
    const [saltT, iterT, ...rest] = kp;
    if (!saltT || saltT.tag !== 4) unsupported(`PBKDF2 salt source other than specified for ${what}`);
    if (!iterT) unreadable(what, 'PBKDF2 iteration count missing');
    const lenT = rest.find((t) => t.tag === 2);
    const prfT = rest.find((t) => t.tag === 16);
    let hash: HashName = 'SHA-1';
    if (prfT) {
      const prfOid = readOid(buf, children(buf, prfT)[0]!);
      const h = PRF[prfOid];
      if (!h) unsupported(`unsupported PBKDF2 PRF ${prfOid} for ${what}`);
      hash = h;
    }
    const keyLen = lenT ? smallInt(buf, lenT) : enc.keyLen;
    if (keyLen < 1 || keyLen > 64) unreadable(what, `bad key length ${keyLen}`);
    key = await pbkdf2(crypto, hash, password, octets(buf, saltT), iterations(smallInt(buf, iterT), what), keyLen);
  } else if (kdfOid === PBE_OID.scrypt) {
    // scrypt-params ::= SEQUENCE { salt, costParameter, blockSize, parallelizationParameter, keyLength OPTIONAL }
    const [saltT, nT, rT, pT, lenT] = kp;
    if (!saltT || !nT || !rT || !pT) unreadable(what, 'scrypt parameters incomplete');
    const N = smallInt(buf, nT);
    const r = smallInt(buf, rT);
    const p = smallInt(buf, pT);
    if (N > 1 << 20 || r > 32 || p > 16) unreadable(what, 'scrypt parameters too costly');
    const keyLen = lenT ? smallInt(buf, lenT) : enc.keyLen;
    key = scrypt(password, octets(buf, saltT), { N, r, p, dkLen: keyLen, maxmem: 1024 ** 3 + 1024 });
  } else unsupported(`unsupported PBES2 key derivation ${kdfOid} for ${what}`);

  return cbcDecrypt(crypto, { cipher: enc.cipher, key, iv, data, padding: true, ...(rc2Bits !== undefined ? { rc2EffectiveBits: rc2Bits } : {}) });
}

function saltAndIterations(buf: Uint8Array, params: Tlv, what: string): { salt: Uint8Array; iter: number } {
  const [saltT, iterT] = children(buf, params);
  if (!saltT || saltT.tag !== 4 || !iterT) unreadable(what, 'PBE parameters incomplete');
  return { salt: octets(buf, saltT), iter: iterations(smallInt(buf, iterT), what) };
}

async function pkcs12Pbe(
  crypto: SubtleCrypto,
  alg: (typeof PKCS12_PBE)[string] & {},
  buf: Uint8Array,
  params: Tlv,
  data: Uint8Array,
  bmp: Uint8Array,
  what: string,
): Promise<Uint8Array> {
  const { salt, iter } = saltAndIterations(buf, params, what);
  let key = pkcs12Kdf('SHA-1', bmp, salt, 1, iter, alg.keyLen);
  if (alg.cipher === 'rc4') return rc4(key, data);
  const iv = pkcs12Kdf('SHA-1', bmp, salt, 2, iter, 8);
  if (alg.keyLen === 16 && alg.cipher === 'des-ede3-cbc') {
    // Two-key triple DES is K1,K2,K1.
    const k3 = new Uint8Array(24);
    k3.set(key, 0);
    k3.set(key.subarray(0, 8), 16);
    key = k3;
  }
  return cbcDecrypt(crypto, { cipher: alg.cipher, key, iv, data, padding: true, ...(alg.rc2Bits !== undefined ? { rc2EffectiveBits: alg.rc2Bits } : {}) });
}

async function pbes1(
  crypto: SubtleCrypto,
  alg: (typeof PBES1)[string] & {},
  buf: Uint8Array,
  params: Tlv,
  data: Uint8Array,
  password: Uint8Array,
  what: string,
): Promise<Uint8Array> {
  const { salt, iter } = saltAndIterations(buf, params, what);
  const h = (x: Uint8Array): Uint8Array => (alg.hash === 'MD5' ? md5(x) : hashSync('SHA-1', x));
  // PBKDF1: T1 = H(P || S), Ti = H(Ti-1); DK = first 16 octets: key then IV.
  const first = new Uint8Array(password.length + salt.length);
  first.set(password, 0);
  first.set(salt, password.length);
  let t = h(first);
  for (let i = 1; i < iter; i++) t = h(t);
  return cbcDecrypt(crypto, {
    cipher: alg.cipher,
    key: t.slice(0, 8),
    iv: t.slice(8, 16),
    data,
    padding: true,
    ...(alg.cipher === 'rc2-cbc' ? { rc2EffectiveBits: 64 } : {}),
  });
}
