import { base64Decode, concatBytes } from '../bytes.js';
import { decodeCharset } from './charset.js';

/**
 * RFC 2047 encoded-words. The pattern has no nested or overlapping quantifiers (each run stops at
 * '?' or whitespace), so scanning attacker-controlled headers stays linear.
 */
const ENCODED_WORD = /=\?([^?\s]+)\?([bBqQ])\?([^?\s]*)\?=/g;
const ONLY_SPACE = /^[ \t\r\n]*$/;

function hexVal(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 65 && c <= 70) return c - 55;
  if (c >= 97 && c <= 102) return c - 87;
  return -1;
}

function decodeQ(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  let o = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x5f) out[o++] = 0x20;
    else if (c === 0x3d && i + 2 < text.length && hexVal(text.charCodeAt(i + 1)) >= 0 && hexVal(text.charCodeAt(i + 2)) >= 0) {
      out[o++] = (hexVal(text.charCodeAt(i + 1)) << 4) | hexVal(text.charCodeAt(i + 2));
      i += 2;
    } else out[o++] = c & 0xff;
  }
  return out.subarray(0, o);
}

function decodeWord(enc: string, text: string): Uint8Array | null {
  if (enc === 'q' || enc === 'Q') return decodeQ(text);
  try {
    return base64Decode(text);
  } catch {
    return null;
  }
}

/**
 * Decodes RFC 2047 words in a header value (B and Q, any TextDecoder charset; RFC 2231 `*lang`
 * suffixes ignored). Adjacent words of one charset are joined as bytes before decoding, because
 * encoders split multi-byte UTF-8 characters across words. Undecodable words stay literal.
 */
export function decodeHeaderWords(value: string): string {
  if (value.indexOf('=?') === -1) return value;
  let out = '';
  let last = 0;
  let pending: { charset: string; chunks: Uint8Array[] } | null = null;
  const flush = (): void => {
    if (pending) out += decodeCharset(concatBytes(pending.chunks), pending.charset).text;
    pending = null;
  };
  for (const m of value.matchAll(ENCODED_WORD)) {
    const at = m.index;
    const between = value.slice(last, at);
    const bytes = decodeWord(m[2]!, m[3]!);
    last = at + m[0].length;
    if (!bytes) {
      flush();
      out += between + m[0];
      continue;
    }
    const charset = m[1]!.split('*')[0]!.toLowerCase();
    // Whitespace between two encoded-words is folding, not content (RFC 2047 §6.2).
    if (!(pending && ONLY_SPACE.test(between))) {
      flush();
      out += between;
    }
    const p = pending as { charset: string; chunks: Uint8Array[] } | null;
    if (p && p.charset === charset) p.chunks.push(bytes);
    else {
      flush();
      pending = { charset, chunks: [bytes] };
    }
  }
  flush();
  return out + value.slice(last);
}
