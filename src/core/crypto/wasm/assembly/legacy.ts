// AssemblyScript source of the WebAssembly legacy-cipher module (DES, 3DES-EDE, RC2 in CBC mode).
// Compiled by src/core/crypto/wasm/compile.mjs (run from build.mjs) into legacy-wasm.generated.ts.
// Not part of the TypeScript program (tsconfig excludes this folder): `u32`, `load`, `store`,
// `memory.data`, `bswap`, `rotl` are AssemblyScript built-ins that map 1:1 to WebAssembly ops.
//
// Why WebAssembly: Debian's Thunderbird runs with the JS baseline JIT off, which makes per-byte JS
// loops 9–20x slower than in Node; WebAssembly's compilers do not depend on that pref.
//
// The algorithms are line-for-line the ones of ../des.ts and ../rc2.ts (same table layout, same
// round order), so read those for the explanations. Memory layout: small static areas declared
// with memory.data below, then the message at dataPtr(). The JS side (../wasm/legacy.ts) writes
// the key and IV, copies the message in, calls one function that works in place, copies the
// result out and wipes. No allocator, no runtime (`--runtime stub`), no imports.

// ---- static tables (FIPS 46-3) ----
const SBOX: usize = memory.data<u8>([
  14,4,13,1,2,15,11,8,3,10,6,12,5,9,0,7, 0,15,7,4,14,2,13,1,10,6,12,11,9,5,3,8,
  4,1,14,8,13,6,2,11,15,12,9,7,3,10,5,0, 15,12,8,2,4,9,1,7,5,11,3,14,10,0,6,13,
  15,1,8,14,6,11,3,4,9,7,2,13,12,0,5,10, 3,13,4,7,15,2,8,14,12,0,1,10,6,9,11,5,
  0,14,7,11,10,4,13,1,5,8,12,6,9,3,2,15, 13,8,10,1,3,15,4,2,11,6,7,12,0,5,14,9,
  10,0,9,14,6,3,15,5,1,13,12,7,11,4,2,8, 13,7,0,9,3,4,6,10,2,8,5,14,12,11,15,1,
  13,6,4,9,8,15,3,0,11,1,2,12,5,10,14,7, 1,10,13,0,6,9,8,7,4,15,14,3,11,5,2,12,
  7,13,14,3,0,6,9,10,1,2,8,5,11,12,4,15, 13,8,11,5,6,15,0,3,4,7,2,12,1,10,14,9,
  10,6,9,0,12,11,7,13,15,1,3,14,5,2,8,4, 3,15,0,6,10,1,13,8,9,4,5,11,12,7,2,14,
  2,12,4,1,7,10,11,6,8,5,3,15,13,0,14,9, 14,11,2,12,4,7,13,1,5,0,15,10,3,9,8,6,
  4,2,1,11,10,13,7,8,15,9,12,5,6,3,0,14, 11,8,12,7,1,14,2,13,6,15,0,9,10,4,5,3,
  12,1,10,15,9,2,6,8,0,13,3,4,14,7,5,11, 10,15,4,2,7,12,9,5,6,1,13,14,0,11,3,8,
  9,14,15,5,2,8,12,3,7,0,4,10,1,13,11,6, 4,3,2,12,9,5,15,10,11,14,1,7,6,0,8,13,
  4,11,2,14,15,0,8,13,3,12,9,7,5,10,6,1, 13,0,11,7,4,9,1,10,14,3,5,12,2,15,8,6,
  1,4,11,13,12,3,7,14,10,15,6,8,0,5,9,2, 6,11,13,8,1,4,10,7,9,5,0,15,14,2,3,12,
  13,2,8,4,6,15,11,1,10,9,3,14,5,0,12,7, 1,15,13,8,10,3,7,4,12,5,6,11,0,14,9,2,
  7,11,4,1,9,12,14,2,0,6,10,13,15,3,5,8, 2,1,14,7,4,10,8,13,15,12,9,0,3,5,6,11,
]);
// Permutation P: 1-based input bit for each output bit (bit 1 = most significant).
const P: usize = memory.data<u8>([16,7,20,21,29,12,28,17,1,15,23,26,5,18,31,10,2,8,24,14,32,27,3,9,19,13,30,6,22,11,4,25]);
const PC1: usize = memory.data<u8>([56,48,40,32,24,16,8,0,57,49,41,33,25,17,9,1,58,50,42,34,26,18,10,2,59,51,43,35,
  62,54,46,38,30,22,14,6,61,53,45,37,29,21,13,5,60,52,44,36,28,20,12,4,27,19,11,3]);
