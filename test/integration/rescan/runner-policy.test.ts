/**
 * The add-on's re-scan runner under the admin policy, with the same decisions as the display
 * pipeline (src/background/policy-gates.ts): audit.enabled, algorithms.forbidden, message.maxSizeMB,
 * scan.timeLimitSeconds, keys.managedSource 'host' and keys.retainRetiredKeys. Real core and
 * OpenSSL-made messages; the scanner and the host's key unwrap are in-process fakes.
 */
import { execFileSync } from 'node:child_process';
import { webcrypto } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { ManagedKeys } from '../../../src/background/managed-keys.js';
import { RescanRunner, type ListedRef, type RescanRunnerDeps } from '../../../src/background/rescan-runner.js';
import { loadKeyFile } from '../../../src/core/keys/load.js';
import type { KeyRecord } from '../../../src/core/keys/types.js';
import { effectivePolicy } from '../../../src/core/policy/index.js';
import type { RescanAuditEvent, RescanVerdict } from '../../../src/core/rescan/rescan.js';
import { ROOT } from '../../helpers/cli.js';
import { fakeManagedHost } from '../../helpers/managed-host.js';

const subtle = webcrypto.subtle as SubtleCrypto;
const DEMO = join(ROOT, 'test/fixtures/demo');
const ENGINE = { engine: 'Fake 1', signatures: 'v1' };
const CRLF = (s: string) => s.replace(/\r?\n/g, '\r\n');

let dir: string;
let alice: KeyRecord;
/** name → raw message (still encrypted). */
const messages = new Map<string, Uint8Array>();

/** A message for Alice made with `openssl cms -encrypt` and the given cipher. */
function encrypt(name: string, inner: string, cipher: string): Uint8Array {
  const i = join(dir, `${name}.inner`);
  const o = join(dir, `${name}.p7m`);
  writeFileSync(i, CRLF(inner));
  execFileSync('openssl', ['cms', '-encrypt', '-binary', cipher, '-in', i, '-out', o, join(DEMO, 'alice.pem')]);
  const body = readFileSync(o, 'latin1').replace(/^MIME-Version: 1\.0\r?\n/m, '');
  const head = CRLF(`From: Bob <bob@demo.example>\nTo: Alice <alice@demo.example>\nSubject: ${name}\nMessage-ID: <${name}@rescan.example>\nMIME-Version: 1.0\n`);
  return new Uint8Array(Buffer.from(head + body, 'latin1'));
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'unseal-rescan-policy-'));
  alice = (await loadKeyFile(subtle, new Uint8Array(readFileSync(join(DEMO, 'alice.p12'))), { password: 'demo' })).keys[0]!;
  messages.set('aes', new Uint8Array(readFileSync(join(DEMO, 'encrypted-signed.eml')))); // AES-256-CBC, signed inside
  messages.set('3des', encrypt('3des', 'Content-Type: text/plain; charset=utf-8\n\nTRIPLE-DES-MARKER confidential.\n', '-des3'));
  // Just over 1 MiB of decrypted text: over the smallest message.maxSizeMB.
  messages.set('big', encrypt('big', `Content-Type: text/plain; charset=utf-8\n\n${'BIG-MARKER 0123456789abcdef0123456789abcdef0123456789abcdef0123456\n'.repeat(16_500)}`, '-aes128'));
}, 60_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(() => void vi.useRealTimers());

const fakeHost = (held: KeyRecord[]) => fakeManagedHost(held);

interface Setup {
  policy?: unknown;
  names?: string[];
  own?: KeyRecord[];
  held?: KeyRecord[];
  now?: number;
  scan?: RescanRunnerDeps['scan'];
}

