/**
 * The one place the host reaches into the core MIME parser, so the scan logic depends on a
 * narrow shape (path, type, name, lazy bytes) rather than on the parser's entity tree.
 */
import { leafParts, parseMime } from '../core/mime/index.js';
import { bomLength } from '../core/unwrap/input-detect.js';

export interface MessagePart {
  /** Human path, e.g. `attachments/2 invoice.zip`; it names the part in findings. */
  readonly path: string;
  readonly contentType: string;
  readonly filename?: string;
  /** Decoded on demand, so a large message is not held twice over while parts wait for the scanner. */
  readonly data: () => Uint8Array;
  /** Content no scanner can see (encrypted inside the plaintext, or unreadable): never clean. */
  readonly opaque?: 'encrypted' | 'unreadable';
}

/** Every decoded leaf part and every nested message/rfc822 as a whole. Throws on unparseable MIME. */
export function splitMessage(bytes: Uint8Array): MessagePart[] {
  return leafParts(parseMime(bytes)).map((p) => ({
    path: p.path,
    contentType: p.contentType,
    ...(p.filename !== undefined ? { filename: p.filename } : {}),
    data: p.data,
    ...(p.opaque !== undefined ? { opaque: p.opaque } : {}),
  }));
}

/**
 * Mail starts with header lines (`Name: value`); anything else is scanned as one opaque file.
 * Read the way the core's MIME parser reads mail: a UTF-8 BOM in front is skipped and lines may end
 * in CRLF, LF or a bare CR. The header block may be longer than the window looked at (real mail
 * carries dozens of Received: lines): then every line in the window must be a header line.
 */
export function looksLikeMessage(bytes: Uint8Array): boolean {
  const from = bomLength(bytes);
  const head = new TextDecoder('latin1').decode(bytes.subarray(from, from + HEADER_WINDOW));
  const lines: string[] = [];
  for (const l of head.split(/\r\n|\r|\n/)) {
    if (l === '') break;
    lines.push(l);
  }
  if (lines.length === 0) return false;
  const fieldLine = /^[!-9;-~]+:/;
  if (!lines.every((l) => fieldLine.test(l) || /^[ \t]/.test(l) || l.startsWith('From '))) return false;
  return lines.some((l) => /^(content-type|mime-version|from|to|subject|date|message-id|received):/i.test(l));
}

/** How much of the input looksLikeMessage reads. */
const HEADER_WINDOW = 64 * 1024;
