/**
 * The built host driven over real native-messaging frames, as Thunderbird drives it. A real clamd
 * (test/helpers/scanners) scans wherever the verdict is the point; "scanners" that only hang or
 * are absent stand in where the point is the host's own timeouts and failure handling.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eicarBytes } from '../../../src/host/scanners/eicar.js';
import { startClamd, TEST_SIGNATURE_REPORTED, type ClamdHandle } from '../../helpers/scanners/index.js';
import { frame, HostProcess, sha256Hex } from '../../helpers/host/host-process.js';
import { messageWithAttachment, plainMessage } from '../../helpers/host/messages.js';

let clamd: ClamdHandle;
let work: string;
const hosts: HostProcess[] = [];

function tempHome(): string {
  return mkdtempSync(join(work, 'home-'));
}

function startHost(env: NodeJS.ProcessEnv = {}, config?: object): HostProcess {
  const home = tempHome();
  const e: NodeJS.ProcessEnv = { HOME: home, ...env };
  if (config) {
    const path = join(home, 'host-config.json');
    writeFileSync(path, JSON.stringify(config));
    e['UNSEAL_HOST_CONFIG'] = path;
  }
  const h = new HostProcess(e);
  hosts.push(h);
  return h;
}

beforeAll(async () => {
  execFileSync(process.execPath, ['build.mjs'], { stdio: 'inherit' });
  work = mkdtempSync(join(tmpdir(), 'unseal-host-it-'));
  clamd = await startClamd({ alertExceedsMax: true });
});

afterAll(async () => {
  for (const h of hosts) if (h.child.exitCode === null) h.child.kill('SIGKILL');
  await clamd?.stop();
  rmSync(work, { recursive: true, force: true });
});

describe('hello and health', () => {
  it('answers hello with versions, scanner, engine; health runs the canaries against the real clamd', async () => {
    const h = startHost({ UNSEAL_SCANNER: clamd.url });
    const hello = await h.request({ id: 'h1', type: 'hello', protocol: 1, client: '0.1.0' });
    expect(hello).toMatchObject({ id: 'h1', type: 'hello', host: '0.1.0', protocol: 1, scanner: clamd.url, canary: { state: 'unchecked' } });
    expect((hello['engine'] as { engine: string }).engine).toMatch(/^ClamAV \d+\.\d+/);
    const health = await h.request({ id: 'h2', type: 'health' });
    expect(health).toMatchObject({ id: 'h2', type: 'health', ok: true, reachable: true, scanner: clamd.url, canary: { state: 'ok', missed: [] } });
    expect(await h.close()).toBe(0);
  });

  it('refuses another protocol version with a clear error and keeps serving', async () => {
    const h = startHost();
    expect(await h.request({ id: 'v', type: 'hello', protocol: 2, client: '9' })).toMatchObject({ id: 'v', type: 'error', error: { kind: 'unsupported_version' } });
    expect(await h.request({ id: 'v2', type: 'hello', protocol: 1, client: '0.1.0' })).toMatchObject({ type: 'hello', scanner: null });
    expect(await h.close()).toBe(0);
  });
});

describe('framing over the real pipe', () => {
  it('reads a frame written one byte at a time and frames merged into one write', async () => {
    const h = startHost();
    const f = frame({ id: 'slow', type: 'health' });
    for (const b of f) {
      h.writeRaw(Uint8Array.of(b));
      await new Promise((r) => setImmediate(r));
    }
    expect(await h.waitFor((r) => r.id === 'slow')).toMatchObject({ type: 'health', ok: false, problem: expect.stringContaining('no scanner configured') });
    h.writeRaw(Buffer.concat([frame({ id: 'm1', type: 'health' }), frame({ id: 'm2', type: 'hello', protocol: 1, client: 'x' }), frame({ id: 'm3', type: 'health' })]));
    const got = await Promise.all(['m1', 'm2', 'm3'].map((id) => h.waitFor((r) => r.id === id)));
    expect(got.map((r) => r.type)).toEqual(['health', 'hello', 'health']);
    expect(await h.close()).toBe(0);
  });

  it('answers malformed JSON, a non-request and an oversize frame with errors, and resyncs', async () => {
    const h = startHost({}, { limits: { maxFrameBytes: 4096 } });
    const bad = Buffer.from('{"id": "x", nope');
    const head = Buffer.alloc(4);
    head.writeUInt32LE(bad.length);
    h.writeRaw(Buffer.concat([head, bad]));
    h.send({ id: 'q1', type: 'launch-missiles' });
    h.send({ id: 'big', type: 'hello', protocol: 1, client: 'x'.repeat(10_000) });
    h.send({ id: 'after', type: 'hello', protocol: 1, client: 'ok' });
    await h.waitFor((r) => r.id === 'after');
    const errors = h.replies.filter((r) => r.type === 'error');
    expect(errors.map((r) => [r.id, (r['error'] as { kind: string }).kind])).toEqual([
      [null, 'bad_frame'],
      ['q1', 'bad_request'],
      [null, 'frame_too_large'],
    ]);
    expect(h.replies.at(-1)).toMatchObject({ id: 'after', type: 'hello' });
    expect(await h.close()).toBe(0);
  });

  it('exits cleanly (0) when the input ends in the middle of a frame', async () => {
    const h = startHost();
    h.writeRaw(frame({ id: 'cut', type: 'health' }).subarray(0, 9));
    expect(await h.close()).toBe(0);
    expect(h.stderr).toContain('input ended inside a frame');
  });
});

describe('scans through the host with a real clamd', () => {
  it('finds EICAR in the attachment of a 3 MiB message sent in chunks', async () => {
    const h = startHost({ UNSEAL_SCANNER: clamd.url });
    const msg = messageWithAttachment({ padTo: 3 * 1024 * 1024 });
    expect(msg.length).toBeGreaterThan(3 * 1024 * 1024);
    const r = await h.scan('s-big', msg, { meta: { messageId: '<big@example.org>', folder: 'Inbox' } });
    expect(r).toMatchObject({ id: 's-big-e', type: 'scan.result', scanId: 's-big', verdict: { verdict: 'infected' } });
    const findings = (r['verdict'] as { findings: { part: string; signature: string }[] }).findings;
    expect(findings).toContainEqual({ part: 'attachments/1 invoice.com', signature: TEST_SIGNATURE_REPORTED });
    // Five chunks of 768 KiB, each acknowledged with the running byte count.
    const acks = h.replies.filter((x) => x.type === 'ack' && x['seq'] !== undefined);
    expect(acks.map((a) => a['seq'])).toEqual([0, 1, 2, 3, 4]);
    expect(acks.at(-1)!['received']).toBe(msg.length);
    expect(await h.close()).toBe(0);
  });

  it('runs concurrent scans with distinct ids and gives each its own verdict', async () => {
    const h = startHost({ UNSEAL_SCANNER: clamd.url });
    const [a, b, c] = await Promise.all([
      h.scan('c-a', plainMessage('first'), { chunk: 50 }),
      h.scan('c-b', messageWithAttachment({ filename: 'b.com' }), { chunk: 100 }),
      h.scan('c-c', messageWithAttachment({ payload: new TextEncoder().encode('harmless'), filename: 'c.txt' }), { chunk: 70 }),
    ]);
    expect(a).toMatchObject({ scanId: 'c-a', verdict: { verdict: 'clean', scannedParts: 2 } });
    expect(b).toMatchObject({ scanId: 'c-b', verdict: { verdict: 'infected' } });
    expect((b['verdict'] as { findings: { part: string }[] }).findings.map((f) => f.part)).toContain('attachments/1 b.com');
    expect(c).toMatchObject({ scanId: 'c-c', verdict: { verdict: 'clean', scannedParts: 3 } });
    expect(await h.close()).toBe(0);
  });

  it('writes verdicts and add-on events to a 0600 audit log without any plaintext', async () => {
    const home = tempHome();
    const audit = join(home, 'state', 'audit.jsonl');
    const h = new HostProcess({ HOME: home, UNSEAL_SCANNER: clamd.url, UNSEAL_AUDIT_LOG: audit });
    hosts.push(h);
    const secretText = 'The quarterly numbers are confidential';
    const msg = messageWithAttachment({ payload: new TextEncoder().encode(secretText) });
    expect(await h.scan('a1', msg, { meta: { messageId: '<a1@example.org>', subject: 'Secret subject' } })).toMatchObject({ verdict: { verdict: 'clean' } });
    expect(await h.request({ id: 'ev1', type: 'audit', event: { event: 'decrypted', messageId: '<a1@example.org>', keyFingerprint: 'ab'.repeat(20), algorithm: 'aes256-CBC' } })).toEqual({ id: 'ev1', type: 'ack' });
    expect(await h.request({ id: 'ev2', type: 'audit', event: { event: 'decrypted', body: secretText } })).toMatchObject({ id: 'ev2', type: 'error', error: { kind: 'bad_request', message: "event: unexpected field 'body'" } });
    expect(await h.close()).toBe(0);
    const text = readFileSync(audit, 'utf8');
    expect(statSync(audit).mode & 0o777).toBe(0o600);
    const lines = text.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({ source: 'host', event: 'verdict', scanId: 'a1', messageId: '<a1@example.org>', verdict: 'clean', plaintextSha256: sha256Hex(msg), size: msg.length });
    // The engine the verdict was made with (this private clamd's VERSION names no signature
    // database, so engineSignatures is absent here; the guard test covers it).
    expect(lines[0]!['engine']).toMatch(/^ClamAV \d+\.\d+/);
    expect(lines[1]).toMatchObject({ source: 'addon', event: 'decrypted', keyFingerprint: 'ab'.repeat(20) });
    expect(text).not.toContain('quarterly');
    expect(text).not.toContain('Secret subject');
  });

  it('yields unscanned(misconfigured), never clean, when the scanner misses the canaries', async () => {
    // Stock clamd limits without AlertExceedsMax: the 6 MiB padded canary comes back "clean".
    const weak = await startClamd({ maxFileSize: '1M', maxScanSize: '1M' });
    try {
      const h = startHost({ UNSEAL_SCANNER: weak.url });
      const r = await h.scan('w1', plainMessage());
      expect(r).toMatchObject({ type: 'scan.result', verdict: { verdict: 'unscanned', reason: 'misconfigured' } });
      const health = await h.request({ id: 'wh', type: 'health' });
      expect(health).toMatchObject({ ok: false, reachable: true, canary: { state: 'failed' } });
      // Only the size-limit canaries can fail here (their set grows with the scanner backends).
      const missed = (health['canary'] as { missed: string[] }).missed;
      expect(missed).toContain('eicar-padded');
      expect(missed.every((m) => m.startsWith('eicar-padded'))).toBe(true);
      expect((health['canary'] as { advice: string[] }).advice.join(' ')).toMatch(/AlertExceedsMax/);
      expect(await h.close()).toBe(0);
    } finally {
      await weak.stop();
    }
  });

  it('keeps serving after its scanner dies: unscanned, then health says unreachable, then hello', async () => {
    const mortal = await startClamd({ alertExceedsMax: true });
    const h = startHost({ UNSEAL_SCANNER: mortal.url });
    expect(await h.scan('d1', plainMessage())).toMatchObject({ verdict: { verdict: 'clean' } });
    await mortal.stop();
    const r = await h.scan('d2', plainMessage());
    expect(r).toMatchObject({ type: 'scan.result', verdict: { verdict: 'unscanned', reason: 'unavailable' } });
    expect(await h.request({ id: 'dh', type: 'health' })).toMatchObject({ ok: false, reachable: false, problem: expect.stringContaining('not reachable') });
    expect(await h.request({ id: 'dhello', type: 'hello', protocol: 1, client: 'x' })).toMatchObject({ type: 'hello' });
    expect(await h.close()).toBe(0);
  });
});

describe('scan life cycle and limits', () => {
  it('cancel: acknowledged, later chunks are refused and scan.end reports unscanned(cancelled)', async () => {
    const h = startHost({ UNSEAL_SCANNER: clamd.url });
    const data = plainMessage();
    await h.request({ id: 'k-b', type: 'scan.begin', scanId: 'k', size: data.length, sha256: sha256Hex(data) });
    await h.request({ id: 'k-c0', type: 'scan.chunk', scanId: 'k', seq: 0, data: Buffer.from(data.subarray(0, 10)).toString('base64') });
    expect(await h.request({ id: 'k-x', type: 'scan.cancel', scanId: 'k' })).toEqual({ id: 'k-x', type: 'ack', scanId: 'k' });
    expect(await h.request({ id: 'k-c1', type: 'scan.chunk', scanId: 'k', seq: 1, data: Buffer.from(data.subarray(10)).toString('base64') })).toMatchObject({ type: 'error', error: { kind: 'cancelled' } });
    expect(await h.request({ id: 'k-e', type: 'scan.end', scanId: 'k' })).toMatchObject({ type: 'scan.result', scanId: 'k', verdict: { verdict: 'unscanned', reason: 'cancelled' } });
    expect(await h.close()).toBe(0);
  });

  it('a chunk idle timeout turns the scan into unscanned(timeout)', async () => {
    const h = startHost({ UNSEAL_SCANNER: clamd.url }, { limits: { idleTimeoutMs: 300 } });
    const data = plainMessage();
    await h.request({ id: 't-b', type: 'scan.begin', scanId: 't', size: data.length, sha256: sha256Hex(data) });
    await h.request({ id: 't-c0', type: 'scan.chunk', scanId: 't', seq: 0, data: Buffer.from(data.subarray(0, 12)).toString('base64') });
    await new Promise((r) => setTimeout(r, 700));
    expect(await h.request({ id: 't-c1', type: 'scan.chunk', scanId: 't', seq: 1, data: Buffer.from(data.subarray(12)).toString('base64') })).toMatchObject({ type: 'error', error: { kind: 'timeout' } });
    const end = await h.request({ id: 't-e', type: 'scan.end', scanId: 't' });
    expect(end).toMatchObject({ type: 'scan.result', verdict: { verdict: 'unscanned', reason: 'timeout', message: expect.stringContaining('after 12 of') } });
    expect(await h.close()).toBe(0);
  });

  it('a scanner that never answers gives unscanned(timeout) within the per-scan limit', async () => {
    const sockets: Socket[] = [];
    const sock = join(work, 'blackhole.sock');
    const server: Server = createServer((s) => sockets.push(s));
    await new Promise<void>((r) => server.listen(sock, r));
    try {
      const h = startHost({ UNSEAL_SCANNER: `clamd+unix://${sock}` }, { limits: { scanTimeoutMs: 1500 } });
      const t0 = Date.now();
      const r = await h.scan('bh', plainMessage());
      expect(r).toMatchObject({ type: 'scan.result', verdict: { verdict: 'unscanned', reason: 'timeout' } });
      expect(Date.now() - t0).toBeLessThan(10_000);
      expect(await h.request({ id: 'bh-h', type: 'hello', protocol: 1, client: 'x' })).toMatchObject({ type: 'hello' });
      expect(await h.close()).toBe(0);
    } finally {
      for (const s of sockets) s.destroy();
      server.close();
    }
  });

  it('size or sha256 mismatch at scan.end is an integrity error, never a verdict', async () => {
    const h = startHost({ UNSEAL_SCANNER: clamd.url });
    const data = eicarBytes();
    await h.request({ id: 'i-b', type: 'scan.begin', scanId: 'i', size: data.length, sha256: sha256Hex(plainMessage()) });
    await h.request({ id: 'i-c', type: 'scan.chunk', scanId: 'i', seq: 0, data: Buffer.from(data).toString('base64') });
    expect(await h.request({ id: 'i-e', type: 'scan.end', scanId: 'i' })).toMatchObject({ type: 'error', scanId: 'i', error: { kind: 'integrity', message: expect.stringContaining('sha256') } });
    await h.request({ id: 'j-b', type: 'scan.begin', scanId: 'j', size: 100, sha256: sha256Hex(data) });
    await h.request({ id: 'j-c', type: 'scan.chunk', scanId: 'j', seq: 0, data: Buffer.from(data).toString('base64') });
    expect(await h.request({ id: 'j-e', type: 'scan.end', scanId: 'j' })).toMatchObject({ type: 'error', error: { kind: 'integrity', message: 'received 68 bytes, scan.begin announced 100; nothing was scanned' } });
    expect(h.replies.some((r) => r.type === 'scan.result')).toBe(false);
    expect(await h.close()).toBe(0);
  });

  it('a streamed scan that already has its answer is discarded on a sha256 mismatch; cancel mid-upload aborts the stream', async () => {
    const h = startHost({ UNSEAL_SCANNER: clamd.url });
    const data = Buffer.from(messageWithAttachment({ padTo: 2 * 1024 * 1024 }));
    const wrong = Buffer.from(data);
    wrong[wrong.length - 3]! ^= 1;
    // The add-on announces the hash of `data` but sends `wrong` (EICAR and all): clamd has answered
    // "infected" long before scan.end, and still no verdict may come out of it.
    await h.request({ id: 'w-b', type: 'scan.begin', scanId: 'w', size: data.length, sha256: sha256Hex(data) });
    for (let seq = 0, o = 0; o < wrong.length; seq++, o += 768 * 1024) {
      expect(await h.request({ id: `w-c${seq}`, type: 'scan.chunk', scanId: 'w', seq, data: wrong.subarray(o, o + 768 * 1024).toString('base64') })).toMatchObject({ type: 'ack' });
    }
    await new Promise((r) => setTimeout(r, 500));
    expect(await h.request({ id: 'w-e', type: 'scan.end', scanId: 'w' })).toMatchObject({ type: 'error', error: { kind: 'integrity' } });
    // Cancel half-way through the upload, then the same session scans the right bytes normally.
    await h.request({ id: 'x-b', type: 'scan.begin', scanId: 'x', size: data.length, sha256: sha256Hex(data) });
    await h.request({ id: 'x-c0', type: 'scan.chunk', scanId: 'x', seq: 0, data: data.subarray(0, 768 * 1024).toString('base64') });
    expect(await h.request({ id: 'x-x', type: 'scan.cancel', scanId: 'x' })).toMatchObject({ type: 'ack' });
    expect(await h.request({ id: 'x-e', type: 'scan.end', scanId: 'x' })).toMatchObject({ type: 'scan.result', verdict: { verdict: 'unscanned', reason: 'cancelled' } });
    expect(await h.scan('ok', data)).toMatchObject({ type: 'scan.result', verdict: { verdict: 'infected' } });
    expect(h.replies.filter((r) => r.type === 'scan.result').map((r) => r['scanId'])).toEqual(['x', 'ok']);
    expect(await h.close()).toBe(0);
  });

  it('refuses a duplicate scanId, an oversize scan, too many concurrent scans and out-of-order chunks', async () => {
    const h = startHost({ UNSEAL_SCANNER: clamd.url }, { limits: { maxScanBytes: 1000, maxConcurrentScans: 2 } });
    const sha = sha256Hex(new Uint8Array(10));
    expect(await h.request({ id: 'o', type: 'scan.begin', scanId: 'big', size: 1001, sha256: sha })).toMatchObject({ error: { kind: 'too_large' } });
    expect(await h.request({ id: 'p1', type: 'scan.begin', scanId: 'p1', size: 10, sha256: sha })).toMatchObject({ type: 'ack' });
    expect(await h.request({ id: 'p1b', type: 'scan.begin', scanId: 'p1', size: 10, sha256: sha })).toMatchObject({ error: { kind: 'duplicate_scan' } });
    expect(await h.request({ id: 'p2', type: 'scan.begin', scanId: 'p2', size: 10, sha256: sha })).toMatchObject({ type: 'ack' });
    expect(await h.request({ id: 'p3', type: 'scan.begin', scanId: 'p3', size: 10, sha256: sha })).toMatchObject({ error: { kind: 'busy' } });
    expect(await h.request({ id: 'p1c', type: 'scan.chunk', scanId: 'p1', seq: 1, data: 'AAAA' })).toMatchObject({ error: { kind: 'bad_request', message: expect.stringContaining('out of order') } });
    expect(await h.request({ id: 'p1e', type: 'scan.end', scanId: 'p1' })).toMatchObject({ type: 'error', error: { kind: 'bad_request' } });
    expect(await h.request({ id: 'u', type: 'scan.end', scanId: 'nobody' })).toMatchObject({ error: { kind: 'unknown_scan' } });
    expect(await h.close()).toBe(0);
  });
});
