/**
 * Scanner.scanStream against the scripted servers and a command: the upload starts before the
 * object is complete, the end marker goes out only after the source ended with exactly the
 * announced bytes, and a failing, aborted or over-long source is never scanned as a whole object.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ReceiveSource } from '../../../src/host/receive-source.js';
import { createScanner } from '../../../src/host/scanners/create.js';
import { scanSource, SourceFailed, SourceReader } from '../../../src/host/scanners/net.js';
import type { PartVerdict, Scanner } from '../../../src/host/scanners/types.js';
import { icapResponse, startFakeClamd, startFakeIcap, type FakeServer } from '../../helpers/scanners/fake.js';

let server: FakeServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const data = new Uint8Array(200_003).map((_, i) => (i * 13) & 0xff);

/** Hands out `data` in pieces with pauses; optionally throws after `failAfter` pieces. */
function trickle(bytes: Uint8Array, piece: number, opts: { pauseMs?: number; failAfter?: number; extra?: number } = {}) {
  const log = { handedOut: 0, pulls: 0 };
  const it: AsyncIterable<Uint8Array> = {
    async *[Symbol.asyncIterator]() {
      let n = 0;
      for (let o = 0; o < bytes.length; o += piece) {
        if (opts.failAfter !== undefined && n++ >= opts.failAfter) throw new Error('add-on went away');
        await sleep(opts.pauseMs ?? 2);
        log.pulls++;
        const p = bytes.subarray(o, Math.min(o + piece, bytes.length));
        log.handedOut += p.length;
        yield p;
      }
      if (opts.extra) yield new Uint8Array(opts.extra);
    },
  };
  return { it, log };
}

describe('SourceReader', () => {
  it('splits pieces to max, checks the announced size both ways, and turns a throw or an abort into SourceFailed', async () => {
    const ac = new AbortController();
    const r = new SourceReader(trickle(data, 100_000).it, ac.signal, data.length);
    const sizes: number[] = [];
    for (let p = await r.next(65536); p; p = await r.next(65536)) sizes.push(p.length);
    expect(sizes).toEqual([65536, 34464, 65536, 34464, 3]);

    const short = new SourceReader(trickle(data, 100_000).it, ac.signal, data.length + 1);
    await expect((async () => { while (await short.next()); })()).rejects.toThrow(/ended after 200003 of the 200004/);
    const long = new SourceReader(trickle(data, 100_000, { extra: 1 }).it, ac.signal, data.length);
    await expect((async () => { while (await long.next()); })()).rejects.toThrow(SourceFailed);
    const failing = new SourceReader(trickle(data, 100_000, { failAfter: 1 }).it, ac.signal, data.length);
    await expect((async () => { while (await failing.next()); })()).rejects.toThrow(/add-on went away/);

    const stalled = new SourceReader({ [Symbol.asyncIterator]: () => ({ next: () => new Promise<IteratorResult<Uint8Array>>(() => undefined) }) }, ac.signal, 1);
    const p = stalled.next();
    ac.abort();
    await expect(p).rejects.toThrow(/aborted/);
  });
});

describe('ReceiveSource (the host side)', () => {
  it('yields views as bytes are published, ends only when complete, replays from 0, and fail() stops every reader', async () => {
    const buf = new Uint8Array(10);
    const src = new ReceiveSource(buf);
    const got: number[] = [];
    const reading = (async () => {
      for await (const p of src) got.push(p.length);
    })();
    buf.set([1, 2, 3], 0);
    src.advance(3);
    await sleep(1);
    buf.set([4, 5, 6, 7, 8, 9, 10], 3);
    src.advance(10);
    await reading;
    expect(got).toEqual([3, 7]);
    const again: number[] = [];
    for await (const p of src) again.push(...p);
    expect(again).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);

    const half = new ReceiveSource(new Uint8Array(4));
    half.advance(2);
    const it = half[Symbol.asyncIterator]();
    expect((await it.next()).value).toHaveLength(2);
    const pending = it.next();
    half.fail(new Error('dropped'));
    await expect(pending).rejects.toThrow('dropped');
    expect(() => half.advance(1)).toThrow(RangeError);
  });
});