const PC2: usize = memory.data<u8>([13,16,10,23,0,4,2,27,14,5,20,9,22,18,11,3,25,7,15,6,26,19,12,1,
  40,51,30,36,46,54,29,39,50,44,32,47,43,48,38,55,33,52,45,41,49,35,28,31]);
const TOTROT: usize = memory.data<u8>([1,2,4,6,8,10,12,14,15,17,19,21,23,25,27,28]);

// ---- working areas ----
const SP: usize = memory.data(512 * 4, 16); // combined S-box + P tables, built at start
const KS: usize = memory.data(96 * 4, 16); // DES schedule: 1 or 3 stages x 32 words
const RAW: usize = memory.data(32 * 4, 16); // one stage's uncooked subkeys
const PC1M: usize = memory.data(56);
const PCR: usize = memory.data(56);
const KEY: usize = memory.data(24, 8); // written by JS: the DES/3DES key
const IV: usize = memory.data(8, 8); // written by JS: the IV; holds the chaining value afterwards
const RC2K: usize = memory.data(128, 8); // written by JS: RC2's 64 16-bit subkeys (little-endian)

export function keyPtr(): usize { return KEY; }
export function ivPtr(): usize { return IV; }
export function rc2KeyPtr(): usize { return RC2K; }
/** Where the message goes: the first 16-byte boundary after the static data. */
export function dataPtr(): usize { return (__heap_base + 15) & ~(<usize>15); }

// SP[box * 64 + six] = P(S-box output at the box's nibble), rotated left by one bit.
for (let box: u32 = 0; box < 8; box++) {
  for (let six: u32 = 0; six < 64; six++) {
    const row = ((six >> 4) & 2) | (six & 1);
    const col = (six >> 1) & 15;
    const pre = (<u32>load<u8>(SBOX + box * 64 + row * 16 + col)) << (28 - 4 * box);
    let post: u32 = 0;
    for (let i: u32 = 0; i < 32; i++) {
      if ((pre >>> (32 - <u32>load<u8>(P + i))) & 1) post |= (<u32>1) << (31 - i);
    }
    store<u32>(SP + ((box * 64 + six) << 2), rotl<u32>(post, 1));
  }
}

/** One DES key (8 bytes at `key`) → 32 cooked words at `out`, in encryption or decryption order. */
function desKeySchedule(key: usize, decrypt: bool, out: usize): void {
  for (let j: u32 = 0; j < 56; j++) {
    const l = <u32>load<u8>(PC1 + j);
    store<u8>(PC1M + j, (<u32>load<u8>(key + (l >> 3)) >> (7 - (l & 7))) & 1);
  }
  for (let i: u32 = 0; i < 16; i++) {
    const m = decrypt ? (15 - i) << 1 : i << 1;
    const rot = <u32>load<u8>(TOTROT + i);
    for (let j: u32 = 0; j < 28; j++) {
      const l = j + rot;
      store<u8>(PCR + j, load<u8>(PC1M + (l < 28 ? l : l - 28)));
    }
    for (let j: u32 = 28; j < 56; j++) {
      const l = j + rot;
      store<u8>(PCR + j, load<u8>(PC1M + (l < 56 ? l : l - 28)));
    }
    let a: u32 = 0;
    let b: u32 = 0;
    for (let j: u32 = 0; j < 24; j++) {
      if (load<u8>(PCR + load<u8>(PC2 + j))) a |= (<u32>1) << (23 - j);
      if (load<u8>(PCR + load<u8>(PC2 + j + 24))) b |= (<u32>1) << (23 - j);
    }
    store<u32>(RAW + (m << 2), a);
    store<u32>(RAW + ((m + 1) << 2), b);
  }
  for (let i: u32 = 0; i < 32; i += 2) {
    const r0 = load<u32>(RAW + (i << 2));
    const r1 = load<u32>(RAW + ((i + 1) << 2));
    store<u32>(out + (i << 2),
      ((r0 & 0x00fc0000) << 6) | ((r0 & 0x00000fc0) << 10) | ((r1 & 0x00fc0000) >>> 10) | ((r1 & 0x00000fc0) >>> 6));
    store<u32>(out + ((i + 1) << 2),
      ((r0 & 0x0003f000) << 12) | ((r0 & 0x0000003f) << 16) | ((r1 & 0x0003f000) >>> 4) | (r1 & 0x0000003f));
  }
}

