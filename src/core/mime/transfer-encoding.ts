import { base64Decode, concatBytes, indexOfAscii } from '../bytes.js';
import { asciiText } from './charset.js';

/**
 * Base64 text is ASCII, where UTF-8 and latin1 agree; the UTF-8 decoder has the fastest native
 * ASCII path (3-4x windows-1252 on 100 MB in Node). Stray 8-bit junk becomes U+FFFD and is
 * dropped by the lenient path like any other non-alphabet character.
 */
const utf8 = new TextDecoder('utf-8');

/**
 * Content-Transfer-Encoding decoders. Big bodies go through native paths (TextDecoder for the
 * text view, base64Decode's native decoder, TypedArray.set for QP literal runs) because per-byte
 * JS loops are 9–20× slower inside Thunderbird than in Node.
 */

const NOT_B64 = /[^A-Za-z0-9+/\-_=]+/g;
const PAD_RUN = /=+/;

/**
 * Bodies above this many bytes are decoded in slices of BASE64_SLICE_BYTES: a JS string cannot
 * exceed 2^29 - 24 characters (V8; Gecko's limit is similar), so a 450 MB base64 body cannot be
 * one string, and one string of a few hundred MB would also double the memory held.
 */
export const BASE64_WHOLE_MAX_BYTES = 128 * 1024 * 1024;
export const BASE64_SLICE_BYTES = 16 * 1024 * 1024;

/**
 * Mail base64 as found in the wild: the strict bulk decoder first; if the body carries junk
 * (mailing-list footers, stray punctuation, several padded chunks glued together) it is decoded
 * leniently by dropping non-alphabet characters and decoding each padded chunk on its own.
 * Very large bodies are decoded slice by slice with the same lenient rules (which give the strict
 * result for clean base64), so no single string holds the whole body.
 */
export function decodeBase64Body(body: Uint8Array, opts: { wholeMax?: number; slice?: number } = {}): Uint8Array {
  if (body.length > (opts.wholeMax ?? BASE64_WHOLE_MAX_BYTES)) return decodeBase64Sliced(body, opts.slice ?? BASE64_SLICE_BYTES);
  const text = utf8.decode(body);
  try {
    return base64Decode(text);
  } catch {
    const chunks: Uint8Array[] = [];
    for (let piece of text.replace(NOT_B64, '').split(PAD_RUN)) {
      if (piece.length % 4 === 1) piece = piece.slice(0, -1);
      if (piece) chunks.push(base64Decode(piece));
    }
    return chunks.length === 1 ? chunks[0]! : concatBytes(chunks);
  }
}

/**
 * The lenient decoder over slices of the body. Only alphabet characters count (whitespace and junk
 * may sit anywhere, also across slice edges); a quantum cut by a slice edge is carried into the
 * next slice; a padding run ends a chunk, which is decoded on its own as in the whole-body path.
 */
function decodeBase64Sliced(body: Uint8Array, slice: number): Uint8Array {
  const out = new Uint8Array(Math.floor((body.length * 3) / 4) + 3);
  let o = 0;
  let carry = '';
  const emit = (piece: string): void => {
    if (piece.length % 4 === 1) piece = piece.slice(0, -1);
    if (!piece) return;
    const d = base64Decode(piece);
    out.set(d, o);
    o += d.length;
  };
  const step = Math.max(4, slice);
  for (let at = 0; at < body.length; at += step) {
    const last = at + step >= body.length;
    const pieces = (carry + utf8.decode(body.subarray(at, Math.min(body.length, at + step)))).replace(NOT_B64, '').split(PAD_RUN);
    // Every piece but the last ended at padding: a complete chunk.
    for (let k = 0; k < pieces.length - 1; k++) emit(pieces[k]!);
    const tail = pieces[pieces.length - 1]!;
    if (last) {
      emit(tail);
      carry = '';
    } else {
      const whole = tail.length - (tail.length % 4);
      if (whole > 0) emit(tail.slice(0, whole));
      carry = tail.slice(whole);
    }
  }
  return out.subarray(0, o);
}

function hexVal(c: number | undefined): number {
  if (c === undefined) return -1;
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 65 && c <= 70) return c - 55;
  if (c >= 97 && c <= 102) return c - 87; // lower-case hex is invalid but common
  return -1;
}

/**
 * Quoted-printable (RFC 2045 6.7). Runs between '=' are copied natively; soft line breaks may be
 * followed by transport whitespace and either CRLF or bare LF. An '=' not followed by two hex
 * digits or a line break is kept literally (what most readers do with hand-typed '=').
 */
