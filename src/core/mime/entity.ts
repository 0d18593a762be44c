import { fail } from '../errors.js';
import { decodeCharset, normalizeCharset } from './charset.js';
import { readHeaders } from './headers.js';
import { breakLength, LineBreaks } from './lines.js';
import { splitMultipart } from './multipart.js';
import { parseParams } from './params.js';
import { decodeHeaderWords } from './rfc2047.js';
import { decodeBase64Body, decodeQuotedPrintable, decodeUuencode } from './transfer-encoding.js';

export { decodeHeaderWords };

export interface Header {
  name: string;
  /** Unfolded, trimmed, not RFC 2047-decoded. */
  value: string;
}

export interface ContentType {
  type: string;
  subtype: string;
  /** Lower-cased `type/subtype`. */
  mime: string;
  /** Lower-cased keys; RFC 2231 continuations and charsets decoded. */
  params: Record<string, string>;
}

export interface MimeEntity {
  headers: Header[];
  contentType: ContentType;
  transferEncoding: string;
  disposition?: { type: string; params: Record<string, string> };
  filename?: string;
  /** The whole entity (headers + body) exactly as in the input: a view, not a copy. */
  raw: Uint8Array;
  /** Body bytes, still transfer-encoded: a view. */
  body: Uint8Array;
  children: MimeEntity[];
  message?: MimeEntity;
}

/** Deeper nesting than this is an attack (or a loop in a generator), not mail. */
export const MAX_DEPTH = 50;
export const MAX_ENTITIES = 10_000;