/**
 * Builds the schedule for the key at keyPtr(): 8 bytes → single DES (returns 1 stage); 16 or 24
 * bytes → EDE (returns 3 stages; a 16-byte key reuses K1 as K3). The JS side checks the length.
 */
export function desSetup(keyLen: u32, decrypt: bool): u32 {
  if (keyLen == 8) {
    desKeySchedule(KEY, decrypt, KS);
    return 1;
  }
  const k1 = KEY;
  const k2 = KEY + 8;
  const k3 = keyLen == 24 ? KEY + 16 : KEY;
  if (decrypt) {
    desKeySchedule(k3, true, KS);
    desKeySchedule(k2, false, KS + 128);
    desKeySchedule(k1, true, KS + 256);
  } else {
    desKeySchedule(k1, false, KS);
    desKeySchedule(k2, true, KS + 128);
    desKeySchedule(k3, false, KS + 256);
  }
  return 3;
}

// f-function half: four SP lookups for the byte fields of w, with the boxes' table offsets.
// @ts-ignore: decorator
@inline function sp4(w: u32, o0: usize, o1: usize, o2: usize, o3: usize): u32 {
  return load<u32>(SP + o0 + ((w & 0x3f) << 2)) | load<u32>(SP + o1 + (((w >>> 8) & 0x3f) << 2)) |
    load<u32>(SP + o2 + (((w >>> 16) & 0x3f) << 2)) | load<u32>(SP + o3 + (((w >>> 24) & 0x3f) << 2));
}

/**
 * CBC over `len` bytes (a multiple of 8) at dataPtr() + off, in place, with `stages` DES stages.
 * The chaining value starts at and is written back to ivPtr(), so a message can be done in chunks
 * (the JS side does: engines move a function to their optimizing tier between calls, not inside one).
 */
export function desCbc(off: u32, len: u32, stages: u32, encrypt: bool): void {
  const base = dataPtr() + off;
  const end = base + len;
  let pl = bswap<u32>(load<u32>(IV));
  let pr = bswap<u32>(load<u32>(IV, 4));
  for (let p = base; p < end; p += 8) {
    const cl = bswap<u32>(load<u32>(p));
    const cr = bswap<u32>(load<u32>(p, 4));
    let l = encrypt ? cl ^ pl : cl;
    let r = encrypt ? cr ^ pr : cr;
    let w: u32;
    // Initial permutation.
    w = ((l >>> 4) ^ r) & 0x0f0f0f0f; r ^= w; l ^= w << 4;
    w = ((l >>> 16) ^ r) & 0x0000ffff; r ^= w; l ^= w << 16;
    w = ((r >>> 2) ^ l) & 0x33333333; l ^= w; r ^= w << 2;
    w = ((r >>> 8) ^ l) & 0x00ff00ff; l ^= w; r ^= w << 8;
    r = rotl<u32>(r, 1);
    w = (l ^ r) & 0xaaaaaaaa; l ^= w; r ^= w;
    l = rotl<u32>(l, 1);
    let k = KS;
    for (let s: u32 = 0; s < stages; s++) {
      if (s > 0) { w = l; l = r; r = w; }
      for (let round = 0; round < 8; round++) {
        let f = sp4(rotr<u32>(r, 4) ^ load<u32>(k), 384 * 4, 256 * 4, 128 * 4, 0);
        f |= sp4(r ^ load<u32>(k, 4), 448 * 4, 320 * 4, 192 * 4, 64 * 4);
        l ^= f;
        f = sp4(rotr<u32>(l, 4) ^ load<u32>(k, 8), 384 * 4, 256 * 4, 128 * 4, 0);
        f |= sp4(l ^ load<u32>(k, 12), 448 * 4, 320 * 4, 192 * 4, 64 * 4);
        r ^= f;
        k += 16;
      }
    }
    // Final permutation (the halves come out swapped, as DES specifies).
    r = rotr<u32>(r, 1);
    w = (l ^ r) & 0xaaaaaaaa; l ^= w; r ^= w;
    l = rotr<u32>(l, 1);
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
    store<u32>(p, bswap<u32>(ol));
    store<u32>(p, bswap<u32>(or), 4);
  }
  store<u32>(IV, bswap<u32>(pl));
  store<u32>(IV, bswap<u32>(pr), 4);
}

// @ts-ignore: decorator
@inline function rk(i: u32): u32 { return <u32>load<u16>(RC2K + (i << 1)); }

