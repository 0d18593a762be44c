/**
 * Just enough DER encoding to rebuild the canonical structures key import hands on: PKCS#8 for
 * WebCrypto import, and SubjectPublicKeyInfo for key ids and key↔certificate pairing.
 */

export function tlv(tag: number, content: Uint8Array): Uint8Array {
  const len = content.length;
  let head: number[];
  if (len < 0x80) head = [tag, len];
  else {
    const bytes: number[] = [];
    for (let n = len; n > 0; n = Math.floor(n / 256)) bytes.unshift(n & 0xff);
    head = [tag, 0x80 | bytes.length, ...bytes];
  }
  const out = new Uint8Array(head.length + len);
  out.set(head, 0);
  out.set(content, head.length);
  return out;
}

function cat(parts: readonly Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

export const seq = (...items: Uint8Array[]): Uint8Array => tlv(0x30, cat(items));
export const octetString = (b: Uint8Array): Uint8Array => tlv(0x04, b);
export const derNull = (): Uint8Array => new Uint8Array([0x05, 0x00]);
export const bitString = (b: Uint8Array): Uint8Array => tlv(0x03, cat([new Uint8Array([0]), b]));
/** Context-specific constructed [n] (EXPLICIT tagging). */
export const explicit = (n: number, content: Uint8Array): Uint8Array => tlv(0xa0 | n, content);

/** Non-negative INTEGER from magnitude bytes or a bigint, minimal encoding. */
export function uint(v: bigint | Uint8Array | number): Uint8Array {
  let b: Uint8Array;
  if (typeof v === 'number') v = BigInt(v);
  if (typeof v === 'bigint') {
    let hex = v.toString(16);
    if (hex.length % 2) hex = '0' + hex;
    b = new Uint8Array(hex.length / 2);
    for (let i = 0; i < b.length; i++) b[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  } else b = v;
  let i = 0;
  while (i < b.length - 1 && b[i] === 0) i++;
  b = b.subarray(i);
  if (b.length === 0) b = new Uint8Array([0]);
  if (b[0]! & 0x80) b = cat([new Uint8Array([0]), b]);
  return tlv(0x02, b);
}

export function oid(dotted: string): Uint8Array {
  const parts = dotted.split('.').map((x) => BigInt(x));
  const [a, b, ...rest] = parts;
  const out: number[] = [];
  for (const arc of [a! * 40n + b!, ...rest]) {
    const groups: number[] = [];
    let v = arc;
    do {
      groups.unshift(Number(v & 0x7fn));
      v >>= 7n;
    } while (v > 0n);
    for (let i = 0; i < groups.length - 1; i++) groups[i]! |= 0x80;
    out.push(...groups);
  }
  return tlv(0x06, new Uint8Array(out));
}
