/**
 * DES and two/three-key 3DES (EDE) in CBC mode, for S/MIME and PKCS#12 content that WebCrypto
 * cannot decrypt. Speed matters (multi-MB legacy mail): this is the classic table-driven layout
 * (R. Outerbridge's d3des, also used by Bouncy Castle): combined S-box+P tables, the initial and
 * final permutations as five swap steps, and a precomputed "cooked" key schedule, so one round is
 * eight table loads on 32-bit words. 3DES skips the FP/IP pairs between its stages, which cancel.
 */
import { UnsealError } from '../errors.js';

// FIPS 46-3 S-boxes, row-major: S[box][row * 16 + column].
const S: readonly (readonly number[])[] = [
  [14,4,13,1,2,15,11,8,3,10,6,12,5,9,0,7, 0,15,7,4,14,2,13,1,10,6,12,11,9,5,3,8,
   4,1,14,8,13,6,2,11,15,12,9,7,3,10,5,0, 15,12,8,2,4,9,1,7,5,11,3,14,10,0,6,13],
  [15,1,8,14,6,11,3,4,9,7,2,13,12,0,5,10, 3,13,4,7,15,2,8,14,12,0,1,10,6,9,11,5,
   0,14,7,11,10,4,13,1,5,8,12,6,9,3,2,15, 13,8,10,1,3,15,4,2,11,6,7,12,0,5,14,9],
  [10,0,9,14,6,3,15,5,1,13,12,7,11,4,2,8, 13,7,0,9,3,4,6,10,2,8,5,14,12,11,15,1,
   13,6,4,9,8,15,3,0,11,1,2,12,5,10,14,7, 1,10,13,0,6,9,8,7,4,15,14,3,11,5,2,12],
  [7,13,14,3,0,6,9,10,1,2,8,5,11,12,4,15, 13,8,11,5,6,15,0,3,4,7,2,12,1,10,14,9,
   10,6,9,0,12,11,7,13,15,1,3,14,5,2,8,4, 3,15,0,6,10,1,13,8,9,4,5,11,12,7,2,14],
  [2,12,4,1,7,10,11,6,8,5,3,15,13,0,14,9, 14,11,2,12,4,7,13,1,5,0,15,10,3,9,8,6,
   4,2,1,11,10,13,7,8,15,9,12,5,6,3,0,14, 11,8,12,7,1,14,2,13,6,15,0,9,10,4,5,3],
  [12,1,10,15,9,2,6,8,0,13,3,4,14,7,5,11, 10,15,4,2,7,12,9,5,6,1,13,14,0,11,3,8,
   9,14,15,5,2,8,12,3,7,0,4,10,1,13,11,6, 4,3,2,12,9,5,15,10,11,14,1,7,6,0,8,13],
  [4,11,2,14,15,0,8,13,3,12,9,7,5,10,6,1, 13,0,11,7,4,9,1,10,14,3,5,12,2,15,8,6,
   1,4,11,13,12,3,7,14,10,15,6,8,0,5,9,2, 6,11,13,8,1,4,10,7,9,5,0,15,14,2,3,12],
  [13,2,8,4,6,15,11,1,10,9,3,14,5,0,12,7, 1,15,13,8,10,3,7,4,12,5,6,11,0,14,9,2,
   7,11,4,1,9,12,14,2,0,6,10,13,15,3,5,8, 2,1,14,7,4,10,8,13,15,12,9,0,3,5,6,11],
];
// FIPS 46-3 permutation P (1-based input bit for each output bit, bit 1 = most significant).
const P = [16,7,20,21,29,12,28,17,1,15,23,26,5,18,31,10,2,8,24,14,32,27,3,9,19,13,30,6,22,11,4,25];

/**
 * SP[box * 64 + six] = P(S-box output placed at the box's nibble), rotated left by one bit because
 * the round function keeps both halves rotated (that lines the E expansion up with byte fields).
 * Built at load from the FIPS tables rather than pasted as 512 opaque constants. One flat table
 * indexed with the box offset OR-ed in is ~40% faster in V8 than eight separate views.
 */
const SP = (() => {
  const t = new Int32Array(8 * 64);
  for (let box = 0; box < 8; box++) {
    for (let six = 0; six < 64; six++) {
      const row = ((six >> 4) & 2) | (six & 1);
      const col = (six >> 1) & 15;
      const pre = S[box]![row * 16 + col]! << (28 - 4 * box);
      let post = 0;
      for (let i = 0; i < 32; i++) if ((pre >>> (32 - P[i]!)) & 1) post |= 1 << (31 - i);
      t[box * 64 + six] = (post << 1) | (post >>> 31);
    }
  }
  return t;
})();