/** RC2-CBC over `len` bytes at dataPtr() + off, in place, with the 64 subkeys at rc2KeyPtr(); chains like desCbc. */
export function rc2Cbc(off: u32, len: u32, encrypt: bool): void {
  const base = dataPtr() + off;
  const end = base + len;
  let p0 = <u32>load<u16>(IV), p1 = <u32>load<u16>(IV, 2), p2 = <u32>load<u16>(IV, 4), p3 = <u32>load<u16>(IV, 6);
  for (let p = base; p < end; p += 8) {
    const c0 = <u32>load<u16>(p);
    const c1 = <u32>load<u16>(p, 2);
    const c2 = <u32>load<u16>(p, 4);
    const c3 = <u32>load<u16>(p, 6);
    let r0: u32, r1: u32, r2: u32, r3: u32;
    if (encrypt) {
      r0 = c0 ^ p0; r1 = c1 ^ p1; r2 = c2 ^ p2; r3 = c3 ^ p3;
      for (let j: u32 = 0; j < 64; j += 4) {
        r0 = (r0 + rk(j) + (r3 & r2) + (~r3 & r1)) & 0xffff; r0 = ((r0 << 1) | (r0 >>> 15)) & 0xffff;
        r1 = (r1 + rk(j + 1) + (r0 & r3) + (~r0 & r2)) & 0xffff; r1 = ((r1 << 2) | (r1 >>> 14)) & 0xffff;
        r2 = (r2 + rk(j + 2) + (r1 & r0) + (~r1 & r3)) & 0xffff; r2 = ((r2 << 3) | (r2 >>> 13)) & 0xffff;
        r3 = (r3 + rk(j + 3) + (r2 & r1) + (~r2 & r0)) & 0xffff; r3 = ((r3 << 5) | (r3 >>> 11)) & 0xffff;
        if (j == 16 || j == 40) {
          r0 = (r0 + rk(r3 & 63)) & 0xffff;
          r1 = (r1 + rk(r0 & 63)) & 0xffff;
          r2 = (r2 + rk(r1 & 63)) & 0xffff;
          r3 = (r3 + rk(r2 & 63)) & 0xffff;
        }
      }
      p0 = r0; p1 = r1; p2 = r2; p3 = r3;
    } else {
      r0 = c0; r1 = c1; r2 = c2; r3 = c3;
      for (let j: i32 = 60; j >= 0; j -= 4) {
        const u = <u32>j;
        r3 = ((r3 >>> 5) | (r3 << 11)) & 0xffff; r3 = (r3 - rk(u + 3) - (r2 & r1) - (~r2 & r0)) & 0xffff;
        r2 = ((r2 >>> 3) | (r2 << 13)) & 0xffff; r2 = (r2 - rk(u + 2) - (r1 & r0) - (~r1 & r3)) & 0xffff;
        r1 = ((r1 >>> 2) | (r1 << 14)) & 0xffff; r1 = (r1 - rk(u + 1) - (r0 & r3) - (~r0 & r2)) & 0xffff;
        r0 = ((r0 >>> 1) | (r0 << 15)) & 0xffff; r0 = (r0 - rk(u) - (r3 & r2) - (~r3 & r1)) & 0xffff;
        if (j == 44 || j == 20) {
          r3 = (r3 - rk(r2 & 63)) & 0xffff;
          r2 = (r2 - rk(r1 & 63)) & 0xffff;
          r1 = (r1 - rk(r0 & 63)) & 0xffff;
          r0 = (r0 - rk(r3 & 63)) & 0xffff;
        }
      }
      r0 ^= p0; r1 ^= p1; r2 ^= p2; r3 ^= p3;
      p0 = c0; p1 = c1; p2 = c2; p3 = c3;
    }
    store<u16>(p, r0); store<u16>(p, r1, 2); store<u16>(p, r2, 4); store<u16>(p, r3, 6);
  }
  store<u16>(IV, p0); store<u16>(IV, p1, 2); store<u16>(IV, p2, 4); store<u16>(IV, p3, 6);
}

/** Zeroes the key material and the first `len` bytes of the message area. */
export function wipe(len: u32): void {
  memory.fill(KS, 0, 96 * 4);
  memory.fill(RAW, 0, 32 * 4);
  memory.fill(PC1M, 0, 56);
  memory.fill(PCR, 0, 56);
  memory.fill(KEY, 0, 24);
  memory.fill(IV, 0, 8);
  memory.fill(RC2K, 0, 128);
  memory.fill(dataPtr(), 0, len);
}
