/**
 * Key lifecycle in the store: preview before commit, passphrase protection (set, lock, unlock,
 * change — atomic re-wrap with simulated crashes), export, and the v1 → v2 schema migration.
 * Real WebCrypto (node:crypto), fake-indexeddb as in key-store.test.ts.
 */
import { readFileSync } from 'node:fs';
import { webcrypto } from 'node:crypto';
import { resolve } from 'node:path';
import 'fake-indexeddb/auto';
import { IDBFactory } from 'fake-indexeddb';
import { beforeEach, describe, expect, it } from 'vitest';
import { loadKeyFile } from '../../../src/core/keys/load.js';
import { isLockedError, openKeyStore, type KeyStoreFaults, type StoredKeyRecord } from '../../../src/platform/key-store.js';
import { ROOT } from '../../helpers/cli.js';
import { rejectionKind } from '../keys/corpus-paths.js';

const subtle = webcrypto.subtle as SubtleCrypto;
const file = (p: string) => new Uint8Array(readFileSync(resolve(ROOT, p)));
const ALICE_P12 = file('test/fixtures/demo/alice.p12');
const ALICE_PASS = readFileSync(resolve(ROOT, 'test/fixtures/demo/alice.pass'), 'utf8').trim();
const LEGACY_P12 = file('test/fixtures/keys/lifecycle/legacy-rc2-40.p12');
const LEGACY_PASS = readFileSync(resolve(ROOT, 'test/fixtures/keys/lifecycle/legacy-rc2-40.pass'), 'utf8').replace(/\r?\n$/, '');
const TWO_KEYS = file('test/fixtures/keys/two-keys.pem');
const CA_PEM = file('test/fixtures/keys/ca.trusted.pem');

let factory: IDBFactory;
let n = 0;
let dbName: string;
const open = (faults?: KeyStoreFaults) =>
  openKeyStore({ dbName, crypto: subtle, indexedDB: factory as unknown as globalThis.IDBFactory, passphraseIterations: 1000, ...(faults ? { faults } : {}) });

beforeEach(() => {
  factory = new IDBFactory();
  dbName = `lifecycle-${++n}`;
});

async function raw(): Promise<{ keys: StoredKeyRecord[]; wrappingKeys: { id: string; kind: string }[] }> {
  const db = await new Promise<IDBDatabase>((res, rej) => {
    const r = (factory as unknown as globalThis.IDBFactory).open(dbName);
    r.onsuccess = () => res(r.result);
    r.onerror = () => rej(r.error);
  });
  const get = (s: string) =>
    new Promise<never[]>((res, rej) => {
      const r = db.transaction(s).objectStore(s).getAll();
      r.onsuccess = () => res(r.result as never[]);
      r.onerror = () => rej(r.error);
    });
  const out = { keys: await get('keys'), wrappingKeys: await get('wrappingKeys') };
  db.close();
  return out;
}

describe('import preview', () => {
  it('shows what a file holds before storing anything; duplicates marked; chosen ids only', async () => {
    const ks = await open();
    const pv = await ks.preview(TWO_KEYS, undefined, 'two-keys.pem');
    expect(pv.items).toHaveLength(2);
    expect(await ks.list()).toEqual([]);
    const r = await ks.commit(pv.token, [pv.items[1]!.id]);
    expect(r.added.map((k) => k.id)).toEqual([pv.items[1]!.id]);
    const again = await ks.preview(TWO_KEYS, undefined, 'two-keys.pem');
    expect(again.items.map((i) => i.duplicate)).toEqual([false, true]);
    await expect(ks.commit(pv.token, undefined)).rejects.toThrow(/expired/);
  });

  it('names legacy RC2-40 protection and describes the key', async () => {
    const ks = await open();
    const pv = await ks.preview(LEGACY_P12, LEGACY_PASS, 'key.p12');
    expect(pv.legacy).toMatch(/40BitRC2/i);
    expect(pv.protection.join(' ')).toMatch(/RC2/);
    const it0 = pv.items[0]!;
    expect(it0.summary.algorithm).toBeTruthy();
    expect(it0.usage.encryption || it0.usage.signing).toBe(true);
    const modern = await ks.preview(ALICE_P12, ALICE_PASS, 'alice.p12');
    expect(modern.legacy).toBeUndefined();
    expect(modern.items[0]!.summary.bits).toBe(2048);
    expect(modern.items[0]!.summary.chain).toBeDefined();
  });

  it('specific errors: wrong password, certificate only', async () => {
    const ks = await open();
    expect(await rejectionKind(ks.preview(ALICE_P12, 'nope', 'alice.p12'))).toBe('wrong_password');
    await expect(ks.preview(CA_PEM, undefined, 'ca.pem')).rejects.toThrow(/certificate only/);
    expect(await rejectionKind(ks.preview(CA_PEM, undefined, 'ca.pem'))).toBe('no_private_key');
    expect((await raw()).wrappingKeys).toEqual([]);
  });
});

