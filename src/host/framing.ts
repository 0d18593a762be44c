/**
 * Native-messaging framing: each message is a 4-byte length in the platform's byte order followed
 * by that many bytes of UTF-8 JSON. Reads arrive split and merged arbitrarily (a pipe hands out
 * 64 KiB pieces), so the decoder is an explicit state machine over chunks, never "one read = one
 * message". Only frames may go to stdout; everything else in the host logs to stderr.
 */
import { isAscii } from 'node:buffer';
import { endianness } from 'node:os';
import type { Writable } from 'node:stream';
import { MAX_HOST_TO_EXTENSION_BYTES } from '../protocol/native.js';

export type Endianness = 'LE' | 'BE';

/** Extension → host frames can reach 4 GiB in Gecko; we refuse far earlier than that. */
export const DEFAULT_MAX_INBOUND_FRAME = 64 * 1024 * 1024;

export type DecodedFrame =
  | { readonly ok: true; readonly value: unknown; readonly bytes: number }
  | { readonly ok: false; readonly kind: 'frame_too_large' | 'bad_frame'; readonly message: string; readonly bytes: number };

export interface FrameDecoderOptions {
  readonly maxFrameBytes?: number;
  readonly endianness?: Endianness;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });
/**
 * Frames up to this size are read into one buffer that is kept for the next frame (a scan.chunk
 * is ~1 MiB: allocating and collecting one per chunk showed up in the profile). decodeBody copies
 * everything it keeps into strings, so the buffer is free again once a frame has been decoded.
 */
const REUSE_LIMIT = 4 * 1024 * 1024;

export class FrameDecoder {
  private readonly max: number;
  private readonly le: boolean;
  private readonly header = new Uint8Array(4);
  private headerFill = 0;
  // The body is allocated once at its announced size, so a large frame costs one copy per chunk
  // instead of the O(n²) of concatenating every read.
  private body: Uint8Array | null = null;
  private bodyFill = 0;
  private spare: Buffer | null = null;
  private skipRemaining = 0;

  constructor(opts: FrameDecoderOptions = {}) {
    this.max = opts.maxFrameBytes ?? DEFAULT_MAX_INBOUND_FRAME;
    this.le = (opts.endianness ?? endianness()) === 'LE';
  }

  /** True when no frame is partly read: an end of input here is a clean end. */
  get idle(): boolean {
    return this.headerFill === 0 && this.body === null && this.skipRemaining === 0;
  }

  push(chunk: Uint8Array): DecodedFrame[] {
    const out: DecodedFrame[] = [];
    let pos = 0;
    while (pos < chunk.length) {
      if (this.skipRemaining > 0) {
        const n = Math.min(this.skipRemaining, chunk.length - pos);
        this.skipRemaining -= n;
        pos += n;
        continue;
      }
      if (this.body === null) {
        const n = Math.min(4 - this.headerFill, chunk.length - pos);
        this.header.set(chunk.subarray(pos, pos + n), this.headerFill);
        this.headerFill += n;
        pos += n;
        if (this.headerFill < 4) break;
        this.headerFill = 0;
        const view = new DataView(this.header.buffer);
        const len = view.getUint32(0, this.le);
        if (len > this.max) {
          // Answer at once and resync by discarding the announced bytes: the client learns why
          // its request went unanswered, and the next frame is read from the right offset.
          out.push({ ok: false, kind: 'frame_too_large', message: `frame of ${len} bytes exceeds the host's limit of ${this.max} bytes`, bytes: len });
          this.skipRemaining = len;
          continue;
        }
        if (len <= REUSE_LIMIT) {
          if (!this.spare || this.spare.length < len) this.spare = Buffer.allocUnsafeSlow(Math.max(len, 64 * 1024));
          this.body = this.spare.subarray(0, len);
        } else {
          this.body = new Uint8Array(len);
        }
        this.bodyFill = 0;
      }
      const body = this.body;
      const n = Math.min(body.length - this.bodyFill, chunk.length - pos);
      body.set(chunk.subarray(pos, pos + n), this.bodyFill);
      this.bodyFill += n;
      pos += n;
      if (this.bodyFill === body.length) {
        this.body = null;
        out.push(decodeBody(body));
      }
    }
    return out;
  }

