import { fail } from '../errors.js';
import { decodeWindows1252 } from './charset.js';
import type { Header } from './entity.js';
import { breakLength, LineBreaks } from './lines.js';

/**
 * Reads the header block of an entity straight from the bytes, one line at a time (native
 * indexOf for line ends), and decides where the body starts.
 *
 * Heuristics, each from a real failure:
 * - A first line that is not `name: value` with an RFC 5322 field name (printable ASCII, no
 *   colon, optional WSP before the colon), or that starts with whitespace, means the entity has
 *   no header block at all: everything is body (decrypted CMS content that is bare text).
 * - A blank first line also means no headers; the body starts after it (RFC 2045 part syntax).
 * - A later line that is neither a field nor a continuation ends the headers without a blank
 *   line; the body starts at that line. If such an unterminated block has none of the well-known
 *   message/MIME fields it was prose that happened to start with `Word: …`, and is all body.
 */

export const MAX_HEADER_BYTES = 1 << 20;
export const MAX_HEADERS = 10_000;
const MAX_NAME = 998;

const KNOWN = new Set([
  'content-type', 'content-transfer-encoding', 'content-disposition', 'content-id', 'content-description',
  'mime-version', 'from', 'to', 'cc', 'subject', 'date', 'message-id', 'received', 'return-path', 'reply-to', 'sender',
]);

const utf8Fatal = new TextDecoder('utf-8', { fatal: true });
const LINE_BREAK = /\r\n|\r|\n/g;

function fieldNameEnd(bytes: Uint8Array, pos: number, lineEnd: number): number {
  let i = pos;
  const limit = Math.min(lineEnd, pos + MAX_NAME);
  while (i < limit) {
    const b = bytes[i]!;
    if (b === 0x3a) return i > pos ? i : -1;
    if (b === 0x20 || b === 0x09) {
      const nameEnd = i;
      while (i < limit && (bytes[i] === 0x20 || bytes[i] === 0x09)) i++;
      return i < limit && bytes[i] === 0x3a && nameEnd > pos ? i : -1;
    }
    if (b < 33 || b > 126) return -1;
    i++;
  }
  return -1;
}

/** RFC 6532 allows raw UTF-8 in headers; anything else 8-bit is read as windows-1252. */
function headerText(bytes: Uint8Array): string {
  try {
    return utf8Fatal.decode(bytes);
  } catch {
    return decodeWindows1252(bytes);
  }
}

export function readHeaders(bytes: Uint8Array, start: number, end: number): { headers: Header[]; bodyStart: number } {
  const spans: Array<[number, number]> = [];
  let pos = start;
  let terminated = false;
  let bodyStart = end;
  const breaks = new LineBreaks(bytes, end);
  while (pos < end) {
    // A line ends at CRLF, LF or a bare CR.
    const br = breaks.at(pos);
    const contentEnd = br === -1 ? end : br;
    const next = br === -1 ? end : br + breakLength(bytes, br, end);
    if (contentEnd === pos) {
      terminated = true;
      bodyStart = next;
      break;
    }
    const c = bytes[pos];
    if (c === 0x20 || c === 0x09) {
      const last = spans[spans.length - 1];
      if (!last) return { headers: [], bodyStart: start };
      last[1] = contentEnd;
    } else if (fieldNameEnd(bytes, pos, contentEnd) !== -1) {
      if (spans.length >= MAX_HEADERS) fail('malformed_mime', `more than ${MAX_HEADERS} header fields in one entity`);
      spans.push([pos, contentEnd]);
    } else {
      if (spans.length === 0) return { headers: [], bodyStart: start };
      bodyStart = pos;
      break;
    }
    if (next - start > MAX_HEADER_BYTES) fail('malformed_mime', `header block larger than ${MAX_HEADER_BYTES} bytes`);
    pos = next;
  }
  const headers: Header[] = [];
  for (const [s, e] of spans) {
    const text = headerText(bytes.subarray(s, e)).replace(LINE_BREAK, '');
    const colon = text.indexOf(':');
    headers.push({ name: text.slice(0, colon).trim(), value: text.slice(colon + 1).trim() });
  }
  if (!terminated && !headers.some((h) => KNOWN.has(h.name.toLowerCase()))) return { headers: [], bodyStart: start };
  return { headers, bodyStart };
}
