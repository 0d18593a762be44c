/**
 * Bytes → text for a declared MIME charset, using only WHATWG TextDecoder labels so the result is
 * the same in Thunderbird, Node and the CLI. Mail lies about charsets often enough that every
 * guess we make instead of the label is reported (`charsetFallback`), never done silently.
 */

export interface DecodedText {
  text: string;
  /** The charset the text was actually decoded with (the declared label when it was usable). */
  charset: string;
  /** True when the declared charset was unknown, missing-but-wrong or did not fit the bytes. */
  charsetFallback?: boolean;
}

const cache = new Map<string, TextDecoder | null>();
const utf8Fatal = new TextDecoder('utf-8', { fatal: true });
const utf8Lenient = new TextDecoder('utf-8');
/** windows-1252 maps every byte to exactly one code unit, so it never fails and keeps offsets. */
const cp1252Raw = new TextDecoder('windows-1252');

/**
 * WHATWG windows-1252 for 0x80–0x9F. Node 20's TextDecoder decodes this label as plain latin1
 * (C1 controls) while Gecko follows the standard, so the CLI would show other text than the
 * add-on; the table makes both agree. (Undefined slots keep their C1 code point, as WHATWG does.)
 */
const CP1252_HIGH = '€\x81‚ƒ„…†‡ˆ‰Š‹Œ\x8dŽ\x8f\x90‘’“”•–—˜™š›œ\x9džŸ';
const HAS_C1 = /[\x80-\x9f]/;
const C1 = /[\x80-\x9f]/g;

export function decodeWindows1252(bytes: Uint8Array): string {
  const t = cp1252Raw.decode(bytes);
  return HAS_C1.test(t) ? t.replace(C1, (c) => CP1252_HIGH[c.charCodeAt(0) - 0x80]!) : t;
}
const cp1252 = { decode: decodeWindows1252 };

function decoderFor(label: string): TextDecoder | null {
  let d = cache.get(label);
  if (d !== undefined) return d;
  try {
    d = new TextDecoder(label);
  } catch {
    // RangeError: unknown label, or one of the "replacement" encodings (iso-2022-kr, hz-gb-2312),
    // which would turn the whole text into a single U+FFFD.
    d = null;
  }
  if (cache.size < 64) cache.set(label, d);
  return d;
}

export function normalizeCharset(label: string | undefined): string {
  return (label ?? '').trim().replace(/^["']|["']$/g, '').toLowerCase();
}

function tryUtf8(bytes: Uint8Array): string | null {
  try {
    return utf8Fatal.decode(bytes);
  } catch {
    return null;
  }
}

/** Latin-1 look of bytes without a per-byte loop; for ASCII-only syntax (base64, headers, QP). */
export function asciiText(bytes: Uint8Array): string {
  return cp1252Raw.decode(bytes);
}

export function decodeCharset(bytes: Uint8Array, declared?: string): DecodedText {
  const label = normalizeCharset(declared);
  // RFC 2045 default. Real mail labelled us-ascii (or unlabelled) very often carries UTF-8; valid
  // UTF-8 is a strict superset of ASCII, so one fatal decode answers both questions.
  if (label === '' || label === 'us-ascii' || label === 'ascii' || label === 'ansi_x3.4-1968') {
    const t = tryUtf8(bytes);
    if (t !== null) {
      // Same length means every byte was ASCII, i.e. the label was honest.
      return t.length === bytes.length ? { text: t, charset: 'us-ascii' } : { text: t, charset: 'utf-8', charsetFallback: true };
    }
    return { text: cp1252.decode(bytes), charset: 'windows-1252', charsetFallback: true };
  }
  if (label === 'utf-8' || label === 'utf8') {
    const t = tryUtf8(bytes);
    if (t !== null) return { text: t, charset: 'utf-8' };
    // Invalid sequences are shown as U+FFFD rather than re-guessing the whole text as 1252:
    // one bad byte in a long UTF-8 text must not turn everything else into mojibake.
    return { text: utf8Lenient.decode(bytes), charset: 'utf-8', charsetFallback: true };
  }
  const d = decoderFor(label);
  if (d) return { text: d.encoding === 'windows-1252' ? cp1252.decode(bytes) : d.decode(bytes), charset: label };
  const t = tryUtf8(bytes);
  if (t !== null) return { text: t, charset: 'utf-8', charsetFallback: true };
  return { text: cp1252.decode(bytes), charset: 'windows-1252', charsetFallback: true };
}