  /** Call at end of input: a frame cut short is reported once instead of being waited for forever. */
  end(): DecodedFrame[] {
    if (this.idle) return [];
    const had = this.body ? `${this.bodyFill} of ${this.body.length} body bytes` : this.skipRemaining > 0 ? `an oversize frame with ${this.skipRemaining} bytes still to skip` : `${this.headerFill} of 4 header bytes`;
    this.body = null;
    this.headerFill = 0;
    this.skipRemaining = 0;
    return [{ ok: false, kind: 'bad_frame', message: `input ended inside a frame (${had})`, bytes: 0 }];
  }
}

function decodeBody(body: Uint8Array): DecodedFrame {
  let text: string;
  try {
    // Chunk frames are pure ASCII (JSON + base64): the latin1 decoder is then exact UTF-8 and about
    // twice as fast as the validating TextDecoder, which still handles everything else.
    text = isAscii(body) ? Buffer.from(body.buffer, body.byteOffset, body.length).toString('latin1') : utf8.decode(body);
  } catch {
    return { ok: false, kind: 'bad_frame', message: 'frame is not valid UTF-8', bytes: body.length };
  }
  try {
    return { ok: true, value: JSON.parse(text) as unknown, bytes: body.length };
  } catch (e) {
    return { ok: false, kind: 'bad_frame', message: `frame is not valid JSON: ${(e as Error).message}`, bytes: body.length };
  }
}

export class FrameTooLargeError extends Error {
  override readonly name = 'FrameTooLargeError';
  constructor(readonly size: number, readonly limit: number) {
    super(`outbound frame of ${size} bytes exceeds ${limit} bytes`);
  }
}

export function encodeFrame(value: unknown, opts: { maxBytes?: number; endianness?: Endianness } = {}): Uint8Array {
  const max = opts.maxBytes ?? MAX_HOST_TO_EXTENSION_BYTES;
  const json = new TextEncoder().encode(JSON.stringify(value));
  if (json.length > max) throw new FrameTooLargeError(json.length, max);
  const frame = new Uint8Array(4 + json.length);
  new DataView(frame.buffer).setUint32(0, json.length, (opts.endianness ?? endianness()) === 'LE');
  frame.set(json, 4);
  return frame;
}

/**
 * Writes frames to the extension. A message Gecko would refuse (over 1 MiB, which closes the whole
 * port) is replaced by an error reply with the same correlation id, so one bad reply cannot take
 * the connection down.
 */
export class FrameWriter {
  private pending: Promise<void> = Promise.resolve();

  constructor(
    private readonly out: Writable,
    private readonly opts: { maxBytes?: number; endianness?: Endianness; log?: (line: string) => void } = {},
  ) {}

  send(value: unknown): void {
    let frame: Uint8Array;
    try {
      frame = encodeFrame(value, this.opts);
    } catch (e) {
      if (!(e instanceof FrameTooLargeError)) throw e;
      const v = value as { id?: unknown; scanId?: unknown };
      const id = typeof v.id === 'string' ? v.id : null;
      this.opts.log?.(`reply for ${id ?? '(no id)'} too large (${e.size} bytes); sent an error instead`);
      const replacement: Record<string, unknown> = { id, type: 'error', error: { kind: 'too_large', message: `${e.message}; the reply was dropped` } };
      if (typeof v.scanId === 'string') replacement['scanId'] = v.scanId;
      frame = encodeFrame(replacement, this.opts);
    }
    // Stream writes keep their order; we only remember the last one so flush() can wait for it.
    this.pending = new Promise<void>((resolve) => {
      this.out.write(frame, () => resolve());
    });
  }

  /** Resolves once every frame handed to send() has been flushed. */
  flush(): Promise<void> {
    return this.pending;
  }
}
