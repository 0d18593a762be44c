/**
 * The pipeline with the organisation's keys (policy keys.managedSource) and keys.retainRetiredKeys:
 * real core, the host's unwrap done in-process by the same core function the host uses
 * (the built host itself: test/integration/host/managed-keys.test.ts).
 */
import { webcrypto } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ManagedKeys, type ManagedKeyClient } from '../../../src/background/managed-keys.js';
import { openForDisplay, type PipelineDeps } from '../../../src/background/pipeline.js';
import { loadKeyFile } from '../../../src/core/keys/load.js';
import type { KeyRecord } from '../../../src/core/keys/types.js';
import { effectivePolicy } from '../../../src/core/policy/index.js';
import type { AuditEvent } from '../../../src/protocol/native.js';
import type { ScanVerdict } from '../../../src/protocol/scan.js';
import { ROOT } from '../../helpers/cli.js';
import { fakeManagedHost } from '../../helpers/managed-host.js';

const subtle = webcrypto.subtle as SubtleCrypto;
const DEMO = join(ROOT, 'test/fixtures/demo');
const CLEAN: ScanVerdict = { verdict: 'clean', engine: { engine: 'Fake 1' }, scannedParts: 1 };
const alice = async (): Promise<KeyRecord> => (await loadKeyFile(subtle, new Uint8Array(readFileSync(join(DEMO, 'alice.p12'))), { password: 'demo' })).keys[0]!;

const fakeHost = (held: KeyRecord[]) => fakeManagedHost(held, 'Team mailbox 2019');

async function run(opts: { policy?: unknown; own?: KeyRecord[]; held?: KeyRecord[]; now?: number }) {
  const host = fakeHost(opts.held ?? []);
  const managed = new ManagedKeys(host, () => opts.now ?? Date.now());
  const audits: AuditEvent[] = [];
  const used: string[] = [];
  const deps: PipelineDeps = {
    crypto: subtle,
    loadKeys: async () => opts.own ?? [],
    rawMessage: async () => new Uint8Array(readFileSync(join(DEMO, 'encrypted-signed.eml'))),
    thunderbirdDecrypted: async () => undefined,
    scan: async () => CLEAN,
    audit: (e) => void audits.push(e),
    keyUsed: (id) => void used.push(id),
    policy: async () => effectivePolicy({ managed: opts.policy }),
    managedKeys: (o) => managed.source(o),
    ...(opts.now !== undefined ? { now: () => opts.now! } : {}),
  };
  const r = await openForDisplay({ id: 1, headerMessageId: '<m@x>' }, deps);
  return { r, host, audits, used };
}

describe('organisation-managed keys in the pipeline', () => {
  it("managedSource 'host', no user key: rendered clean, keySource managed, the key's label, audit names the key id, no last-used bookkeeping", async () => {
    const k = await alice();
    const { r, host, audits, used } = await run({ policy: { keys: { managedSource: 'host' } }, held: [k] });
    expect(r.model).toMatchObject({ kind: 'clean', keySource: 'managed', keyLabel: 'Team mailbox 2019' });
    expect(host.unwraps).toBe(1);
    expect(audits.find((a) => a.event === 'decrypted')).toMatchObject({ keyFingerprint: k.id, messageId: '<m@x>' });
    expect(used).toEqual([]);
  });

  it('default policy (none): the host is never asked, the message has no key', async () => {
    const { r, host } = await run({ held: [await alice()] });
    expect(r.model.kind).toBe('no-key');
    expect(host.lists + host.unwraps).toBe(0);
  });

  it("the user's own key wins: no unwrap at the host", async () => {
    const k = await alice();
    const { r, host, used } = await run({ policy: { keys: { managedSource: 'host' } }, own: [k], held: [k] });
    expect(r.model).toMatchObject({ kind: 'clean', keySource: 'unseal' });
    expect(host.unwraps).toBe(0);
    expect(used).toEqual([k.id]);
  });

  it('a host that cannot list its keys costs only the managed keys', async () => {
    const k = await alice();
    const host: ManagedKeyClient = { managedKeys: async () => Promise.reject(new Error('host down')), unwrapManaged: async () => Promise.reject(new Error('x')) };
    const deps: PipelineDeps = {
      crypto: subtle,
      loadKeys: async () => [k],
      rawMessage: async () => new Uint8Array(readFileSync(join(DEMO, 'encrypted-signed.eml'))),
      thunderbirdDecrypted: async () => undefined,
      scan: async () => CLEAN,
      audit: () => undefined,
      policy: async () => effectivePolicy({ managed: { keys: { managedSource: 'host' } } }),
      managedKeys: (o) => new ManagedKeys(host).source(o),
    };
    expect((await openForDisplay({ id: 1 }, deps)).model).toMatchObject({ kind: 'clean', keySource: 'unseal' });
  });
});

describe('keys.retainRetiredKeys', () => {
  it('true (default): an expired encryption key still opens old mail; false: it does not (own and managed keys)', async () => {
    const k = await alice();
    const later = k.certificate!.notAfter.getTime() + 86_400_000;
    expect((await run({ own: [k], now: later })).r.model).toMatchObject({ kind: 'clean', keySource: 'unseal' });
    expect((await run({ own: [k], now: later, policy: { keys: { retainRetiredKeys: false } } })).r.model.kind).toBe('no-key');
    expect((await run({ held: [k], now: later, policy: { keys: { managedSource: 'host' } } })).r.model).toMatchObject({ kind: 'clean', keySource: 'managed' });
    const off = await run({ held: [k], now: later, policy: { keys: { managedSource: 'host', retainRetiredKeys: false } } });
    expect(off.r.model.kind).toBe('no-key');
    expect(off.host.unwraps).toBe(0);
    // Before expiry the setting changes nothing.
    expect((await run({ own: [k], policy: { keys: { retainRetiredKeys: false } } })).r.model).toMatchObject({ kind: 'clean' });
  });
});