const PC1 = [56,48,40,32,24,16,8,0,57,49,41,33,25,17,9,1,58,50,42,34,26,18,10,2,59,51,43,35,
  62,54,46,38,30,22,14,6,61,53,45,37,29,21,13,5,60,52,44,36,28,20,12,4,27,19,11,3];
const PC2 = [13,16,10,23,0,4,2,27,14,5,20,9,22,18,11,3,25,7,15,6,26,19,12,1,
  40,51,30,36,46,54,29,39,50,44,32,47,43,48,38,55,33,52,45,41,49,35,28,31];
const TOTROT = [1,2,4,6,8,10,12,14,15,17,19,21,23,25,27,28];

/** 16 rounds × 2 words, in the order the round function consumes them (reversed to decrypt). */
function keySchedule(key: Uint8Array, decrypt: boolean): Int32Array {
  const pc1m = new Uint8Array(56);
  for (let j = 0; j < 56; j++) {
    const l = PC1[j]!;
    pc1m[j] = (key[l >> 3]! >> (7 - (l & 7))) & 1;
  }
  const raw = new Int32Array(32);
  const pcr = new Uint8Array(56);
  for (let i = 0; i < 16; i++) {
    const m = decrypt ? (15 - i) << 1 : i << 1;
    for (let j = 0; j < 28; j++) {
      const l = j + TOTROT[i]!;
      pcr[j] = pc1m[l < 28 ? l : l - 28]!;
    }
    for (let j = 28; j < 56; j++) {
      const l = j + TOTROT[i]!;
      pcr[j] = pc1m[l < 56 ? l : l - 28]!;
    }
    let a = 0;
    let b = 0;
    for (let j = 0; j < 24; j++) {
      if (pcr[PC2[j]!]) a |= 1 << (23 - j);
      if (pcr[PC2[j + 24]!]) b |= 1 << (23 - j);
    }
    raw[m] = a;
    raw[m + 1] = b;
  }
  // "Cook" each round's two 24-bit halves into the 6-bit groups the SP lookups index directly.
  const out = new Int32Array(32);
  for (let i = 0; i < 32; i += 2) {
    const r0 = raw[i]!;
    const r1 = raw[i + 1]!;
    out[i] = ((r0 & 0x00fc0000) << 6) | ((r0 & 0x00000fc0) << 10) | ((r1 & 0x00fc0000) >>> 10) | ((r1 & 0x00000fc0) >>> 6);
    out[i + 1] = ((r0 & 0x0003f000) << 12) | ((r0 & 0x0000003f) << 16) | ((r1 & 0x0003f000) >>> 4) | (r1 & 0x0000003f);
  }
  return out;
}

/**
 * CBC over whole blocks with a schedule of 1 or 3 DES stages (32 or 96 words). One function holds
 * the whole loop so the engine keeps every value in registers; no per-block allocation.
 */