async function runOnce(o: Setup = {}) {
  const names = o.names ?? ['aes', '3des'];
  const refs: ListedRef[] = names.map((n, i) => ({ id: i + 1, headerMessageId: `<${n}@rescan.example>`, key: `f|${n}`, folderPath: '/Inbox' }));
  const audits: RescanAuditEvent[] = [];
  const scanned: string[] = [];
  const infected: number[] = [];
  const host = fakeHost(o.held ?? []);
  const now = o.now ?? Date.now();
  const runner = new RescanRunner({
    crypto: subtle,
    loadKeys: async () => o.own ?? [alice],
    async *list() {
      yield refs;
    },
    raw: async (id) => messages.get(names[id - 1]!)!,
    engine: async () => ENGINE,
    scan:
      o.scan ??
      (async (p, meta): Promise<RescanVerdict> => {
        scanned.push(meta.messageId ?? '?');
        return Buffer.from(p).toString('latin1').includes('TRIPLE-DES-MARKER') ? { verdict: 'infected', engine: ENGINE, findings: [{ part: 'message', signature: 'Eicar' }] } : { verdict: 'clean', engine: ENGINE };
      }),
    audit: (e) => void audits.push(e),
    policy: async () => effectivePolicy({ managed: o.policy }),
    managedKeys: (opts) => new ManagedKeys(host, () => now).source(opts),
    onInfected: async (id) => void infected.push(id),
    load: async () => undefined,
    save: async () => undefined,
    scheduleHours: async () => 0,
    now: () => now,
    log: () => undefined,
  });
  await runner.start([{ id: 'f', name: 'Inbox', path: '/Inbox' }], 'page');
  await runner.idle();
  const status = runner.status();
  return { status, audits, scanned, infected, host, runner };
}

