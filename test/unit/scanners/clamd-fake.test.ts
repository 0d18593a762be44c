import { afterEach, describe, expect, it } from 'vitest';
import { parseClamdReply, parseClamdVersion } from '../../../src/host/scanners/clamd.js';
import { createScanner } from '../../../src/host/scanners/create.js';
import { startFakeClamd, type FakeServer } from '../../helpers/scanners/fake.js';

let server: (FakeServer & { frames: number[][] }) | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe('clamd reply parsing', () => {
  it.each([
    ['stream: OK', { verdict: 'clean' }],
    ['stream: Win.Test.EICAR_HDB-1 FOUND', { verdict: 'infected', signatures: ['Win.Test.EICAR_HDB-1'] }],
    ['1: stream: Eicar-Test-Signature FOUND', { verdict: 'infected', signatures: ['Eicar-Test-Signature'] }],
    // AllMatchScanning: several lines; a real detection outranks a limit.
    ['stream: A.B FOUND\nstream: Heuristics.Limits.Exceeded.MaxScanSize FOUND', { verdict: 'infected', signatures: ['A.B'] }],
    ['stream: Heuristics.Limits.Exceeded.MaxFileSize FOUND', { verdict: 'unscanned', reason: 'too_large' }],
    ['stream: Heuristics.Limits.Exceeded FOUND', { verdict: 'unscanned', reason: 'too_large' }],
    ['INSTREAM size limit exceeded. ERROR', { verdict: 'unscanned', reason: 'too_large' }],
    ["stream: Can't allocate memory ERROR", { verdict: 'unscanned', reason: 'engine_error' }],
    ['COMMAND READ TIMED OUT', { verdict: 'unscanned', reason: 'protocol_error' }],
    ['', { verdict: 'unscanned', reason: 'engine_error' }],
  ])('%j', (reply, expected) => {
    expect(parseClamdReply(reply)).toMatchObject(expected);
  });

  it('VERSION → engine and signature DB version', () => {
    expect(parseClamdVersion('ClamAV 1.4.6/27531/Tue Dec  2 09:24:01 2026\0')).toEqual({
      engine: 'ClamAV 1.4.6',
      signatures: '27531/Tue Dec  2 09:24:01 2026',
    });
    // A private DB without daily.cvd (our tests): no DB version.
    expect(parseClamdVersion('ClamAV 1.4.6')).toEqual({ engine: 'ClamAV 1.4.6' });
  });
});

describe('clamd framing and failure paths (fake server)', () => {
  it('INSTREAM chunks of at most 64 KiB, reassembled byte-exact, terminator sent; engine info attached', async () => {
    const data = new Uint8Array(300_001).map((_, i) => (i * 7) & 0xff);
    let got: Buffer | undefined;
    server = await startFakeClamd((d) => {
      got = d;
      return 'stream: OK\0';
    });
    const v = await createScanner(server.url()).scan(data);
    expect(v).toEqual({ verdict: 'clean', engine: { engine: 'ClamAV 9.9.9', signatures: '12345/Thu Jan  1 00:00:00 2026', scanner: server.url() } });
    expect(got!.equals(Buffer.from(data))).toBe(true);
    expect(server.frames[0]).toEqual([65536, 65536, 65536, 65536, 37857]);
  });

  it('empty object: just the terminator', async () => {
    server = await startFakeClamd(() => 'stream: OK\0');
    expect((await createScanner(server.url()).scan(new Uint8Array(0))).verdict).toBe('clean');
    expect(server.frames[0]).toEqual([]);
  });

  it('clamd closing mid-reply ⇒ unscanned engine_error (not clean, not infected)', async () => {
    server = await startFakeClamd(() => ({ close: 'stream: Eicar-Te' }));
    const v = await createScanner(server.url()).scan(new Uint8Array(10));
    expect(v).toMatchObject({ verdict: 'unscanned', reason: 'engine_error' });
  });

  it('clamd closing with no reply at all ⇒ unscanned engine_error', async () => {
    server = await startFakeClamd(() => ({ close: '' }));
    expect(await createScanner(server.url()).scan(new Uint8Array(10))).toMatchObject({ verdict: 'unscanned', reason: 'engine_error' });
  });

  it('garbage reply ⇒ unscanned protocol_error', async () => {
    server = await startFakeClamd(() => 'HTTP/1.1 400 Bad Request\r\n\r\n\0');
    expect(await createScanner(server.url()).scan(new Uint8Array(10))).toMatchObject({ verdict: 'unscanned', reason: 'protocol_error' });
  });

  it('a reply that never ends (no NUL, 100 KiB) ⇒ protocol_error, bounded memory', async () => {
    server = await startFakeClamd(() => 'x'.repeat(100_000));
    expect(await createScanner(server.url()).scan(new Uint8Array(10))).toMatchObject({ verdict: 'unscanned', reason: 'protocol_error' });
  });

  it('hanging clamd ⇒ unscanned timeout after timeoutMs', async () => {
    server = await startFakeClamd(() => ({ hang: true }));
    const t0 = Date.now();
    const v = await createScanner(server.url(), { timeoutMs: 250 }).scan(new Uint8Array(10));
    expect(v).toMatchObject({ verdict: 'unscanned', reason: 'timeout' });
    expect(Date.now() - t0).toBeLessThan(1000);
  });

  it('per-scan timeoutMs overrides the scanner default', async () => {
    server = await startFakeClamd(() => ({ hang: true }));
    const v = await createScanner(server.url(), { timeoutMs: 30_000 }).scan(new Uint8Array(10), { timeoutMs: 150 });
    expect(v).toMatchObject({ verdict: 'unscanned', reason: 'timeout' });
  });

  it('already-aborted signal ⇒ unscanned cancelled without connecting', async () => {
    server = await startFakeClamd(() => 'stream: OK\0');
    const ac = new AbortController();
    ac.abort();
    expect(await createScanner(server.url()).scan(new Uint8Array(10), { signal: ac.signal })).toMatchObject({
      verdict: 'unscanned',
      reason: 'cancelled',
    });
    expect(server.frames).toEqual([]);
  });

  it('ping: PONG ok; refused port ⇒ UnsealError io naming clamd.conf settings', async () => {
    server = await startFakeClamd(() => 'stream: OK\0');
    await expect(createScanner(server.url()).ping()).resolves.toBeUndefined();
    const port = server.port;
    await server.close();
    server = undefined;
    await expect(createScanner(`clamd://127.0.0.1:${port}`).ping()).rejects.toMatchObject({
      kind: 'io',
      message: expect.stringMatching(/TCPSocket/),
    });
    expect(await createScanner(`clamd://127.0.0.1:${port}`).scan(new Uint8Array(1))).toMatchObject({ verdict: 'unscanned', reason: 'unavailable' });
    expect(await createScanner('clamd+unix:///nonexistent/dir/clamd.ctl').scan(new Uint8Array(1))).toMatchObject({
      verdict: 'unscanned',
      reason: 'unavailable',
    });
  });
});
