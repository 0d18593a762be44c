/**
 * The display pipeline and the add-on's re-scan decide alike under the same policy: both go
 * through src/background/policy-gates.ts. Real core on the demo message (AES-256-CBC, signed
 * inside) and an OpenSSL-made message over 1 MiB; the scanner and the host's unwrap are fakes.
 */
import { execFileSync } from 'node:child_process';
import { webcrypto } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManagedKeys } from '../../../src/background/managed-keys.js';
import { openForDisplay } from '../../../src/background/pipeline.js';
import { RescanRunner } from '../../../src/background/rescan-runner.js';
import { loadKeyFile } from '../../../src/core/keys/load.js';
import type { KeyRecord } from '../../../src/core/keys/types.js';
import { effectivePolicy } from '../../../src/core/policy/index.js';
import type { ScanVerdict } from '../../../src/protocol/scan.js';
import { ROOT } from '../../helpers/cli.js';
import { fakeManagedHost } from '../../helpers/managed-host.js';

const subtle = webcrypto.subtle as SubtleCrypto;
const DEMO = join(ROOT, 'test/fixtures/demo');
const CLEAN: ScanVerdict = { verdict: 'clean', engine: { engine: 'Fake 1', signatures: 'v1' }, scannedParts: 1 };

let dir: string;
let alice: KeyRecord;
let demo: Uint8Array;
let big: Uint8Array;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'unseal-parity-'));
  alice = (await loadKeyFile(subtle, new Uint8Array(readFileSync(join(DEMO, 'alice.p12'))), { password: 'demo' })).keys[0]!;
  demo = new Uint8Array(readFileSync(join(DEMO, 'encrypted-signed.eml')));
  writeFileSync(join(dir, 'big.inner'), `Content-Type: text/plain\r\n\r\n${'BIG 0123456789abcdef0123456789abcdef0123456789abcdef0123456789ab\r\n'.repeat(16_500)}`);
  execFileSync('openssl', ['cms', '-encrypt', '-binary', '-aes128', '-in', join(dir, 'big.inner'), '-out', join(dir, 'big.p7m'), join(DEMO, 'alice.pem')]);
  big = new Uint8Array(Buffer.concat([Buffer.from('From: b@x\r\nTo: a@x\r\nSubject: big\r\nMessage-ID: <big@x>\r\n'), readFileSync(join(dir, 'big.p7m'))]));
}, 60_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const host = (held: KeyRecord[]) => fakeManagedHost(held, 'Team');

interface Case {
  policy?: unknown;
  raw?: () => Uint8Array;
  /** The user has Alice's key (default true). */
  ownKey?: boolean;
  /** The host holds Alice's key as a managed key. */
  managedKey?: boolean;
  later?: boolean;
}

/** One message through both paths; what each decided, and the audit events each sent. */
async function both(c: Case) {
  const raw = (c.raw ?? (() => demo))();
  const own = c.ownKey === false ? [] : [alice];
  const now = c.later ? alice.certificate!.notAfter.getTime() + 86_400_000 : Date.now();
  const policy = async () => effectivePolicy({ managed: c.policy });
  const managed = new ManagedKeys(host(c.managedKey ? [alice] : []), () => now);

  const pipelineAudits: string[] = [];
  const shown = await openForDisplay(
    { id: 1, headerMessageId: '<m@x>' },
    {
      crypto: subtle,
      loadKeys: async () => own,
      rawMessage: async () => raw,
      thunderbirdDecrypted: async () => undefined,
      scan: async () => CLEAN,
      audit: (e) => void pipelineAudits.push(e.error ? `${e.event} ${e.error}` : e.event),
      policy,
      managedKeys: (o) => managed.source(o),
      now: () => now,
    },
  );

  const rescanAudits: string[] = [];
  const runner = new RescanRunner({
    crypto: subtle,
    loadKeys: async () => own,
    async *list() {
      yield [{ id: 1, headerMessageId: '<m@x>', key: 'k' }];
    },
    raw: async () => raw,
    engine: async () => CLEAN.engine,
    scan: async () => CLEAN,
    audit: (e) => void rescanAudits.push(e.event === 'decrypt_failed' ? `${e.event} ${e.error}` : e.event),
    policy,
    managedKeys: (o) => managed.source(o),
    onInfected: async () => undefined,
    load: async () => undefined,
    save: async () => undefined,
    scheduleHours: async () => 0,
    now: () => now,
    log: () => undefined,
  });
  await runner.start([{ id: 'f', name: 'F' }], 'page');
  await runner.idle();
  const s = runner.status();
  const m = shown.model;
  const pipeline = m.kind === 'error' ? `error ${m.errorKind}` : m.kind === 'unscanned' ? `unscanned ${m.reason}` : m.kind;
  const r = s.problems[0];
  const rescan = r ? `${r.status} ${r.reason}` : s.summary.clean === 1 ? 'clean' : JSON.stringify(s.summary);
  return { pipeline, rescan, pipelineAudits, rescanAudits };
}

describe('pipeline and re-scan under the same policy', () => {
  it.each<[string, Case, string, string]>([
    ['default policy', {}, 'clean', 'clean'],
    ['algorithms.forbidden', { policy: { algorithms: { forbidden: ['AES-256-CBC'] } } }, 'error blocked_by_policy', 'could_not_decrypt blocked_by_policy'],
    ['message.maxSizeMB', { raw: () => big, policy: { message: { maxSizeMB: 1 } } }, 'unscanned too_large', 'unscanned too_large'],
    ["managedSource 'host', no own key", { ownKey: false, managedKey: true, policy: { keys: { managedSource: 'host' } } }, 'clean', 'clean'],
    ['no own key, managed keys off', { ownKey: false, managedKey: true }, 'no-key', 'could_not_decrypt no_matching_recipient'],
    ['retainRetiredKeys false, key expired', { later: true, policy: { keys: { retainRetiredKeys: false } } }, 'no-key', 'could_not_decrypt no_matching_recipient'],
    ['retainRetiredKeys true, key expired', { later: true }, 'clean', 'clean'],
    ['retainRetiredKeys false, managed key expired', { later: true, ownKey: false, managedKey: true, policy: { keys: { managedSource: 'host', retainRetiredKeys: false } } }, 'no-key', 'could_not_decrypt no_matching_recipient'],
  ])('%s', async (_name, c, pipeline, rescan) => {
    const r = await both(c);
    expect(r.pipeline).toBe(pipeline);
    expect(r.rescan).toBe(rescan);
    // The same audit events from both paths.
    expect(r.rescanAudits).toEqual(r.pipelineAudits);
  });

  it('audit.enabled false: neither path sends an audit event, decided the same way otherwise', async () => {
    for (const extra of [{}, { algorithms: { forbidden: ['AES-256-CBC'] } }]) {
      const on = await both({ policy: extra });
      expect(on.pipelineAudits.length).toBeGreaterThan(0);
      const off = await both({ policy: { ...extra, audit: { enabled: false } } });
      expect(off.pipelineAudits).toEqual([]);
      expect(off.rescanAudits).toEqual([]);
      expect([off.pipeline, off.rescan]).toEqual([on.pipeline, on.rescan]);
    }
  });
});