describe('clamd scanStream (fake server)', () => {
  it('starts INSTREAM before the source is complete and sends the terminator after the last piece', async () => {
    let got: Buffer | undefined;
    const f = await startFakeClamd((d) => {
      got = d;
      return 'stream: OK\0';
    });
    server = f;
    const { it, log } = trickle(data, 30_000, { pauseMs: 5 });
    const s = createScanner(f.url());
    const v = await s.scanStream!(it, { size: data.length });
    expect(v.verdict).toBe('clean');
    expect(got!.equals(Buffer.from(data))).toBe(true);
    expect(log.pulls).toBe(7);
    expect(f.frames[0]!.every((n) => n <= 65536)).toBe(true);
  });

  it('a source that throws, or says more than announced ⇒ unscanned, and clamd never gets the terminator', async () => {
    const f = await startFakeClamd(() => 'stream: OK\0');
    server = f;
    const s = createScanner(f.url());
    const v1 = await s.scanStream!(trickle(data, 30_000, { failAfter: 3 }).it, { size: data.length });
    expect(v1).toMatchObject({ verdict: 'unscanned', reason: 'cancelled' });
    const v2 = await s.scanStream!(trickle(data, 30_000, { extra: 5 }).it, { size: data.length });
    expect(v2).toMatchObject({ verdict: 'unscanned', reason: 'cancelled' });
    const v3 = await s.scanStream!(trickle(data, 30_000).it, { size: data.length + 1 });
    expect(v3).toMatchObject({ verdict: 'unscanned', reason: 'cancelled' });
    await sleep(20);
    expect(f.frames).toEqual([]);
  });

  it('abort while waiting for the source ⇒ unscanned cancelled at once; the timeout counts from the last piece', async () => {
    const f = await startFakeClamd(() => 'stream: OK\0');
    server = f;
    const s = createScanner(f.url(), { timeoutMs: 150 });
    const ac = new AbortController();
    const never: AsyncIterable<Uint8Array> = { [Symbol.asyncIterator]: () => ({ next: () => new Promise<IteratorResult<Uint8Array>>(() => undefined) }) };
    const p = s.scanStream!(never, { size: 10, signal: ac.signal, timeoutMs: 60_000 });
    await sleep(30);
    const t0 = performance.now();
    ac.abort();
    expect(await p).toMatchObject({ verdict: 'unscanned', reason: 'cancelled' });
    expect(performance.now() - t0).toBeLessThan(500);
    // 6 pieces 60 ms apart = 360 ms in total, more than the 150 ms budget, but never 150 ms without progress.
    const slow = await s.scanStream!(trickle(data.subarray(0, 60_000), 10_000, { pauseMs: 60 }).it, { size: 60_000 });
    expect(slow.verdict).toBe('clean');
    expect(f.frames).toHaveLength(1);
  });
});

describe('ICAP scanStream (fake server)', () => {
  it('without preview: the chunked body is the exact object', async () => {
    server = await startFakeIcap({ respmod: () => 'ICAP/1.0 204 No Content\r\nISTag: "F"\r\n\r\n' });
    const v = await createScanner(server.url()).scanStream!(trickle(data, 30_000).it, { size: data.length, name: 'x.bin' });
    expect(v.verdict).toBe('clean');
    const req = server.requests[0]!;
    expect(req.body.equals(Buffer.from(data))).toBe(true);
  });

  it('with preview: preview bytes from the first pieces, the rest after 100 Continue; an identical 200 echo is compared piecewise', async () => {
    server = await startFakeIcap({ optionsHeaders: 'Preview: 1000\r\n', respmod: (r) => icapResponse('200 OK', [], 'HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream', r.body) });
    const v = await createScanner(server.url()).scanStream!(trickle(data, 700).it, { size: data.length });
    expect(v.verdict).toBe('clean');
    const req = server.requests[0]!;
    expect(req.previewUsed).toBe(true);
    expect(req.body.equals(Buffer.from(data))).toBe(true);
  });

  it('small object within the preview: ieof only after the source ended; a failing source ⇒ unscanned, no final chunk', async () => {
    server = await startFakeIcap({ optionsHeaders: 'Preview: 4096\r\n', respmod: () => 'ICAP/1.0 204 No Content\r\n\r\n' });
    const small = data.subarray(0, 3000);
    expect((await createScanner(server.url()).scanStream!(trickle(small, 1000).it, { size: small.length })).verdict).toBe('clean');
    expect(server.requests[0]!.ieof).toBe(true);
    const v = await createScanner(server.url()).scanStream!(trickle(small, 1000, { failAfter: 2 }).it, { size: small.length });
    expect(v).toMatchObject({ verdict: 'unscanned', reason: 'cancelled' });
    await server.close();
    server = await startFakeIcap({ respmod: () => 'ICAP/1.0 204 No Content\r\n\r\n' });
    const v2 = await createScanner(server.url()).scanStream!(trickle(data, 30_000, { failAfter: 3 }).it, { size: data.length });
    expect(v2).toMatchObject({ verdict: 'unscanned', reason: 'cancelled' });
    await sleep(20);
    expect(server.requests).toHaveLength(0); // the fake records a RESPMOD only once its body is complete
  });
});

describe('command scanStream', () => {
  const nodeScanner = (script: string) => createScanner(`command:${JSON.stringify([process.execPath, '-e', script])}`);
  it('pipes the pieces into stdin; a failing source kills the process instead of closing stdin', async () => {
    const count = nodeScanner(`let n=0;process.stdin.on('data',d=>n+=d.length);process.stdin.on('end',()=>{process.exit(n===${data.length}?0:2)})`);
    expect((await count.scanStream!(trickle(data, 30_000).it, { size: data.length })).verdict).toBe('clean');
    // A "scanner" that calls anything it gets clean at EOF: it must never see EOF here.
    const v = await count.scanStream!(trickle(data, 30_000, { failAfter: 2 }).it, { size: data.length });
    expect(v).toMatchObject({ verdict: 'unscanned', reason: 'cancelled' });
  });
});

describe('scanSource fallback', () => {
  it('collects the pieces for a scanner without scanStream; a failing source is never scanned', async () => {
    const seen: number[] = [];
    const plain: Scanner = {
      url: 'test://plain',
      engineInfo: async () => ({ engine: 'T' }),
      ping: async () => undefined,
      close: async () => undefined,
      scan: async (d): Promise<PartVerdict> => {
        seen.push(d.length);
        return { verdict: 'clean' };
      },
    };
    expect((await scanSource(plain, trickle(data, 30_000).it, { size: data.length })).verdict).toBe('clean');
    expect(await scanSource(plain, trickle(data, 30_000, { failAfter: 1 }).it, { size: data.length })).toMatchObject({ verdict: 'unscanned' });
    expect(seen).toEqual([data.length]);
  });
});