const TOKEN = /^[!#$%&'*+\-.0-9A-Z^_`a-z{|}~]+$/;

interface Ctx {
  entities: number;
}

function startsWithAscii(bytes: Uint8Array, at: number, s: string): boolean {
  if (bytes.length - at < s.length) return false;
  for (let k = 0; k < s.length; k++) if (bytes[at + k] !== s.charCodeAt(k)) return false;
  return true;
}

/**
 * Parses a message (or decrypted CMS content) into a tree whose `raw`/`body` are views of
 * `bytes`. Tolerates CRLF, bare LF or bare CR line ends, a UTF-8 BOM, an mbox `From ` line, missing close delimiters and
 * header-less content. Throws `malformed_mime` only for input that is not a message at all
 * (empty, or binary without headers) and for nesting/size limits that real mail never reaches.
 */
export function parseMime(bytes: Uint8Array): MimeEntity {
  // A UTF-8 byte order mark (Windows editors save .eml files with one) is not part of the message.
  const first = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
  let start = first;
  if (startsWithAscii(bytes, start, 'From ')) {
    const nl = new LineBreaks(bytes, bytes.length).at(start);
    start = nl === -1 ? bytes.length : nl + breakLength(bytes, nl, bytes.length);
  }
  if (start >= bytes.length) fail('malformed_mime', 'empty input: not a MIME message');
  let root = parseEntity(bytes, start, bytes.length, 0, { entities: 0 }, false);
  // An mbox separator is followed by headers; header-less text that merely starts with "From "
  // ("From now on…", torture 25's class of input) keeps its first line.
  if (start > first && root.headers.length === 0) {
    start = first;
    root = parseEntity(bytes, start, bytes.length, 0, { entities: 0 }, false);
  }
  // Text never holds NUL; a header-less blob that does is DER, an archive or similar, not mail.
  if (root.headers.length === 0 && bytes.subarray(start, start + 1024).indexOf(0) !== -1) {
    fail('malformed_mime', 'input is binary data without any MIME header, not a message');
  }
  return root;
}

function parseEntity(bytes: Uint8Array, start: number, end: number, depth: number, ctx: Ctx, inDigest: boolean): MimeEntity {
  if (depth > MAX_DEPTH) fail('malformed_mime', `MIME nesting deeper than ${MAX_DEPTH} levels`);
  if (++ctx.entities > MAX_ENTITIES) fail('malformed_mime', `more than ${MAX_ENTITIES} MIME parts`);
  const { headers, bodyStart } = readHeaders(bytes, start, end);
  const contentType = parseContentType(firstHeader(headers, 'content-type'), inDigest);
  const cte = firstHeader(headers, 'content-transfer-encoding');
  const transferEncoding = cte ? parseParams(cte).value.replace(/^"|"$/g, '').toLowerCase() || '7bit' : '7bit';
  const dispHeader = firstHeader(headers, 'content-disposition');
  const e: MimeEntity = {
    headers,
    contentType,
    transferEncoding,
    raw: bytes.subarray(start, end),
    body: bytes.subarray(bodyStart, end),
    children: [],
  };
  if (dispHeader !== undefined) {
    const d = parseParams(dispHeader);
    e.disposition = { type: d.value.toLowerCase(), params: d.params };
  }
  const fname = e.disposition?.params['filename'] ?? contentType.params['name'];
  if (fname !== undefined && fname !== '') e.filename = decodeHeaderWords(fname);

  if (contentType.type === 'multipart') {
    const boundary = contentType.params['boundary']?.replace(/[ \t]+$/, '');
    if (boundary) {
      for (const [s, t] of splitMultipart(bytes, bodyStart, end, boundary)) {
        e.children.push(parseEntity(bytes, s, t, depth + 1, ctx, contentType.subtype === 'digest'));
      }
    }
  } else if (contentType.mime === 'message/rfc822' || contentType.mime === 'message/global') {
    if (transferEncoding === '7bit' || transferEncoding === '8bit' || transferEncoding === 'binary') {
      e.message = parseEntity(bytes, bodyStart, end, depth + 1, ctx, false);
    } else {
      // Encoded message/rfc822 is forbidden by RFC 2046 but sent anyway; the inner tree then views
      // the decoded copy.
      const inner = decodeBody(e);
      e.message = parseEntity(inner, 0, inner.length, depth + 1, ctx, false);
    }
  }
  return e;
}

function defaultContentType(inDigest: boolean, params: Record<string, string> = {}): ContentType {
  if (inDigest) return { type: 'message', subtype: 'rfc822', mime: 'message/rfc822', params };
  return { type: 'text', subtype: 'plain', mime: 'text/plain', params: { charset: 'us-ascii', ...params } };
}

/** RFC 2045 5.2: a missing or syntactically invalid Content-Type means the default. */
function parseContentType(value: string | undefined, inDigest: boolean): ContentType {
  if (value === undefined) return defaultContentType(inDigest);
  const { value: mime, params } = parseParams(value);
  const slash = mime.indexOf('/');
  const type = (slash === -1 ? '' : mime.slice(0, slash)).trim().toLowerCase();
  const subtype = (slash === -1 ? '' : mime.slice(slash + 1)).trim().toLowerCase();
  if (!TOKEN.test(type) || !TOKEN.test(subtype)) {
    // Keep params such as name= so a mislabelled attachment still has its filename.
    const kept = { ...params };
    delete kept['charset'];
    delete kept['boundary'];
    return defaultContentType(inDigest, kept);
  }
  return { type, subtype, mime: `${type}/${subtype}`, params };
}

function firstHeader(headers: readonly Header[], lower: string): string | undefined {
  for (const h of headers) if (h.name.toLowerCase() === lower) return h.value;
  return undefined;
}

/** First header with this name, case-insensitive. */
export function header(e: MimeEntity, name: string): string | undefined {
  return firstHeader(e.headers, name.toLowerCase());
}

/** The body with its Content-Transfer-Encoding undone; identity encodings return the view itself. */
export function decodeBody(e: MimeEntity): Uint8Array {
  switch (e.transferEncoding) {
    case 'base64':
      return decodeBase64Body(e.body);
    case 'quoted-printable':
      return decodeQuotedPrintable(e.body);
    case 'x-uuencode':
    case 'uuencode':
    case 'x-uue':
      return decodeUuencode(e.body);
    default:
      // 7bit, 8bit, binary, and unknown tokens: RFC 2049 says treat unknown as opaque binary.
      return e.body;
  }
}

/** The decoded body as text in its declared charset, with a reported fallback when that fails. */
export function decodeText(e: MimeEntity): { text: string; charset: string; charsetFallback?: boolean } {
  return decodeCharset(decodeBody(e), normalizeCharset(e.contentType.params['charset']));
}
