/** Key derivation functions of ECDH CMS recipients (X9.63) and PKCS#12 (RFC 7292, PBKDF2). */
import { pbkdf2 as noblePbkdf2 } from '@noble/hashes/pbkdf2.js';
import { sha1 } from '@noble/hashes/legacy.js';
import { sha224, sha256, sha384, sha512 } from '@noble/hashes/sha2.js';
import { asBufferSource } from '../bytes.js';
import { hashBlockLength, hashLength, hashSync, type HashName } from './hash.js';

export function x963Kdf(hash: HashName, z: Uint8Array, sharedInfo: Uint8Array, outLen: number): Uint8Array {
  const hLen = hashLength(hash);
  const out = new Uint8Array(Math.ceil(outLen / hLen) * hLen);
  const input = new Uint8Array(z.length + 4 + sharedInfo.length);
  input.set(z);
  input.set(sharedInfo, z.length + 4);
  for (let counter = 1, off = 0; off < outLen; counter++, off += hLen) {
    input[z.length] = counter >>> 24;
    input[z.length + 1] = (counter >>> 16) & 0xff;
    input[z.length + 2] = (counter >>> 8) & 0xff;
    input[z.length + 3] = counter & 0xff;
    out.set(hashSync(hash, input), off);
  }
  return out.slice(0, outLen);
}

/** Repeats `src` to fill a whole number of v-byte blocks (RFC 7292 B.2 steps 2–3); empty stays empty. */
function stretch(src: Uint8Array, v: number): Uint8Array {
  if (src.length === 0) return src;
  const out = new Uint8Array(v * Math.ceil(src.length / v));
  for (let i = 0; i < out.length; i++) out[i] = src[i % src.length]!;
  return out;
}

export function pkcs12Kdf(
  hash: HashName,
  passwordBmp: Uint8Array,
  salt: Uint8Array,
  id: 1 | 2 | 3,
  iterations: number,
  outLen: number,
): Uint8Array {
  const u = hashLength(hash);
  const v = hashBlockLength(hash);
  const s = stretch(salt, v);
  const p = stretch(passwordBmp, v);
  const i = new Uint8Array(s.length + p.length);
  i.set(s);
  i.set(p, s.length);
  const dI = new Uint8Array(v + i.length);
  dI.fill(id, 0, v);
  const out = new Uint8Array(Math.ceil(outLen / u) * u);
  const b = new Uint8Array(v);
  for (let off = 0; off < outLen; off += u) {
    dI.set(i, v);
    let a = hashSync(hash, dI);
    for (let r = 1; r < iterations; r++) a = hashSync(hash, a);
    out.set(a, off);
    if (off + u >= outLen) break;
    for (let k = 0; k < v; k++) b[k] = a[k % u]!;
    // I_j = (I_j + B + 1) mod 2^(8v) for every v-byte block of I, big-endian.
    for (let j = 0; j < i.length; j += v) {
      let carry = 1;
      for (let k = v - 1; k >= 0; k--) {
        const x = i[j + k]! + b[k]! + carry;
        i[j + k] = x & 0xff;
        carry = x >>> 8;
      }
    }
  }
  return out.slice(0, outLen);
}

/** BMPString password as PKCS#12 wants it: UTF-16BE code units (surrogate pairs kept, as OpenSSL does) + 00 00. */
export function passwordToBmp(password: string): Uint8Array {
  const out = new Uint8Array(password.length * 2 + 2);
  for (let k = 0; k < password.length; k++) {
    const c = password.charCodeAt(k);
    out[2 * k] = c >>> 8;
    out[2 * k + 1] = c & 0xff;
  }
  return out;
}

const NOBLE = { 'SHA-1': sha1, 'SHA-224': sha224, 'SHA-256': sha256, 'SHA-384': sha384, 'SHA-512': sha512 } as const;

export async function pbkdf2(
  crypto: SubtleCrypto,
  hash: HashName,
  password: Uint8Array,
  salt: Uint8Array,
  iterations: number,
  outLen: number,
): Promise<Uint8Array> {
  try {
    const key = await crypto.importKey('raw', asBufferSource(password), 'PBKDF2', false, ['deriveBits']);
    const bits = await crypto.deriveBits(
      { name: 'PBKDF2', hash, salt: asBufferSource(salt), iterations },
      key,
      outLen * 8,
    );
    return new Uint8Array(bits);
  } catch (e) {
    // Some WebCrypto implementations refuse an empty password, which PKCS#12 files do use;
    // the pure-JS version is slower but gives the same bits.
    if (password.length !== 0) throw e;
    return noblePbkdf2(NOBLE[hash], password, salt, { c: iterations, dkLen: outLen });
  }
}
