import { concatBytes, utf8 } from '../bytes.js';
import { decodeCharset } from './charset.js';

/**
 * `value; key=value; key="quoted"` header syntax (Content-Type, Content-Disposition) with RFC 2231
 * continuations and charsets. A hand-written scanner instead of a regex: one pass, no
 * backtracking, and tolerant of what mailers really send (unquoted values with spaces, stray
 * semicolons, unterminated quotes) and RFC 2045 comments: in the value, between parameters, and
 * after a value (`charset=us-ascii (Plain text)`).
 */

export interface ParsedParams {
  value: string;
  params: Record<string, string>;
}

interface RawParam {
  key: string;
  value: string;
}

const MAX_PARAMS = 256;

function isWsp(c: string | undefined): boolean {
  return c === ' ' || c === '\t' || c === '\r' || c === '\n';
}

/**
 * End of an RFC 822 comment starting at `i` (a '('): comments nest and may hold quoted-pairs.
 * An unterminated comment runs to the end.
 */
function commentEnd(s: string, i: number): number {
  let depth = 0;
  const n = s.length;
  for (; i < n; i++) {
    const c = s[i];
    if (c === '\\') i++;
    else if (c === '(') depth++;
    else if (c === ')' && --depth === 0) return i + 1;
  }
  return n;
}

/** Skips whitespace and comments. */
function skipCfws(s: string, i: number): number {
  const n = s.length;
  while (i < n) {
    if (isWsp(s[i])) i++;
    else if (s[i] === '(') i = commentEnd(s, i);
    else break;
  }
  return i;
}

/** A trailing ` (comment)` of an unquoted value; values such as `report (1).pdf` keep theirs. */
const TRAILING_COMMENT = /[ \t]+\([^()]*\)$/;

export function parseParams(header: string): ParsedParams {
  // The value (`multipart/mixed`, `attachment`, `base64`) ends at the first ';' outside a comment
  // or quoted string; RFC 2045 comments in it are dropped: `multipart/mixed (c); boundary=x`.
  const n = header.length;
  let value = '';
  let i = 0;
  let runStart = 0;
  while (i < n && header[i] !== ';') {
    if (header[i] === '(') {
      value += `${header.slice(runStart, i)} `;
      i = commentEnd(header, i);
      runStart = i;
    } else if (header[i] === '"') {
      i++;
      while (i < n && header[i] !== '"') i += header[i] === '\\' ? 2 : 1;
      if (i < n) i++;
    } else i++;
  }
  value = (value + header.slice(runStart, Math.min(i, n))).trim();
  const raw: RawParam[] = [];
  if (i < n) i++; // ';'
  while (i < n && raw.length < MAX_PARAMS) {
    while (i < n && (isWsp(header[i]) || header[i] === ';' || header[i] === '(')) i = header[i] === '(' ? commentEnd(header, i) : i + 1;
    if (i >= n) break;
    const keyStart = i;
    while (i < n && header[i] !== '=' && header[i] !== ';') i++;
    const key = header
      .slice(keyStart, i)
      .replace(/\([^()]*\)/g, '')
      .trim()
      .toLowerCase();
    if (i >= n || header[i] === ';') continue; // attribute without value: ignored
    i++; // '='
    i = skipCfws(header, i);
    let val: string;
    if (header[i] === '"') {
      i++;
      let s = '';
      let runStart = i;
      while (i < n && header[i] !== '"') {
        if (header[i] === '\\' && i + 1 < n) {
          s += header.slice(runStart, i);
          i++;
          runStart = i;
        }
        i++;
      }
      s += header.slice(runStart, i);
      val = s;
      if (i < n) i++; // closing quote
      while (i < n && header[i] !== ';') i++; // junk after the quoted string
    } else {
      const start = i;
      while (i < n && header[i] !== ';') i++;
      val = header.slice(start, i).trim().replace(TRAILING_COMMENT, '');
    }
    if (key) raw.push({ key, value: val });
  }
  return { value, params: combineRfc2231(raw) };
}

function hexVal(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 65 && c <= 70) return c - 55;
  if (c >= 97 && c <= 102) return c - 87;
  return -1;
}

function percentDecode(s: string): Uint8Array {
  const out = new Uint8Array(s.length * 3);
  let o = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x25 && i + 2 < s.length && hexVal(s.charCodeAt(i + 1)) >= 0 && hexVal(s.charCodeAt(i + 2)) >= 0) {
      out[o++] = (hexVal(s.charCodeAt(i + 1)) << 4) | hexVal(s.charCodeAt(i + 2));
      i += 2;
    } else if (c < 0x80) out[o++] = c;
    else {
      const e = utf8.encode(s[i]!);
      out.set(e, o);
      o += e.length;
    }
  }
  return out.subarray(0, o);
}

/** Splits `charset'lang'text` of an extended value; a value without the two quotes is all text. */
function splitExtended(v: string): { charset: string; text: string } {
  const a = v.indexOf("'");
  const b = a === -1 ? -1 : v.indexOf("'", a + 1);
  if (a === -1 || b === -1) return { charset: 'us-ascii', text: v };
  return { charset: v.slice(0, a) || 'us-ascii', text: v.slice(b + 1) };
}

/**
 * RFC 2231: `name*=charset'lang'%XX`, `name*0=..; name*1*=..`. When both the plain and the
 * extended form are present the extended one wins (it is the one that carries the charset).
 */
function combineRfc2231(raw: RawParam[]): Record<string, string> {
  const out: Record<string, string> = Object.create(null) as Record<string, string>;
  const sections = new Map<string, { index: number; extended: boolean; value: string }[]>();
  const extendedWhole = new Map<string, string>();
  for (const { key, value } of raw) {
    const star = key.indexOf('*');
    if (star === -1) {
      if (!(key in out)) out[key] = value;
      continue;
    }
    const name = key.slice(0, star);
    const rest = key.slice(star + 1);
    if (rest === '') {
      extendedWhole.set(name, value);
      continue;
    }
    const extended = rest.endsWith('*');
    const index = Number(extended ? rest.slice(0, -1) : rest);
    if (!Number.isInteger(index) || index < 0 || index > 999) continue;
    let list = sections.get(name);
    if (!list) sections.set(name, (list = []));
    list.push({ index, extended, value });
  }
  for (const [name, list] of sections) {
    list.sort((x, y) => x.index - y.index);
    let charset = 'us-ascii';
    const chunks: Uint8Array[] = [];
    for (const s of list) {
      if (s.extended) {
        let text = s.value;
        if (s.index === 0) {
          const sp = splitExtended(s.value);
          charset = sp.charset;
          text = sp.text;
        }
        chunks.push(percentDecode(text));
      } else chunks.push(utf8.encode(s.value));
    }
    out[name] = decodeCharset(concatBytes(chunks), charset).text;
  }
  for (const [name, v] of extendedWhole) {
    const sp = splitExtended(v);
    out[name] = decodeCharset(percentDecode(sp.text), sp.charset).text;
  }
  return out;
}
