/**
 * Line breaks as mail really has them: CRLF, bare LF, and bare CR (old Mac tools, some decrypted
 * content). Everything that splits lines in the MIME parser goes through here, so headers,
 * delimiters and body views agree on where a line ends and stay exact byte ranges of the input.
 */

const LF = 0x0a;
const CR = 0x0d;

/**
 * Finds the next line break at or after a position, for a left-to-right scan over [.., end).
 * The next CR and the next LF are each found with native indexOf and cached until the scan passes
 * them, so a whole scan stays linear even when one of the two bytes never occurs.
 */
export class LineBreaks {
  private nextLf = -2;
  private nextCr = -2;

  constructor(
    private readonly bytes: Uint8Array,
    private readonly end: number,
  ) {}

  /** Offset of the first CR or LF in [pos, end), or -1. */
  at(pos: number): number {
    if (this.nextLf !== -1 && this.nextLf < pos) this.nextLf = this.find(LF, pos);
    if (this.nextCr !== -1 && this.nextCr < pos) this.nextCr = this.find(CR, pos);
    if (this.nextLf === -1) return this.nextCr;
    if (this.nextCr === -1) return this.nextLf;
    return Math.min(this.nextLf, this.nextCr);
  }

  private find(b: number, pos: number): number {
    const i = this.bytes.indexOf(b, pos);
    return i === -1 || i >= this.end ? -1 : i;
  }
}

/** Length of the line break at `at` (a CR or LF byte): 2 for CRLF, else 1. */
export function breakLength(bytes: Uint8Array, at: number, end: number): number {
  return bytes[at] === CR && at + 1 < end && bytes[at + 1] === LF ? 2 : 1;
}

/** True when `at` is the first byte of a line: the start, or right after CR or LF. */
export function atLineStart(bytes: Uint8Array, at: number, start: number): boolean {
  if (at === start) return true;
  const p = bytes[at - 1];
  return p === LF || p === CR;
}

/** Any line break in a string: CRLF, LF or bare CR. */
export const LINE_BREAK_RE = /\r\n|\r|\n/;
