/**
 * The add-on's NativeHostClient against the REAL host process (dist/host/unseal-host.mjs) over
 * real native-messaging framing, with a real clamd behind it: what the background page will see.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NativeHostClient, type NativeHostClientOptions } from '../../../src/platform/native-host.js';
import { ADDON_ID, RECOMMENDED_CHUNK_BYTES } from '../../../src/protocol/native.js';
import type { ScanVerdict } from '../../../src/protocol/scan.js';
import { messageWithAttachment } from '../../helpers/host/messages.js';
import { cleanBytes, nestedMessage } from '../../helpers/scanners/payloads.js';
import { eicarBytes } from '../../../src/host/scanners/eicar.js';
import { startClamd, TEST_SIGNATURE_REPORTED, type ClamdHandle } from '../../helpers/scanners/index.js';
import { NodeHostPort, type NodePortOptions } from './node-port.js';

let clamd: ClamdHandle;
let work: string;
const allPorts: NodeHostPort[] = [];
const clients: NativeHostClient[] = [];

beforeAll(async () => {
  execFileSync(process.execPath, ['build.mjs'], { stdio: 'inherit' });
  work = mkdtempSync(join(tmpdir(), 'unseal-native-client-'));
  clamd = await startClamd({ alertExceedsMax: true });
});

afterAll(async () => {
  for (const c of clients) c.close();
  for (const p of allPorts) if (p.child.exitCode === null && p.child.signalCode === null) p.kill('SIGKILL');
  await Promise.all(allPorts.map((p) => p.exited));
  await clamd?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

/** A client whose `connect` spawns a fresh host each time, as Thunderbird does per connectNative. */
function client(port: NodePortOptions = {}, opts: Partial<NativeHostClientOptions> = {}) {
  const home = mkdtempSync(join(work, 'home-'));
  const ports: NodeHostPort[] = [];
  const logs: string[] = [];
  const c = new NativeHostClient({
    log: (line) => logs.push(line),
    connect: () => {
      // As Thunderbird starts it: argv [manifest path, add-on id], cwd = the manifest's directory.
      const p = new NodeHostPort({
        args: [join(home, 'unseal_host.json'), ADDON_ID],
        cwd: home,
        ...port,
        env: { HOME: home, UNSEAL_SCANNER: clamd.url, UNSEAL_AUDIT_LOG: join(home, 'audit.jsonl'), ...port.env },
      });
      ports.push(p);
      allPorts.push(p);
      return p;
    },
    clientVersion: '0.1.0-it',
    ...opts,
  });
  clients.push(c);
  return { client: c, ports, home, logs };
}

function findings(v: ScanVerdict) {
  expect(v.verdict, JSON.stringify(v)).toBe('infected');
  return v.verdict === 'infected' ? v.findings : [];
}

