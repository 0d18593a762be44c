/** Big-endian byte ↔ BigInt conversion and the modular arithmetic RSA needs. */

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

export function bytesToBigInt(b: Uint8Array): bigint {
  if (b.length === 0) return 0n;
  // One hex string and one BigInt parse beats a byte-wise shift/or loop by far for 256+ bytes.
  let s = '0x';
  for (let i = 0; i < b.length; i++) s += HEX[b[i]!]!;
  return BigInt(s);
}

/** Fixed-length big-endian encoding (I2OSP); throws if x does not fit, which would be a bug. */
export function bigIntToBytes(x: bigint, len: number): Uint8Array {
  if (x < 0n) throw new RangeError('negative integer');
  const hex = x.toString(16);
  if (hex.length > len * 2) throw new RangeError('integer too large for the requested length');
  const out = new Uint8Array(len);
  const off = len - Math.ceil(hex.length / 2);
  // An odd-length hex string gets its missing leading nibble by starting one char early.
  let h = hex.length % 2 === 1 ? -1 : 0;
  for (let i = off; i < len; i++, h += 2) {
    out[i] = parseInt(h < 0 ? hex[0]! : hex.slice(h, h + 2), 16);
  }
  return out;
}

export function bitLength(x: bigint): number {
  return x === 0n ? 0 : x.toString(2).length;
}

/**
 * Modular exponentiation with a fixed 4-bit window read straight from the exponent's hex digits:
 * about 1 multiplication per 4 squarings instead of 1 per 2, which is most of the RSA cost.
 */
export function modPow(base: bigint, exp: bigint, m: bigint): bigint {
  if (m === 1n) return 0n;
  const b = ((base % m) + m) % m;
  const table: bigint[] = [1n, b];
  for (let i = 2; i < 16; i++) table.push((table[i - 1]! * b) % m);
  const digits = exp.toString(16);
  let r = 1n;
  for (let i = 0; i < digits.length; i++) {
    if (i > 0) {
      r = (r * r) % m;
      r = (r * r) % m;
      r = (r * r) % m;
      r = (r * r) % m;
    }
    // Multiplying by table[0] = 1 keeps the operation sequence independent of zero digits.
    r = (r * table[parseInt(digits[i]!, 16)]!) % m;
  }
  return r;
}

/** Inverse of a modulo m, or undefined when gcd(a, m) ≠ 1. */
export function modInverse(a: bigint, m: bigint): bigint | undefined {
  let r0 = ((a % m) + m) % m;
  let r1 = m;
  let s0 = 1n;
  let s1 = 0n;
  while (r1 !== 0n) {
    const q = r0 / r1;
    [r0, r1] = [r1, r0 - q * r1];
    [s0, s1] = [s1, s0 - q * s1];
  }
  if (r0 !== 1n) return undefined;
  return ((s0 % m) + m) % m;
}

/** Random bytes from the runtime CSPRNG (Gecko, Node and browsers all expose getRandomValues). */
export function randomBytes(n: number): Uint8Array {
  const c = (globalThis as { crypto?: { getRandomValues?: (a: Uint8Array) => Uint8Array } }).crypto;
  if (!c?.getRandomValues) throw new Error('no CSPRNG available (crypto.getRandomValues)');
  const out = new Uint8Array(n);
  // getRandomValues refuses more than 65536 bytes per call.
  for (let i = 0; i < n; i += 65536) c.getRandomValues(out.subarray(i, Math.min(n, i + 65536)));
  return out;
}