describe('passphrase protection', () => {
  it('setting a first passphrase converts device records; locked until unlocked; wrong passphrase modifies nothing', async () => {
    const ks = await open();
    const { added } = await ks.importFile(ALICE_P12, ALICE_PASS, 'alice.p12');
    expect(added[0]!.protection).toBe('device');
    const session = await ks.setPassphrase('correct horse battery');
    expect(await ks.protection()).toEqual({ mode: 'passphrase', iterations: 1000 });
    const r = await raw();
    expect(r.keys[0]!.protection).toBe('passphrase');
    expect(r.wrappingKeys.map((w) => w.kind)).toEqual(['passphrase']); // the device key is gone
    expect(JSON.stringify(Object.keys(r.wrappingKeys[0]!))).not.toContain('"key"');

    // Locked: no keys without a session.
    const err = await ks.loadKeys().catch((e: unknown) => e);
    expect(isLockedError(err)).toBe(true);
    expect((await ks.loadKeys(session)).keys).toHaveLength(1);
    // A fresh store object (a restart): unlock with the passphrase.
    ks.close();
    const ks2 = await open();
    expect(await rejectionKind(ks2.unlock('wrong passphrase'))).toBe('wrong_password');
    const s2 = await ks2.unlock('correct horse battery');
    const loaded = await ks2.loadKeys(s2);
    expect(loaded.keys[0]!.id).toBe(added[0]!.id);
    expect(loaded.problems).toEqual([]);
    // Importing needs the session.
    const two = await ks2.preview(TWO_KEYS, undefined, 'two.pem');
    expect(isLockedError(await ks2.commit(two.token, undefined).catch((e: unknown) => e))).toBe(true);
    const r2 = await ks2.importFile(TWO_KEYS, undefined, 'two.pem', s2);
    expect(r2.added.every((k) => k.protection === 'passphrase')).toBe(true);
    // Wrong current passphrase on change: nothing modified.
    const before = await raw();
    expect(await rejectionKind(ks2.setPassphrase('another passphrase', 'wrong one!'))).toBe('wrong_password');
    expect(await raw()).toEqual(before);
  });

  it('change: re-wraps everything; a crash before the write or an aborted transaction leaves the old state usable', async () => {
    let crash: 'before' | 'abort' | undefined;
    const ks = await open({
      beforeRewrapWrite() {
        if (crash === 'before') throw new Error('simulated crash before the write');
      },
      afterRewrapPuts(abort) {
        if (crash === 'abort') abort();
      },
    });
    await ks.importFile(ALICE_P12, ALICE_PASS, 'alice.p12');
    await ks.importFile(TWO_KEYS, undefined, 'two.pem');
    await ks.setPassphrase('first passphrase');
    const snapshot = await raw();

    for (const mode of ['before', 'abort'] as const) {
      crash = mode;
      await expect(ks.setPassphrase('second passphrase', 'first passphrase')).rejects.toThrow();
      expect(await raw()).toEqual(snapshot);
      const s = await ks.unlock('first passphrase');
      const l = await ks.loadKeys(s);
      expect(l.keys).toHaveLength(3);
      expect(l.problems).toEqual([]);
      expect(await rejectionKind(ks.unlock('second passphrase'))).toBe('wrong_password');
    }
    crash = undefined;
    const s2 = await ks.setPassphrase('second passphrase', 'first passphrase');
    expect((await ks.loadKeys(s2)).keys).toHaveLength(3);
    expect(await rejectionKind(ks.unlock('first passphrase'))).toBe('wrong_password');
    const after = await raw();
    expect(after.wrappingKeys).toHaveLength(1);
    expect(after.keys.every((k) => k.wrapped.keyId === after.wrappingKeys[0]!.id)).toBe(true);
  });

  it('a corrupt record neither blocks the conversion nor the other keys', async () => {
    const ks = await open();
    await ks.importFile(ALICE_P12, ALICE_PASS, 'alice.p12');
    await ks.importFile(TWO_KEYS, undefined, 'two.pem');
    const r = await raw();
    const victim = r.keys[1]!;
    victim.wrapped.ciphertext[5] = victim.wrapped.ciphertext[5]! ^ 0xff;
    const db = await new Promise<IDBDatabase>((res) => {
      const q = (factory as unknown as globalThis.IDBFactory).open(dbName);
      q.onsuccess = () => res(q.result);
    });
    await new Promise<void>((res) => {
      const tx = db.transaction('keys', 'readwrite');
      tx.objectStore('keys').put(victim);
      tx.oncomplete = () => res();
    });
    db.close();
    const s = await ks.setPassphrase('a passphrase');
    const l = await ks.loadKeys(s);
    expect(l.keys).toHaveLength(2);
    expect(l.problems.map((p) => p.id)).toEqual([victim.id]);
  });

  it('exports a key as PKCS#12 under a new password (needs the session in passphrase mode)', async () => {
    const ks = await open();
    const { added } = await ks.importFile(ALICE_P12, ALICE_PASS, 'alice.p12');
    const p12 = await ks.exportKey(added[0]!.id, 'export pw');
    expect((await loadKeyFile(subtle, p12, { password: 'export pw' })).keys[0]!.id).toBe(added[0]!.id);
    const s = await ks.setPassphrase('a passphrase');
    expect(isLockedError(await ks.exportKey(added[0]!.id, 'x').catch((e: unknown) => e))).toBe(true);
    const p12b = await ks.exportKey(added[0]!.id, 'export pw 2', s);
    expect((await loadKeyFile(subtle, p12b, { password: 'export pw 2' })).keys[0]!.certificate).toBeDefined();
  }, 30_000);
});

