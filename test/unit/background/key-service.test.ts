/** KeyService: requests only from add-on pages, lock/unlock/idle lock, locked keys for the pipeline, policy refusals. */
import { readFileSync } from 'node:fs';
import { webcrypto } from 'node:crypto';
import { resolve } from 'node:path';
import 'fake-indexeddb/auto';
import { IDBFactory } from 'fake-indexeddb';
import { describe, expect, it } from 'vitest';
import { KeyService } from '../../../src/background/key-service.js';
import { isLockedError, openKeyStore } from '../../../src/platform/key-store.js';
import type { KeyPolicyView } from '../../../src/protocol/keys.js';
import { ROOT } from '../../helpers/cli.js';

const ALICE_P12 = new Uint8Array(readFileSync(resolve(ROOT, 'test/fixtures/demo/alice.p12')));

async function setup(policy: Partial<KeyPolicyView> = {}) {
  const store = await openKeyStore({ dbName: 'svc', crypto: webcrypto.subtle as SubtleCrypto, indexedDB: new IDBFactory() as unknown as globalThis.IDBFactory, passphraseIterations: 1000 });
  const timers: { fn: () => void; ms: number }[] = [];
  let locks = 0;
  const audited: { event: string; keyFingerprint: string }[] = [];
  const svc = new KeyService({
    store: async () => store,
    policy: async () => ({ importAllowed: true, exportAllowed: true, passphraseRequired: false, idleLockMinutes: 15, retainRetiredKeys: true, managedSource: 'none' as const, ...policy }),
    setTimer: (fn, ms) => timers.push({ fn, ms }) - 1,
    clearTimer: (h) => void (timers[h as number] = { fn: () => undefined, ms: -1 }),
    onLock: () => locks++,
    audit: (e) => void audited.push(e),
  });
  return { svc, timers, locks: () => locks, audited };
}

describe('KeyService', () => {
  it('answers only the add-on pages', async () => {
    const { svc } = await setup();
    expect(await svc.handle({ type: 'keys.state' }, false)).toMatchObject({ ok: false, kind: 'forbidden' });
    expect(await svc.handle({ type: 'keys.state' }, true)).toMatchObject({ ok: true, value: { mode: 'device', locked: false } });
    expect(await svc.handle({ type: 'keys.bogus' }, true)).toMatchObject({ ok: false, kind: 'usage' });
  });

  it('preview → commit, passphrase, locked pipeline keys, unlock, idle lock', async () => {
    const { svc, timers, locks } = await setup();
    const pv = await svc.handle({ type: 'keys.preview', bytes: ALICE_P12, password: 'demo', filename: 'alice.p12' }, true);
    if (!pv.ok) throw new Error(pv.message);
    const token = (pv.value as { token: string; items: { id: string }[] }).token;
    const id = (pv.value as { items: { id: string }[] }).items[0]!.id;
    expect(await svc.handle({ type: 'keys.commit', token, ids: [id] }, true)).toMatchObject({ ok: true });
    expect(await svc.loadKeys()).toHaveLength(1);
    expect(await svc.handle({ type: 'keys.setPassphrase', next: 'a long passphrase' }, true)).toMatchObject({ ok: true, value: { mode: 'passphrase', locked: false } });
    expect(await svc.loadKeys()).toHaveLength(1);
    // The idle timer (15 min) locks and drops the cache.
    const armed = timers.filter((t) => t.ms === 15 * 60_000).at(-1)!;
    armed.fn();
    expect(locks()).toBe(1);
    expect(isLockedError(await svc.loadKeys().catch((e: unknown) => e))).toBe(true);
    expect(await svc.handle({ type: 'keys.unlock', passphrase: 'wrong one' }, true)).toMatchObject({ ok: false, kind: 'wrong_password' });
    expect(await svc.handle({ type: 'keys.unlock', passphrase: 'a long passphrase' }, true)).toMatchObject({ ok: true, value: { locked: false } });
    expect(await svc.loadKeys()).toHaveLength(1);
    expect(await svc.handle({ type: 'keys.lock' }, true)).toMatchObject({ ok: true, value: { locked: true } });
    expect(await svc.handle({ type: 'keys.export', id, password: 'export' }, true)).toMatchObject({ ok: false, kind: 'locked', locked: true });
  });

  it('audits import, export and delete by key id (a refused export is not audited)', async () => {
    const { svc, audited } = await setup();
    const pv = await svc.handle({ type: 'keys.preview', bytes: ALICE_P12, password: 'demo', filename: 'alice.p12' }, true);
    if (!pv.ok) throw new Error(pv.message);
    const { token, items } = pv.value as { token: string; items: { id: string }[] };
    const id = items[0]!.id;
    expect(audited).toEqual([]);
    await svc.handle({ type: 'keys.commit', token, ids: [id] }, true);
    expect(await svc.handle({ type: 'keys.export', id, password: 'no' }, true)).toMatchObject({ ok: false, kind: 'usage' });
    expect(await svc.handle({ type: 'keys.export', id, password: 'export me' }, true)).toMatchObject({ ok: true });
    expect(await svc.handle({ type: 'keys.remove', id }, true)).toMatchObject({ ok: true });
    expect(audited).toEqual([
      { event: 'key_imported', keyFingerprint: id },
      { event: 'key_exported', keyFingerprint: id },
      { event: 'key_deleted', keyFingerprint: id },
    ]);
    expect(id).toMatch(/^(?:[0-9a-f]{40}|[0-9a-f]{64})$/);
  });

  it('policy: import and export refused when not allowed; a passphrase required before importing', async () => {
    const { svc } = await setup({ importAllowed: false, exportAllowed: false });
    expect(await svc.handle({ type: 'keys.preview', bytes: ALICE_P12, password: 'demo', filename: 'a.p12' }, true)).toMatchObject({ ok: false, message: expect.stringMatching(/does not allow importing/) });
    expect(await svc.handle({ type: 'keys.export', id: 'x', password: 'abcd' }, true)).toMatchObject({ ok: false, message: expect.stringMatching(/does not allow exporting/) });
    const req = await setup({ passphraseRequired: true });
    const pv = await req.svc.handle({ type: 'keys.preview', bytes: ALICE_P12, password: 'demo', filename: 'a.p12' }, true);
    if (!pv.ok) throw new Error(pv.message);
    expect(await req.svc.handle({ type: 'keys.commit', token: (pv.value as { token: string }).token, ids: [] }, true)).toMatchObject({ ok: false, message: expect.stringMatching(/requires a passphrase/) });
  });
});