describe('NativeHostClient ↔ unseal-host ↔ clamd', () => {
  it('hello: host version, protocol, scanner URL and the real engine; health runs the canaries', async () => {
    const { client: c, ports } = client();
    const info = await c.hello();
    expect(info).toMatchObject({ hostVersion: expect.stringMatching(/^\d+\.\d+\.\d+/), protocolVersion: 1, scanner: clamd.url });
    expect(info.engine?.engine).toMatch(/^ClamAV \d+\.\d+/);
    const health = await c.health();
    expect(health).toMatchObject({ ok: true, reachable: true, scanner: clamd.url, canary: { state: 'ok', missed: [] } });
    expect(ports).toHaveLength(1);
    expect(ports[0]!.sent.filter((m) => (m as { type: string }).type === 'hello')).toHaveLength(1);
  });

  it('a clean 3 MB message comes back clean, sent in 768 KiB chunks with progress', async () => {
    const { client: c, ports } = client();
    const msg = messageWithAttachment({ payload: cleanBytes(3 * 1024 * 1024), filename: 'data.bin' });
    expect(msg.length).toBeGreaterThan(3 * 1024 * 1024);
    const progress: number[] = [];
    const v = await c.scan(msg, { messageId: '<clean@example.org>', folder: 'Inbox' }, { onProgress: (sent, total) => (expect(total).toBe(msg.length), progress.push(sent)) });
    expect(v).toMatchObject({ verdict: 'clean', engine: { engine: expect.stringMatching(/^ClamAV/) } });
    const chunks = ports[0]!.sent.filter((m) => (m as { type: string }).type === 'scan.chunk');
    expect(chunks).toHaveLength(Math.ceil(msg.length / RECOMMENDED_CHUNK_BYTES));
    expect(progress[0]).toBe(0);
    expect(progress.at(-1)).toBe(msg.length);
    expect(progress).toEqual([...progress].sort((a, b) => a - b));
  });

  it('a MIME message with an EICAR attachment is infected, and the finding names the part', async () => {
    const { client: c } = client();
    const v = await c.scan(messageWithAttachment({ filename: 'invoice.com' }), { messageId: '<eicar@example.org>' });
    expect(findings(v)).toContainEqual({ part: 'attachments/1 invoice.com', signature: TEST_SIGNATURE_REPORTED });
  });

  it('concurrent scans share one host process and each gets its own verdict', async () => {
    const { client: c, ports } = client({}, { chunkBytes: 4096 });
    const nested = nestedMessage(eicarBytes());
    const [clean, infected, fwd] = await Promise.all([
      c.scan(messageWithAttachment({ payload: cleanBytes(50_000), filename: 'a.bin' })),
      c.scan(messageWithAttachment({ filename: 'b.com' })),
      c.scan(nested),
    ]);
    expect(clean.verdict).toBe('clean');
    expect(findings(infected).map((f) => f.part)).toContain('attachments/1 b.com');
    expect(findings(fwd).some((f) => f.part.startsWith('attachments/1 fwd.eml › '))).toBe(true);
    expect(ports).toHaveLength(1);
  });

  it('host killed mid-scan ⇒ unscanned/unavailable; the next call starts a new host and scans', async () => {
    const { client: c, ports } = client({}, { chunkBytes: 64 * 1024, window: 1 });
    const msg = messageWithAttachment({ payload: cleanBytes(2 * 1024 * 1024), filename: 'big.bin' });
    let killed = false;
    const v = await c.scan(msg, {}, {
      onProgress: (sent) => {
        if (!killed && sent >= 256 * 1024) {
          killed = true;
          ports[0]!.kill('SIGKILL');
        }
      },
    });
    expect(killed).toBe(true);
    expect(v).toMatchObject({ verdict: 'unscanned', reason: 'unavailable', message: expect.stringMatching(/connection to Unseal's native host was lost.*SIGKILL/) });
    const again = await c.scan(messageWithAttachment({ filename: 'again.com' }));
    expect(findings(again).map((f) => f.part)).toContain('attachments/1 again.com');
    expect(ports).toHaveLength(2);
  });

  it('host binary missing ⇒ unscanned/unavailable telling the user to run `unseal host install`', async () => {
    const { client: c, ports } = client({ command: join(work, 'no-such-dir', 'unseal-host') });
    const v = await c.scan(messageWithAttachment({ filename: 'x.com' }), { messageId: '<m@example.org>' });
    expect(v).toMatchObject({ verdict: 'unscanned', reason: 'unavailable' });
    expect(v.verdict === 'unscanned' && v.message).toMatch(/did not start or exited before answering\. If it is not installed, run `unseal host install --scanner/);
    expect(v.verdict === 'unscanned' && v.message).toMatch(/ENOENT/);
    await expect(c.hello()).rejects.toMatchObject({ kind: 'unavailable' });
    // Inside the backoff the client does not spawn again for every call.
    expect(ports).toHaveLength(1);
    expect(await c.audit({ event: 'key_deleted' })).toBe(false);
  });

  it('abort mid-scan sends scan.cancel; the host acknowledges it and keeps serving on the same port', async () => {
    const { client: c, ports, logs } = client({}, { chunkBytes: 32 * 1024, window: 1 });
    const ac = new AbortController();
    const v = await c.scan(messageWithAttachment({ payload: cleanBytes(1024 * 1024), filename: 'c.bin' }), {}, {
      signal: ac.signal,
      onProgress: (sent) => sent >= 128 * 1024 && ac.abort(),
    });
    expect(v).toMatchObject({ verdict: 'unscanned', reason: 'cancelled' });
    const after = await c.scan(messageWithAttachment({ filename: 'd.com' }));
    expect(after.verdict).toBe('infected');
    const sent = ports[0]!.sent as { type: string }[];
    expect(sent.filter((m) => m.type === 'scan.cancel')).toHaveLength(1);
    // The cancel was acknowledged (an error or a missing ack would have been logged).
    expect(logs.filter((l) => l.includes('scan.cancel'))).toEqual([]);
    expect(ports).toHaveLength(1);
  });

  it('a host without a scanner gives its own unscanned/misconfigured verdict, passed through', async () => {
    const { client: c } = client({ env: { UNSEAL_SCANNER: '' } });
    expect(await c.hello()).toMatchObject({ scanner: null });
    expect(await c.scan(messageWithAttachment({ filename: 'e.com' }))).toMatchObject({ verdict: 'unscanned', reason: 'misconfigured', message: expect.stringContaining('unseal host install') });
  });

  it('audit events reach the host audit log', async () => {
    const { client: c, home } = client();
    expect(await c.audit({ event: 'decrypted', messageId: '<audit@example.org>', algorithm: 'aes256-CBC', keyFingerprint: 'ab'.repeat(20) })).toBe(true);
    const log = join(home, 'audit.jsonl');
    expect(existsSync(log)).toBe(true);
    const lines = readFileSync(log, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toContainEqual(expect.objectContaining({ event: 'decrypted', messageId: '<audit@example.org>', source: 'addon' }));
  });
});