describe('schema v1 → v2', () => {
  it('migrates v1 records (identity added, index created) and they still unwrap', async () => {
    // A v2 store's record, rewritten as a v1 database would have held it.
    const ks = await open();
    const { added } = await ks.importFile(ALICE_P12, ALICE_PASS, 'alice.p12');
    const r = await raw();
    ks.close();
    const v1Name = `${dbName}-v1`;
    const f = factory as unknown as globalThis.IDBFactory;
    await new Promise<void>((res, rej) => {
      const q = f.open(v1Name, 1);
      q.onupgradeneeded = () => {
        q.result.createObjectStore('keys', { keyPath: 'id' });
        q.result.createObjectStore('wrappingKeys', { keyPath: 'id' });
      };
      q.onsuccess = () => {
        const db = q.result;
        const tx = db.transaction(['keys', 'wrappingKeys'], 'readwrite');
        const { identity: _i, ...v1 } = r.keys[0]!;
        tx.objectStore('keys').put({ ...v1, format: 1 });
        tx.objectStore('keys').put({ id: 'garbage', nonsense: true });
        for (const w of r.wrappingKeys) tx.objectStore('wrappingKeys').put(w);
        tx.oncomplete = () => {
          db.close();
          res();
        };
        tx.onerror = () => rej(tx.error);
      };
    });
    const migrated = await openKeyStore({ dbName: v1Name, crypto: subtle, indexedDB: f });
    const list = await migrated.list();
    expect(list.map((k) => k.id)).toEqual([added[0]!.id]);
    expect(list[0]!.identity).toBe(added[0]!.summary.emails[0]);
    const l = await migrated.loadKeys();
    expect(l.keys).toHaveLength(1);
    expect(l.problems.map((p) => p.id)).toEqual(['garbage']);
    migrated.close();
    const db = await new Promise<IDBDatabase>((res) => {
      const q = f.open(v1Name);
      q.onsuccess = () => res(q.result);
    });
    expect(db.version).toBe(2);
    expect(Array.from(db.transaction('keys').objectStore('keys').indexNames)).toContain('identity');
    const rec = await new Promise<StoredKeyRecord>((res) => {
      const q = db.transaction('keys').objectStore('keys').get(added[0]!.id);
      q.onsuccess = () => res(q.result as StoredKeyRecord);
    });
    expect(rec.format).toBe(2);
    db.close();
  });
});