describe('re-scan runner under the policy', () => {
  it('default policy: both messages decrypted, audited and scanned (the baseline for the cases below)', async () => {
    const { status, audits, scanned, infected } = await runOnce();
    expect(status.state).toBe('done');
    expect(status.summary).toMatchObject({ total: 2, scanned: 2, clean: 1, infected: 1, couldNotDecrypt: 0, unscanned: 0 });
    expect(scanned).toEqual(['<aes@rescan.example>', '<3des@rescan.example>']);
    expect(audits.map((a) => a.event)).toEqual(['decrypted', 'decrypted']);
    expect(audits[0]).toMatchObject({ event: 'decrypted', messageId: '<aes@rescan.example>', keyFingerprint: alice.id, algorithm: 'AES-256-CBC' });
    expect(infected).toEqual([2]);
  });

  it('audit.enabled false: no audit event at all (decrypted, refused or failed)', async () => {
    const { status, audits } = await runOnce({ policy: { audit: { enabled: false }, algorithms: { forbidden: ['3DES'] } }, own: [alice] });
    expect(status.summary).toMatchObject({ total: 2, clean: 1, couldNotDecrypt: 1 });
    expect(audits).toEqual([]);
    const none = await runOnce({ policy: { audit: { enabled: false } }, own: [] });
    expect(none.status.summary.couldNotDecrypt).toBe(2);
    expect(none.audits).toEqual([]);
  });

  it('algorithms.forbidden: the 3DES message is refused — counted as could not decrypt (blocked_by_policy), not scanned, no policy action; the AES one is scanned', async () => {
    const { status, audits, scanned, infected } = await runOnce({ policy: { algorithms: { forbidden: ['3DES'] } } });
    expect(status.summary).toMatchObject({ total: 2, scanned: 1, clean: 1, infected: 0, couldNotDecrypt: 1 });
    expect(scanned).toEqual(['<aes@rescan.example>']);
    expect(infected).toEqual([]);
    expect(status.problems).toEqual([
      {
        id: 'f|3des',
        messageId: '<3des@rescan.example>',
        folder: '/Inbox',
        status: 'could_not_decrypt',
        reason: 'blocked_by_policy',
        detail: "forbidden algorithm 3DES: This message is encrypted with 3DES, which your administrator's policy does not allow.",
      },
    ]);
    expect(audits).toEqual([
      expect.objectContaining({ event: 'decrypted', messageId: '<aes@rescan.example>' }),
      { event: 'decrypt_failed', messageId: '<3des@rescan.example>', folder: '/Inbox', error: 'blocked_by_policy' },
    ]);
  });

  it('message.maxSizeMB: the decrypted message over the limit is unscanned too_large and never sent to the scanner; the small one is scanned', async () => {
    const { status, scanned, audits } = await runOnce({ names: ['aes', 'big'], policy: { message: { maxSizeMB: 1 } } });
    expect(status.summary).toMatchObject({ total: 2, scanned: 1, clean: 1, unscanned: 1 });
    expect(scanned).toEqual(['<aes@rescan.example>']);
    const big = status.problems.find((p) => p.id === 'f|big');
    expect(big).toMatchObject({ status: 'unscanned', reason: 'too_large' });
    expect(big?.detail).toMatch(/^the decrypted message \(\d+ bytes\) is larger than the policy's limit of 1 MB$/);
    // Decrypted (as in the pipeline, which audits before the size check), but not scanned.
    expect(audits.filter((a) => a.event === 'decrypted')).toHaveLength(2);
    // The default limit (100 MB) scans it.
    expect((await runOnce({ names: ['big'] })).status.summary).toMatchObject({ scanned: 1, clean: 1, unscanned: 0 });
  });

  it('scan.timeLimitSeconds: a scan that outlasts the limit is aborted and counted unscanned timeout', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    let aborted = 0;
    const hang: RescanRunnerDeps['scan'] = (_p, _m, signal) =>
      new Promise((resolve) => {
        signal?.addEventListener('abort', () => {
          aborted++;
          resolve({ verdict: 'unscanned', reason: 'cancelled', message: 'cancelled' });
        });
        // The scanner is stuck: let the policy's 5 s pass.
        vi.advanceTimersByTime(5_000);
      });
    const { status } = await runOnce({ names: ['aes'], policy: { scan: { timeLimitSeconds: 5 } }, scan: hang });
    expect(aborted).toBe(1);
    expect(status.state).toBe('done');
    expect(status.summary).toMatchObject({ total: 1, scanned: 1, unscanned: 1 });
    expect(status.problems[0]).toMatchObject({ status: 'unscanned', reason: 'timeout', detail: "the scan took longer than the policy's limit of 5 s" });
  });

  it("keys.managedSource 'host': the organisation's key decrypts when the user has none; without it the host is never asked", async () => {
    const managed = await runOnce({ names: ['aes'], own: [], held: [alice], policy: { keys: { managedSource: 'host' } } });
    expect(managed.status.summary).toMatchObject({ total: 1, scanned: 1, clean: 1, couldNotDecrypt: 0 });
    expect(managed.host.unwraps).toBe(1);
    expect(managed.audits).toEqual([expect.objectContaining({ event: 'decrypted', keyFingerprint: alice.id })]);

    const none = await runOnce({ names: ['aes'], own: [], held: [alice] });
    expect(none.status.summary).toMatchObject({ total: 1, couldNotDecrypt: 1, scanned: 0 });
    expect(none.status.problems[0]).toMatchObject({ reason: 'no_matching_recipient' });
    expect(none.host.lists + none.host.unwraps).toBe(0);
  });

  it('keys.retainRetiredKeys false: an expired key (own or managed) does not decrypt; true (default) it does', async () => {
    const later = alice.certificate!.notAfter.getTime() + 86_400_000;
    expect((await runOnce({ names: ['aes'], now: later })).status.summary).toMatchObject({ clean: 1 });
    expect((await runOnce({ names: ['aes'], now: later, policy: { keys: { retainRetiredKeys: false } } })).status.summary).toMatchObject({ clean: 0, couldNotDecrypt: 1 });
    const managedOff = await runOnce({ names: ['aes'], now: later, own: [], held: [alice], policy: { keys: { managedSource: 'host', retainRetiredKeys: false } } });
    expect(managedOff.status.summary).toMatchObject({ clean: 0, couldNotDecrypt: 1 });
    expect(managedOff.host.unwraps).toBe(0);
    const managedOn = await runOnce({ names: ['aes'], now: later, own: [], held: [alice], policy: { keys: { managedSource: 'host' } } });
    expect(managedOn.status.summary).toMatchObject({ clean: 1 });
  });
});

describe('re-scan schedule', () => {
  it('refreshSchedule reads the interval again (a changed user setting), and the status shows it', async () => {
    let hours = 0;
    const runner = new RescanRunner({
      crypto: subtle,
      loadKeys: async () => [],
      async *list() {},
      raw: async () => new Uint8Array(0),
      engine: async () => ENGINE,
      scan: async () => ({ verdict: 'clean', engine: ENGINE }),
      audit: () => undefined,
      policy: async () => effectivePolicy({}),
      onInfected: async () => undefined,
      load: async () => undefined,
      save: async () => undefined,
      scheduleHours: async () => hours,
      now: () => 0,
      log: () => undefined,
    });
    await runner.init();
    expect(runner.status().scheduleHours).toBe(0);
    hours = 24;
    expect(await runner.refreshSchedule()).toBe(24);
    expect(runner.status().scheduleHours).toBe(24);
  });
});
