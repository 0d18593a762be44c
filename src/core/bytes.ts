/** Byte helpers that run the same in Thunderbird, Node and the CLI (no Buffer, no DOM). */

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const B64_LOOKUP = (() => {
  const t = new Int16Array(256).fill(-1);
  for (let i = 0; i < 64; i++) t[B64.charCodeAt(i)] = i;
  t['-'.charCodeAt(0)] = 62; // base64url, seen in hand-made PEM
  t['_'.charCodeAt(0)] = 63;
  return t;
})();

type FromBase64 = (s: string, o?: { lastChunkHandling?: string }) => Uint8Array;
const nativeFromBase64 = (Uint8Array as unknown as { fromBase64?: FromBase64 }).fromBase64;
type NodeBuffer = { from(s: string, enc: string): Uint8Array };
const nodeBuffer = (globalThis as unknown as { Buffer?: NodeBuffer }).Buffer;

/**
 * Decodes base64 that mail really carries: any line length, CR/LF/space/tab anywhere, missing
 * padding, base64url characters. Bulk work goes to `Uint8Array.fromBase64` (Gecko) or Buffer
 * (Node) on the text as it is, because a per-byte JS loop — or even a whole-string regex pass — is
 * expensive on 100 MB inside Debian's Thunderbird; the loop is the fallback. Characters outside
 * the alphabet are an error rather than silently skipped, so garbage is not mistaken for content.
 */
export function base64Decode(text: string): Uint8Array {
  if (nativeFromBase64) {
    try {
      return nativeFromBase64(text, { lastChunkHandling: 'loose' });
    } catch {
      // base64url or garbage: the checked path below decides.
    }
  }
  if (/[^A-Za-z0-9+/=\r\n\t \-_]/.test(text)) throw new TypeError('not base64');
  const eq = text.indexOf('=');
  // Padding before the end means glued chunks; say so instead of silently stopping there.
  if (eq !== -1 && /[A-Za-z0-9+/\-_]/.test(text.slice(eq))) throw new TypeError('base64 padding before the end');
  if (nodeBuffer) return new Uint8Array(nodeBuffer.from(text, 'base64'));
  const out = new Uint8Array(Math.floor((text.length * 3) / 4));
  let o = 0;
  let acc = 0;
  let bits = 0;
  for (let i = 0; i < text.length; i++) {
    const v = B64_LOOKUP[text.charCodeAt(i)]!;
    if (v < 0) {
      if (text[i] === '=') break;
      continue; // whitespace
    }
    acc = ((acc << 6) | v) & 0xffffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (acc >> bits) & 0xff;
    }
  }
  return out.subarray(0, o);
}

export function base64Encode(bytes: Uint8Array): string {
  const native = (bytes as unknown as { toBase64?: () => string }).toBase64;
  if (typeof native === 'function') return native.call(bytes);
  if (nodeBuffer) return (nodeBuffer as unknown as { from(b: Uint8Array): { toString(e: string): string } }).from(bytes).toString('base64');
  let s = '';
  for (let i = 0; i < bytes.length; i += 3) {
    const n = (bytes[i]! << 16) | ((bytes[i + 1] ?? 0) << 8) | (bytes[i + 2] ?? 0);
    s += B64[(n >> 18) & 63]! + B64[(n >> 12) & 63]!;
    s += i + 1 < bytes.length ? B64[(n >> 6) & 63]! : '=';
    s += i + 2 < bytes.length ? B64[n & 63]! : '=';
  }
  return s;
}

export function hexEncode(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += b.toString(16).padStart(2, '0');
  return s;
}

export function hexDecode(hex: string): Uint8Array {
  const h = hex.replace(/[\s:]/g, '');
  if (h.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(h)) throw new TypeError('not hex');
  const out = new Uint8Array(h.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(h.slice(i * 2, i * 2 + 2), 16);
  return out;
}

/** Offset of an ASCII needle in bytes at or after `from` (native indexOf on its first byte), or -1. */
export function indexOfAscii(bytes: Uint8Array, needle: string, from = 0, end = bytes.length): number {
  const first = needle.charCodeAt(0);
  for (let i = bytes.indexOf(first, from); i !== -1 && i + needle.length <= end; i = bytes.indexOf(first, i + 1)) {
    let k = 1;
    while (k < needle.length && bytes[i + k] === needle.charCodeAt(k)) k++;
    if (k === needle.length) return i;
  }
  return -1;
}

export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
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

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Constant-time comparison for MACs, tags and padding checks. */
export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a[i]! ^ b[i]!;
  return d === 0;
}

/** Latin-1 view of bytes: one char per byte, for header and MIME-structure scanning. */
export function latin1(bytes: Uint8Array): string {
  let s = '';
  const CH = 0x8000;
  for (let i = 0; i < bytes.length; i += CH) {
    s += String.fromCharCode.apply(null, bytes.subarray(i, i + CH) as unknown as number[]);
  }
  return s;
}

export function latin1Bytes(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i) & 0xff;
  return out;
}

export const utf8 = {
  encode: (s: string): Uint8Array => new TextEncoder().encode(s),
  decode: (b: Uint8Array): string => new TextDecoder('utf-8').decode(b),
};

/** WebCrypto wants a BufferSource backed by an ArrayBuffer; subarrays of big buffers stay views. */
export function asBufferSource(b: Uint8Array): Uint8Array<ArrayBuffer> {
  return b as Uint8Array<ArrayBuffer>;
}

export async function sha256Hex(crypto: SubtleCrypto, data: Uint8Array): Promise<string> {
  return hexEncode(new Uint8Array(await crypto.digest('SHA-256', asBufferSource(data))));
}
