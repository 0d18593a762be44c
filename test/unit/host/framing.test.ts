import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { FrameDecoder, FrameTooLargeError, FrameWriter, encodeFrame, type DecodedFrame } from '../../../src/host/framing.js';

const LE = { endianness: 'LE' as const };

function frameOf(value: unknown, endianness: 'LE' | 'BE' = 'LE'): Uint8Array {
  return encodeFrame(value, { endianness, maxBytes: 1 << 30 });
}

function rawFrame(body: Uint8Array | string, endianness: 'LE' | 'BE' = 'LE'): Uint8Array {
  const b = typeof body === 'string' ? new TextEncoder().encode(body) : body;
  const f = new Uint8Array(4 + b.length);
  new DataView(f.buffer).setUint32(0, b.length, endianness === 'LE');
  f.set(b, 4);
  return f;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

function values(frames: DecodedFrame[]): unknown[] {
  return frames.map((f) => (f.ok ? f.value : { error: f.kind }));
}

describe('FrameDecoder', () => {
  it('decodes a frame split at every byte offset into two reads', () => {
    const msg = { id: 'a1', type: 'hello', protocol: 1, client: 'ü€' };
    const frame = frameOf(msg);
    for (let cut = 0; cut <= frame.length; cut++) {
      const d = new FrameDecoder(LE);
      const got = [...d.push(frame.subarray(0, cut)), ...d.push(frame.subarray(cut))];
      expect(values(got), `cut at ${cut}`).toEqual([msg]);
      expect(d.idle).toBe(true);
    }
  });

  it('decodes a frame fed one byte at a time', () => {
    const msg = { id: 'x', list: [1, 2, 3] };
    const d = new FrameDecoder(LE);
    const got: DecodedFrame[] = [];
    for (const b of frameOf(msg)) got.push(...d.push(Uint8Array.of(b)));
    expect(values(got)).toEqual([msg]);
  });

  it('decodes several frames merged into one read, and merged with the start of the next', () => {
    const a = { id: '1' };
    const b = { id: '2', s: 'x'.repeat(100) };
    const c = { id: '3' };
    const all = concat(frameOf(a), frameOf(b), frameOf(c));
    const d = new FrameDecoder(LE);
    expect(values(d.push(all.subarray(0, all.length - 3)))).toEqual([a, b]);
    expect(values(d.push(all.subarray(all.length - 3)))).toEqual([c]);
  });

  it('decodes a 70 KiB frame delivered in 64 KiB pipe-sized pieces', () => {
    const msg = { id: 'big', data: 'A'.repeat(70 * 1024) };
    const frame = frameOf(msg);
    const d = new FrameDecoder(LE);
    const got: DecodedFrame[] = [];
    for (let o = 0; o < frame.length; o += 65536) got.push(...d.push(frame.subarray(o, o + 65536)));
    expect(got).toHaveLength(1);
    expect((got[0] as { value: { data: string } }).value.data.length).toBe(70 * 1024);
  });

  it('decodes a 2 MiB frame in odd-sized pieces, followed by a small frame in the same read', () => {
    const data = 'QUJD'.repeat((2 * 1024 * 1024) / 4);
    const frame = concat(frameOf({ id: 'huge', data }), frameOf({ id: 'next' }));
    const d = new FrameDecoder(LE);
    const got: DecodedFrame[] = [];
    for (let o = 0; o < frame.length; o += 100_003) got.push(...d.push(frame.subarray(o, o + 100_003)));
    expect(got.map((f) => (f.ok ? (f.value as { id: string }).id : f.kind))).toEqual(['huge', 'next']);
    expect(got[0]!.bytes).toBeGreaterThan(2 * 1024 * 1024);
    expect(((got[0] as { value: { data: string } }).value.data)).toBe(data);
  });

  it('reports an oversize frame at once, skips exactly its bytes, and reads the next frame', () => {
    const d = new FrameDecoder({ ...LE, maxFrameBytes: 1000 });
    const big = rawFrame('"' + 'x'.repeat(5000) + '"');
    const after = frameOf({ id: 'after' });
    // The error comes as soon as the header is read, before the body arrives.
    const first = d.push(big.subarray(0, 10));
    expect(first).toEqual([{ ok: false, kind: 'frame_too_large', message: 'frame of 5002 bytes exceeds the host\'s limit of 1000 bytes', bytes: 5002 }]);
    const rest = d.push(concat(big.subarray(10), after));
    expect(values(rest)).toEqual([{ id: 'after' }]);
    expect(d.idle).toBe(true);
  });

  it('turns malformed JSON and invalid UTF-8 into errors and keeps decoding', () => {
    const d = new FrameDecoder(LE);
    const got = d.push(concat(rawFrame('{"id": "a",'), rawFrame(Uint8Array.of(0x22, 0xff, 0x22)), rawFrame(''), frameOf({ id: 'ok' })));
    expect(got.map((f) => (f.ok ? f.value : f.kind))).toEqual(['bad_frame', 'bad_frame', 'bad_frame', { id: 'ok' }]);
    expect(got[0]).toMatchObject({ ok: false, message: expect.stringContaining('not valid JSON') });
    expect(got[1]).toMatchObject({ ok: false, message: 'frame is not valid UTF-8' });
  });

  it('reports input truncated inside a header or a body once at end()', () => {
    const frame = frameOf({ id: 'cut' });
    const inBody = new FrameDecoder(LE);
    expect(inBody.push(frame.subarray(0, 8))).toEqual([]);
    expect(inBody.end()).toEqual([{ ok: false, kind: 'bad_frame', message: `input ended inside a frame (4 of ${frame.length - 4} body bytes)`, bytes: 0 }]);
    expect(inBody.end()).toEqual([]);
    const inHeader = new FrameDecoder(LE);
    inHeader.push(frame.subarray(0, 2));
    expect(inHeader.end()[0]).toMatchObject({ kind: 'bad_frame', message: 'input ended inside a frame (2 of 4 header bytes)' });
    const clean = new FrameDecoder(LE);
    clean.push(frame);
    expect(clean.end()).toEqual([]);
  });

  it('honours big-endian length prefixes when told the platform is big-endian', () => {
    const d = new FrameDecoder({ endianness: 'BE' });
    expect(values(d.push(frameOf({ id: 'be' }, 'BE')))).toEqual([{ id: 'be' }]);
  });
});

describe('encodeFrame / FrameWriter', () => {
  it('prefixes the UTF-8 byte length, not the string length', () => {
    const f = encodeFrame({ s: 'é' }, LE);
    expect(new DataView(f.buffer).getUint32(0, true)).toBe(f.length - 4);
    expect(f.length - 4).toBe(new TextEncoder().encode('{"s":"é"}').length);
  });

  it('refuses a frame over 1 MiB (Gecko closes the port above MAX_READ)', () => {
    expect(() => encodeFrame({ s: 'x'.repeat(1024 * 1024) }, LE)).toThrow(FrameTooLargeError);
    expect(encodeFrame({ s: 'x'.repeat(1024 * 1024 - 20) }, LE).length).toBeLessThanOrEqual(4 + 1024 * 1024);
  });

  it('replaces an oversize reply with an error carrying the same id and scanId', async () => {
    const out = new PassThrough();
    const chunks: Buffer[] = [];
    out.on('data', (c: Buffer) => chunks.push(c));
    const w = new FrameWriter(out, LE);
    w.send({ id: 'r1', type: 'scan.result', scanId: 's1', verdict: { pad: 'x'.repeat(2 * 1024 * 1024) } });
    w.send({ id: 'r2', type: 'ack' });
    await w.flush();
    const d = new FrameDecoder(LE);
    const got = values(d.push(new Uint8Array(Buffer.concat(chunks))));
    expect(got).toHaveLength(2);
    expect(got[0]).toMatchObject({ id: 'r1', type: 'error', scanId: 's1', error: { kind: 'too_large' } });
    expect(got[1]).toEqual({ id: 'r2', type: 'ack' });
  });
});

describe('FrameDecoder buffer reuse and the ASCII fast path', () => {
  it('decodes big ASCII frames, UTF-8 frames and bad UTF-8 back to back, split at odd offsets, without mixing them up', () => {
    const big = 'QUJD'.repeat(300_000);
    const frames = [
      frameOf({ id: 'a', data: big }),
      frameOf({ id: 'b', text: 'Grüße, 日本 ✓' }),
      rawFrame(new Uint8Array([0x7b, 0x22, 0xff, 0x22, 0x7d])),
      frameOf({ id: 'c', data: big.slice(0, 1000) }),
      frameOf({ id: 'd', data: `${big}QUJD` }),
      frameOf({ id: 'e', n: 1 }),
    ];
    const all = Buffer.concat(frames);
    const d = new FrameDecoder(LE);
    const out: DecodedFrame[] = [];
    for (let o = 0; o < all.length; o += 65_537) out.push(...d.push(all.subarray(o, o + 65_537)));
    expect(out.map((f) => (f.ok ? (f.value as { id: string }).id : f.kind))).toEqual(['a', 'b', 'bad_frame', 'c', 'd', 'e']);
    const v = out.map((f) => (f.ok ? (f.value as Record<string, unknown>) : {}));
    expect(v[0]!['data']).toBe(big);
    expect(v[1]!['text']).toBe('Grüße, 日本 ✓');
    expect(v[3]!['data']).toBe(big.slice(0, 1000));
    expect(v[4]!['data']).toBe(`${big}QUJD`);
    expect(d.idle).toBe(true);
  });
});
