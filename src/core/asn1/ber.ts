import { UnsealError } from '../errors.js';

/**
 * A minimal zero-copy BER/DER reader. The CMS envelope (ContentInfo → EnvelopedData →
 * EncryptedContentInfo) is walked with it instead of a full ASN.1 object tree, so a 100 MB message
 * costs one copy of the ciphertext, indefinite lengths and any chunking of constructed OCTET
 * STRINGs are handled, and a declared length larger than the input fails at once instead of
 * allocating (torture case 33). Small sub-structures (recipient infos, algorithm parameters) go
 * to asn1js/pkijs, which are fine at that size.
 */
export interface Tlv {
  /** Tag class: 0 universal, 1 application, 2 context, 3 private. */
  readonly cls: number;
  readonly constructed: boolean;
  readonly tag: number;
  /** Offset of the identifier octet. */
  readonly start: number;
  /** Offset of the first content octet. */
  readonly contentStart: number;
  /** Offset after the last content octet (before the end-of-contents octets if indefinite). */
  readonly contentEnd: number;
  /** Offset after the whole element including end-of-contents octets. */
  readonly end: number;
  readonly indefinite: boolean;
}

export const MAX_DEPTH = 64;

function malformed(msg: string): never {
  throw new UnsealError('malformed_cms', msg);
}

/** Reads one element at `offset`; `limit` is the end of the enclosing content. */
export function readTlv(buf: Uint8Array, offset: number, limit = buf.length, depth = 0): Tlv {
  if (depth > MAX_DEPTH) malformed('ASN.1 nesting too deep');
  let p = offset;
  if (p >= limit) malformed('unexpected end of data');
  const id = buf[p++]!;
  const cls = id >> 6;
  const constructed = (id & 0x20) !== 0;
  let tag = id & 0x1f;
  if (tag === 0x1f) {
    tag = 0;
    for (let i = 0; ; i++) {
      if (p >= limit || i > 4) malformed('bad ASN.1 tag');
      const b = buf[p++]!;
      tag = tag * 128 + (b & 0x7f);
      if ((b & 0x80) === 0) break;
    }
  }
  if (p >= limit) malformed('unexpected end of data in length');
  const first = buf[p++]!;
  if (first === 0x80) {
    if (!constructed) malformed('indefinite length on a primitive element');
    // Find the end by walking children up to the end-of-contents marker.
    let q = p;
    for (;;) {
      if (q + 2 > limit) malformed('missing end-of-contents (data truncated)');
      if (buf[q] === 0 && buf[q + 1] === 0) {
        return { cls, constructed, tag, start: offset, contentStart: p, contentEnd: q, end: q + 2, indefinite: true };
      }
      q = readTlv(buf, q, limit, depth + 1).end;
    }
  }
  let len: number;
  if (first < 0x80) len = first;
  else {
    const n = first & 0x7f;
    if (n > 6) malformed('ASN.1 length too large');
    len = 0;
    for (let i = 0; i < n; i++) {
      if (p >= limit) malformed('unexpected end of data in length');
      len = len * 256 + buf[p++]!;
    }
  }
  if (p + len > limit) malformed(`declared length ${len} exceeds the available ${limit - p} bytes (truncated or corrupt)`);
  return { cls, constructed, tag, start: offset, contentStart: p, contentEnd: p + len, end: p + len, indefinite: false };
}

/** The children of a constructed element. */
export function children(buf: Uint8Array, t: Tlv, depth = 0): Tlv[] {
  const out: Tlv[] = [];
  let p = t.contentStart;
  while (p < t.contentEnd) {
    const c = readTlv(buf, p, t.contentEnd, depth + 1);
    out.push(c);
    p = c.end;
  }
  return out;
}

export function expectTag(t: Tlv | undefined, cls: number, tag: number, what: string): Tlv {
  if (!t || t.cls !== cls || t.tag !== tag) malformed(`expected ${what}`);
  return t;
}

/**
 * Content octets of an OCTET STRING (or implicitly tagged one), primitive or constructed with any
 * chunking and nesting. Primitive content is returned as a view (no copy).
 */
export function octets(buf: Uint8Array, t: Tlv, depth = 0): Uint8Array {
  if (!t.constructed) return buf.subarray(t.contentStart, t.contentEnd);
  return joinChunks(octetChunks(buf, t, depth));
}

/** The pieces of an OCTET STRING's content in order, as views into `buf` (nothing copied). */
export function octetChunks(buf: Uint8Array, t: Tlv, depth = 0): Uint8Array[] {
  if (!t.constructed) return [buf.subarray(t.contentStart, t.contentEnd)];
  const parts: Uint8Array[] = [];
  collectOctets(buf, t, parts, depth);
  return parts;
}

/** One buffer holding the chunks in order (the chunk itself when there is only one). */
export function joinChunks(parts: readonly Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  let n = 0;
  for (const x of parts) n += x.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const x of parts) {
    out.set(x, o);
    o += x.length;
  }
  return out;
}

function collectOctets(buf: Uint8Array, t: Tlv, parts: Uint8Array[], depth: number): void {
  if (depth > MAX_DEPTH) malformed('OCTET STRING nesting too deep');
  for (const c of children(buf, t, depth)) {
    if (c.cls !== 0 || c.tag !== 4) malformed('constructed OCTET STRING holds a non-OCTET STRING');
    if (c.constructed) collectOctets(buf, c, parts, depth + 1);
    else parts.push(buf.subarray(c.contentStart, c.contentEnd));
  }
}

/** Dotted OID from an OBJECT IDENTIFIER element. */
export function oid(buf: Uint8Array, t: Tlv): string {
  if (t.cls !== 0 || t.tag !== 6 || t.constructed) malformed('expected OBJECT IDENTIFIER');
  const parts: number[] = [];
  let v = 0;
  for (let i = t.contentStart; i < t.contentEnd; i++) {
    const b = buf[i]!;
    v = v * 128 + (b & 0x7f);
    if ((b & 0x80) === 0) {
      if (parts.length === 0) {
        const a = v < 40 ? 0 : v < 80 ? 1 : 2;
        parts.push(a, v - a * 40);
      } else parts.push(v);
      v = 0;
    }
  }
  return parts.join('.');
}

/** Non-negative small INTEGER (versions, iteration counts, key lengths). */
export function smallInt(buf: Uint8Array, t: Tlv): number {
  if (t.cls !== 0 || t.tag !== 2) malformed('expected INTEGER');
  let v = 0;
  if (t.contentEnd - t.contentStart > 6) malformed('INTEGER too large');
  for (let i = t.contentStart; i < t.contentEnd; i++) v = v * 256 + buf[i]!;
  return v;
}

/** Re-encodes an element as DER-compatible bytes for asn1js: definite-length views stay views. */
export function raw(buf: Uint8Array, t: Tlv): Uint8Array {
  return buf.subarray(t.start, t.end);
}
