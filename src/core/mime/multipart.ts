import { atLineStart, LineBreaks } from './lines.js';

/**
 * Finds the body parts of a multipart body (RFC 2046 5.1.1) as [start, end) byte ranges into the
 * input, so parts stay views and the raw bytes of a multipart/signed first part are exact.
 *
 * Lines end at CRLF, LF or a bare CR. A delimiter is `--boundary` at the start of a line, followed only by optional transport padding
 * (spaces/tabs) and the line end; `--boundary--` closes. A line that merely starts with the
 * delimiter (an inner boundary that extends the outer one) is content. The line break before a
 * delimiter belongs to the delimiter, not to the part. Preamble and epilogue are dropped; a
 * missing close delimiter ends the last part at the end of the body.
 *
 * Cost: the scan jumps with native indexOf to the next '-' and, if that dash is not a delimiter,
 * to the next line; each iteration consumes at least one line, and the boundary compare only runs
 * at line starts, so the work is linear in the body size.
 */
export function splitMultipart(bytes: Uint8Array, start: number, end: number, boundary: string): Array<[number, number]> {
  const delim = new Uint8Array(boundary.length + 2);
  delim[0] = 0x2d;
  delim[1] = 0x2d;
  for (let k = 0; k < boundary.length; k++) delim[k + 2] = boundary.charCodeAt(k) & 0xff;
  const L = delim.length;
  const parts: Array<[number, number]> = [];
  let partStart = -1;
  let pos = start;
  let closed = false;
  const breaks = new LineBreaks(bytes, end);
  while (pos < end) {
    const p = bytes.indexOf(0x2d, pos);
    if (p === -1 || p + L > end) break;
    const hit = atLineStart(bytes, p, start) ? matchDelimiter(bytes, p, end, delim) : null;
    if (!hit) {
      const nl = breaks.at(p);
      if (nl === -1) break;
      pos = nl + 1;
      continue;
    }
    if (partStart >= 0) {
      // The line break (CRLF, LF or CR) before the delimiter belongs to the delimiter.
      let partEnd = p;
      if (partEnd > partStart && bytes[partEnd - 1] === 0x0a) partEnd--;
      if (partEnd > partStart && bytes[partEnd - 1] === 0x0d) partEnd--;
      parts.push([partStart, partEnd]);
    }
    if (hit.close) {
      closed = true;
      break;
    }
    partStart = hit.next;
    pos = hit.next;
  }
  if (!closed && partStart >= 0) parts.push([partStart, end]);
  return parts;
}

function matchDelimiter(bytes: Uint8Array, p: number, end: number, delim: Uint8Array): { close: boolean; next: number } | null {
  for (let k = 2; k < delim.length; k++) if (bytes[p + k] !== delim[k]) return null;
  let q = p + delim.length;
  let close = false;
  if (q + 2 <= end && bytes[q] === 0x2d && bytes[q + 1] === 0x2d) {
    close = true;
    q += 2;
  }
  while (q < end && (bytes[q] === 0x20 || bytes[q] === 0x09)) q++;
  if (q >= end) return { close, next: end };
  if (bytes[q] === 0x0a) return { close, next: q + 1 };
  if (bytes[q] === 0x0d) return { close, next: q + 1 < end && bytes[q + 1] === 0x0a ? q + 2 : q + 1 };
  return null;
}
