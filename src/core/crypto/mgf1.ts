import { hashLength, hashSync, type HashName } from './hash.js';

/** RFC 8017 B.2.1 MGF1. */
export function mgf1(hash: HashName, seed: Uint8Array, len: number): Uint8Array {
  const hLen = hashLength(hash);
  const out = new Uint8Array(Math.ceil(len / hLen) * hLen);
  const input = new Uint8Array(seed.length + 4);
  input.set(seed);
  for (let counter = 0, off = 0; off < len; counter++, off += hLen) {
    input[seed.length] = counter >>> 24;
    input[seed.length + 1] = (counter >>> 16) & 0xff;
    input[seed.length + 2] = (counter >>> 8) & 0xff;
    input[seed.length + 3] = counter & 0xff;
    out.set(hashSync(hash, input), off);
  }
  return out.subarray(0, len);
}