export function decodeQuotedPrintable(body: Uint8Array): Uint8Array {
  const n = body.length;
  const out = new Uint8Array(n);
  let o = 0;
  let i = 0;
  while (i < n) {
    const eq = body.indexOf(0x3d, i);
    const stop = eq === -1 ? n : eq;
    out.set(body.subarray(i, stop), o);
    o += stop - i;
    if (eq === -1) break;
    const h = hexVal(body[eq + 1]);
    const l = hexVal(body[eq + 2]);
    if (h >= 0 && l >= 0) {
      out[o++] = (h << 4) | l;
      i = eq + 3;
      continue;
    }
    let j = eq + 1;
    while (j < n && (body[j] === 0x20 || body[j] === 0x09)) j++;
    if (j >= n) i = n;
    else if (body[j] === 0x0a) i = j + 1;
    else if (body[j] === 0x0d) i = body[j + 1] === 0x0a ? j + 2 : j + 1;
    else {
      out[o++] = 0x3d;
      i = eq + 1;
    }
  }
  return out.subarray(0, o);
}

/**
 * x-uuencode: decodes the first `begin … end` block (or every line when there is no `begin`).
 * Rare in S/MIME era mail, so a simple per-line loop is fine.
 */
export function decodeUuencode(body: Uint8Array): Uint8Array {
  const lines = asciiText(body).split(/\r\n|\r|\n/);
  let k = lines.findIndex((l) => l.startsWith('begin '));
  k = k === -1 ? 0 : k + 1;
  const out = new Uint8Array(Math.ceil((body.length * 3) / 4));
  let o = 0;
  for (; k < lines.length; k++) {
    const line = lines[k]!;
    if (line === 'end' || line.startsWith('end ')) break;
    if (line.length === 0) continue;
    const len = (line.charCodeAt(0) - 32) & 63;
    if (len === 0) break;
    const v = (p: number): number => ((line.charCodeAt(p) || 32) - 32) & 63;
    let written = 0;
    for (let p = 1; written < len; p += 4) {
      const a = v(p), b = v(p + 1), c = v(p + 2), d = v(p + 3);
      const trip = [(a << 2) | (b >> 4), ((b & 15) << 4) | (c >> 2), ((c & 3) << 6) | d];
      for (const x of trip) if (written < len) { out[o++] = x & 0xff; written++; }
    }
  }
  return out.subarray(0, o);
}

export interface ArmouredBody {
  /** The label between `-----BEGIN ` and `-----`. */
  readonly label: string;
  /** Offset of `-----BEGIN`. */
  readonly begin: number;
  /** The base64 text (RFC 1421 header lines skipped): a view. */
  readonly body: Uint8Array;
}

const MAX_LABEL = 64;

/**
 * The first PEM armour block that starts in bytes[from, searchEnd) and has one of `labels` (any
 * label when omitted), found on the bytes so a 600 MB PEM never becomes one string. Lines may end
 * in CRLF, LF or CR. Null when there is none or its END line is missing.
 */
export function findArmour(bytes: Uint8Array, opts: { labels?: readonly string[]; from?: number; searchEnd?: number } = {}): ArmouredBody | null {
  const searchEnd = Math.min(bytes.length, opts.searchEnd ?? bytes.length);
  for (let b = indexOfAscii(bytes, '-----BEGIN ', opts.from ?? 0, searchEnd + 11); b !== -1; b = indexOfAscii(bytes, '-----BEGIN ', b + 1, searchEnd + 11)) {
    const labelStart = b + 11;
    const labelEnd = indexOfAscii(bytes, '-----', labelStart, Math.min(bytes.length, labelStart + MAX_LABEL + 5));
    if (labelEnd === -1) continue;
    const label = asciiText(bytes.subarray(labelStart, labelEnd));
    if (opts.labels && !opts.labels.includes(label)) continue;
    const end = indexOfAscii(bytes, `-----END ${label}-----`, labelEnd + 5);
    if (end === -1) continue;
    let bodyStart = labelEnd + 5;
    // RFC 1421 header lines ("Proc-Type: ...") up to a blank line are not base64.
    const head = asciiText(bytes.subarray(bodyStart, Math.min(end, bodyStart + 4096)));
    const m = /^[ \t]*(?:\r\n|\r|\n)((?:[A-Za-z][A-Za-z0-9-]*:[^\r\n]*(?:\r\n|\r|\n)(?:[ \t][^\r\n]*(?:\r\n|\r|\n))*)+)(?:[ \t]*(?:\r\n|\r|\n))?/.exec(head);
    if (m) bodyStart += m[0].length;
    return { label, begin: b, body: bytes.subarray(bodyStart, end) };
  }
  return null;
}