function cbc(keys: Int32Array, iv: Uint8Array, data: Uint8Array, encrypt: boolean): Uint8Array {
  if (iv.length !== 8) throw new UnsealError('decryption_failed', 'DES needs an 8-byte IV');
  if (data.length % 8 !== 0) throw new UnsealError('decryption_failed', 'could not decrypt');
  const out = new Uint8Array(data.length);
  const stages = keys.length >> 5;
  let pl = (iv[0]! << 24) | (iv[1]! << 16) | (iv[2]! << 8) | iv[3]!;
  let pr = (iv[4]! << 24) | (iv[5]! << 16) | (iv[6]! << 8) | iv[7]!;
  for (let off = 0; off < data.length; off += 8) {
    const cl = (data[off]! << 24) | (data[off + 1]! << 16) | (data[off + 2]! << 8) | data[off + 3]!;
    const cr = (data[off + 4]! << 24) | (data[off + 5]! << 16) | (data[off + 6]! << 8) | data[off + 7]!;
    let l = encrypt ? cl ^ pl : cl;
    let r = encrypt ? cr ^ pr : cr;
    let w: number;
    // Initial permutation.
    w = ((l >>> 4) ^ r) & 0x0f0f0f0f; r ^= w; l ^= w << 4;
    w = ((l >>> 16) ^ r) & 0x0000ffff; r ^= w; l ^= w << 16;
    w = ((r >>> 2) ^ l) & 0x33333333; l ^= w; r ^= w << 2;
    w = ((r >>> 8) ^ l) & 0x00ff00ff; l ^= w; r ^= w << 8;
    r = (r << 1) | (r >>> 31);
    w = (l ^ r) & 0xaaaaaaaa; l ^= w; r ^= w;
    l = (l << 1) | (l >>> 31);
    let k = 0;
    for (let s = 0; s < stages; s++) {
      if (s > 0) { w = l; l = r; r = w; }
      for (let round = 0; round < 8; round++) {
        w = ((r << 28) | (r >>> 4)) ^ keys[k++]!;
        let f = SP[(w & 0x3f) | 384]! | SP[((w >>> 8) & 0x3f) | 256]! | SP[((w >>> 16) & 0x3f) | 128]! | SP[(w >>> 24) & 0x3f]!;
        w = r ^ keys[k++]!;
        f |= SP[(w & 0x3f) | 448]! | SP[((w >>> 8) & 0x3f) | 320]! | SP[((w >>> 16) & 0x3f) | 192]! | SP[((w >>> 24) & 0x3f) | 64]!;
        l ^= f;
        w = ((l << 28) | (l >>> 4)) ^ keys[k++]!;
        f = SP[(w & 0x3f) | 384]! | SP[((w >>> 8) & 0x3f) | 256]! | SP[((w >>> 16) & 0x3f) | 128]! | SP[(w >>> 24) & 0x3f]!;
        w = l ^ keys[k++]!;
        f |= SP[(w & 0x3f) | 448]! | SP[((w >>> 8) & 0x3f) | 320]! | SP[((w >>> 16) & 0x3f) | 192]! | SP[((w >>> 24) & 0x3f) | 64]!;
        r ^= f;
      }
    }
    // Final permutation (the halves come out swapped, as DES specifies).
    r = (r << 31) | (r >>> 1);
    w = (l ^ r) & 0xaaaaaaaa; l ^= w; r ^= w;
    l = (l << 31) | (l >>> 1);
    w = ((l >>> 8) ^ r) & 0x00ff00ff; r ^= w; l ^= w << 8;
    w = ((l >>> 2) ^ r) & 0x33333333; r ^= w; l ^= w << 2;
    w = ((r >>> 16) ^ l) & 0x0000ffff; l ^= w; r ^= w << 16;
    w = ((r >>> 4) ^ l) & 0x0f0f0f0f; l ^= w; r ^= w << 4;
    let ol = r;
    let or = l;
    if (encrypt) {
      pl = ol;
      pr = or;
    } else {
      ol ^= pl;
      or ^= pr;
      pl = cl;
      pr = cr;
    }
    out[off] = ol >>> 24; out[off + 1] = ol >>> 16; out[off + 2] = ol >>> 8; out[off + 3] = ol;
    out[off + 4] = or >>> 24; out[off + 5] = or >>> 16; out[off + 6] = or >>> 8; out[off + 7] = or;
  }
  return out;
}

function checkKey(key: Uint8Array, lengths: readonly number[]): void {
  if (!lengths.includes(key.length)) {
    throw new UnsealError('decryption_failed', `DES key must be ${lengths.join(' or ')} bytes, got ${key.length}`);
  }
}

function ede3Schedule(key: Uint8Array, decrypt: boolean): Int32Array {
  checkKey(key, [16, 24]);
  const k1 = key.subarray(0, 8);
  const k2 = key.subarray(8, 16);
  // Two-key 3DES (RFC 7292 pbeWithSHAAnd2-KeyTripleDES, some old exports) reuses K1 as K3.
  const k3 = key.length === 24 ? key.subarray(16, 24) : k1;
  const ks = new Int32Array(96);
  if (decrypt) {
    ks.set(keySchedule(k3, true), 0);
    ks.set(keySchedule(k2, false), 32);
    ks.set(keySchedule(k1, true), 64);
  } else {
    ks.set(keySchedule(k1, false), 0);
    ks.set(keySchedule(k2, true), 32);
    ks.set(keySchedule(k3, false), 64);
  }
  return ks;
}

export function desCbcDecrypt(key: Uint8Array, iv: Uint8Array, data: Uint8Array): Uint8Array {
  checkKey(key, [8]);
  return cbc(keySchedule(key, true), iv, data, false);
}

export function desCbcEncrypt(key: Uint8Array, iv: Uint8Array, data: Uint8Array): Uint8Array {
  checkKey(key, [8]);
  return cbc(keySchedule(key, false), iv, data, true);
}

export function desEde3CbcDecrypt(key: Uint8Array, iv: Uint8Array, data: Uint8Array): Uint8Array {
  return cbc(ede3Schedule(key, true), iv, data, false);
}

export function desEde3CbcEncrypt(key: Uint8Array, iv: Uint8Array, data: Uint8Array): Uint8Array {
  return cbc(ede3Schedule(key, false), iv, data, true);
}