describe('KeyService: keys managed by the organisation', () => {
  const managed = { keys: [{ id: 'f'.repeat(64), label: 'Team', summary: { emails: [], keyUsage: [], extKeyUsage: [], algorithm: 'rsa' as const }, status: 'valid' as const, lifecycle: 'valid' as const, usage: { encryption: true, signing: false }, identity: 'key:f' }], problems: [] };
  async function svc(managedSource: 'none' | 'host') {
    const store = await openKeyStore({ dbName: 'svc-managed', crypto: webcrypto.subtle as SubtleCrypto, indexedDB: new IDBFactory() as unknown as globalThis.IDBFactory, passphraseIterations: 1000 });
    let asked = 0;
    const s = new KeyService({
      store: async () => store,
      policy: async () => ({ importAllowed: true, exportAllowed: true, passphraseRequired: false, idleLockMinutes: 0, retainRetiredKeys: true, managedSource }),
      setTimer: () => 0,
      clearTimer: () => undefined,
      managedKeys: async () => (asked++, managed),
    });
    return { s, asked: () => asked };
  }

  it("lists them only when the policy's managedSource is 'host'; refuses to export or delete them", async () => {
    const off = await svc('none');
    expect(await off.s.handle({ type: 'keys.list' }, true)).toMatchObject({ ok: true, value: { keys: [] } });
    expect(((await off.s.handle({ type: 'keys.list' }, true)) as { value: { managed?: unknown } }).value.managed).toBeUndefined();
    expect(off.asked()).toBe(0);
    const on = await svc('host');
    expect(await on.s.handle({ type: 'keys.list' }, true)).toMatchObject({ ok: true, value: { managed } });
    const id = 'f'.repeat(64);
    expect(await on.s.handle({ type: 'keys.remove', id }, true)).toMatchObject({ ok: false, kind: 'usage', message: expect.stringContaining('managed by your organisation') });
    expect(await on.s.handle({ type: 'keys.export', id, password: 'long enough' }, true)).toMatchObject({ ok: false, kind: 'usage', message: expect.stringContaining('managed by your organisation') });
  });
});
