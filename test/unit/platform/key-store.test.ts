/**
 * The key store's logic on a real WebCrypto (node:crypto) and fake-indexeddb (an in-memory
 * IndexedDB for Node — a stand-in: the real Gecko IndexedDB is exercised by test/e2e/keys.test.ts).
 */
import { readFileSync } from 'node:fs';
import { webcrypto } from 'node:crypto';
import { resolve } from 'node:path';
// idb checks `instanceof IDBRequest` etc. against the globals: install fake-indexeddb's classes there.
import 'fake-indexeddb/auto';
import { IDBFactory } from 'fake-indexeddb';
import { beforeEach, describe, expect, it } from 'vitest';
import { bigIntToBytes } from '../../../src/core/crypto/rsa.js';
import { loadKeyFile } from '../../../src/core/keys/load.js';
import { openKeyStore, statusOf, type StoredKeyRecord } from '../../../src/platform/key-store.js';
import { CORPUS, rejectionKind } from '../keys/corpus-paths.js';
import { ROOT } from '../../helpers/cli.js';

const subtle = webcrypto.subtle as SubtleCrypto;
const demo = (n: string) => new Uint8Array(readFileSync(resolve(ROOT, 'test/fixtures/demo', n)));
const ALICE_P12 = demo('alice.p12');
const ALICE_PASS = readFileSync(resolve(ROOT, 'test/fixtures/demo/alice.pass'), 'utf8').trim();
const LEGACY_DIR = resolve(CORPUS, 'torture/19-p12-legacy-rc2-40');
const LEGACY_P12 = new Uint8Array(readFileSync(resolve(LEGACY_DIR, 'key.p12')));
const LEGACY_PASS = readFileSync(resolve(LEGACY_DIR, 'password.txt'), 'utf8').replace(/\r?\n$/, '');

let factory: IDBFactory;
let n = 0;
let dbName: string;
const open = (now?: () => number) => openKeyStore({ dbName, crypto: subtle, indexedDB: factory as unknown as globalThis.IDBFactory, ...(now ? { now } : {}) });

beforeEach(() => {
  factory = new IDBFactory();
  dbName = `keys-test-${++n}`;
});

/** Every value in every object store, read with the raw IndexedDB API (not through the store). */
async function rawDump(): Promise<Record<string, unknown[]>> {
  const db = await new Promise<IDBDatabase>((res, rej) => {
    const r = (factory as unknown as globalThis.IDBFactory).open(dbName);
    r.onsuccess = () => res(r.result);
    r.onerror = () => rej(r.error);
  });
  const out: Record<string, unknown[]> = {};
  for (const name of Array.from(db.objectStoreNames)) {
    out[name] = await new Promise<unknown[]>((res, rej) => {
      const r = db.transaction(name).objectStore(name).getAll();
      r.onsuccess = () => res(r.result as unknown[]);
      r.onerror = () => rej(r.error);
    });
  }
  db.close();
  return out;
}

async function rawPut(store: string, value: unknown): Promise<void> {
  const db = await new Promise<IDBDatabase>((res, rej) => {
    const r = (factory as unknown as globalThis.IDBFactory).open(dbName);
    r.onsuccess = () => res(r.result);
    r.onerror = () => rej(r.error);
  });
  await new Promise<void>((res, rej) => {
    const tx = db.transaction(store, 'readwrite');
    tx.objectStore(store).put(value);
    tx.oncomplete = () => res();
    tx.onerror = () => rej(tx.error);
  });
  db.close();
}

/** All byte strings reachable from a stored value: binary fields, and strings as UTF-8. */
function blobsOf(v: unknown, out: Uint8Array[] = [], seen = new Set<unknown>()): Uint8Array[] {
  if (v === null || v === undefined) return out;
  if (typeof v === 'string') {
    out.push(new TextEncoder().encode(v));
    return out;
  }
  if (typeof v !== 'object' || seen.has(v)) return out;
  seen.add(v);
  if (ArrayBuffer.isView(v)) out.push(new Uint8Array(v.buffer, v.byteOffset, v.byteLength));
  else if (v instanceof ArrayBuffer) out.push(new Uint8Array(v));
  else for (const x of Object.values(v as object)) blobsOf(x, out, seen);
  return out;
}

function contains(hay: Uint8Array, needle: Uint8Array): boolean {
  outer: for (let i = 0; i + needle.length <= hay.length; i++) {
    for (let j = 0; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer;
    return true;
  }
  return false;
}

describe('key store', () => {
  it('imports the demo key (alice.p12) and lists it with its certificate summary', async () => {
    const ks = await open();
    const r = await ks.importFile(ALICE_P12, ALICE_PASS, '/home/u/alice.p12');
    expect(r.duplicates).toEqual([]);
    expect(r.added).toHaveLength(1);
    const k = r.added[0]!;
    expect(k.id).toMatch(/^[0-9a-f]{64}$/);
    expect(k.protection).toBe('device');
    expect(k.source).toBe('alice.p12');
    expect(k.summary.subject).toMatch(/CN=Alice/);
    expect(k.summary.emails.length).toBeGreaterThan(0);
    expect(k.summary.issuer).toBeTruthy();
    expect(k.summary.serialHex).toMatch(/^[0-9a-f]+$/);
    expect(k.summary.algorithm).toBe('rsa');
    expect(k.summary.bits).toBe(2048);
    expect(k.usage).toEqual({ encryption: true, signing: true });
    expect(k.status).toBe('valid');
    expect(await ks.list()).toEqual(r.added);

    const { keys, problems } = await ks.loadKeys();
    expect(problems).toEqual([]);
    expect(keys).toHaveLength(1);
    const direct = (await loadKeyFile(subtle, ALICE_P12, { password: ALICE_PASS })).keys[0]!;
    expect(keys[0]!.id).toBe(direct.id);
    expect(keys[0]!.privateKey.pkcs8).toEqual(direct.privateKey.pkcs8);
    expect(keys[0]!.certificate?.sha256Fingerprint).toBe(direct.certificate?.sha256Fingerprint);
    expect(keys[0]!.chain.map((c) => c.sha256Fingerprint)).toEqual(direct.chain.map((c) => c.sha256Fingerprint));
    expect(keys[0]!.usage).toEqual(direct.usage);
    ks.close();
  });

  it('imports a legacy RC2-40/3DES .p12 from the corpus', async () => {
    const ks = await open();
    const r = await ks.importFile(LEGACY_P12, LEGACY_PASS, 'key.p12');
    expect(r.added).toHaveLength(1);
    const { keys, problems } = await ks.loadKeys();
    expect(problems).toEqual([]);
    const direct = (await loadKeyFile(subtle, LEGACY_P12, { password: LEGACY_PASS })).keys[0]!;
    expect(keys.map((k) => k.id)).toEqual([direct.id]);
    expect(keys[0]!.privateKey.pkcs8).toEqual(direct.privateKey.pkcs8);
    ks.close();
  });

  it('reports duplicates by id and does not store them twice (also the same key from PEM)', async () => {
    const ks = await open();
    const first = await ks.importFile(ALICE_P12, ALICE_PASS, 'alice.p12');
    const again = await ks.importFile(ALICE_P12, ALICE_PASS, 'alice.p12');
    expect(again.added).toEqual([]);
    expect(again.duplicates).toEqual([first.added[0]!.id]);
    const pem = await ks.importFile(demo('alice.key'), undefined, 'alice.key');
    expect(pem.added).toEqual([]);
    expect(pem.duplicates).toEqual([first.added[0]!.id]);
    expect(await ks.list()).toHaveLength(1);
    expect((await rawDump())['keys']).toHaveLength(1);
    ks.close();
  });

  it('wrong password ⇒ wrong_password, nothing stored (not even a wrapping key); no password ⇒ wrong_password too', async () => {
    const ks = await open();
    expect(await rejectionKind(ks.importFile(ALICE_P12, 'not the password', 'alice.p12'))).toBe('wrong_password');
    expect(await rejectionKind(ks.importFile(ALICE_P12, undefined, 'alice.p12'))).toBe('wrong_password');
    expect(await ks.list()).toEqual([]);
    const raw = await rawDump();
    expect(raw['keys']).toEqual([]);
    expect(raw['wrappingKeys']).toEqual([]);
    ks.close();
  });

  it('a file with only a certificate ⇒ no_private_key', async () => {
    const ks = await open();
    expect(await rejectionKind(ks.importFile(demo('ca.pem'), undefined, 'ca.pem'))).toBe('no_private_key');
    expect(await ks.list()).toEqual([]);
    ks.close();
  });

  it('raw IndexedDB holds no private key bytes: no PKCS#8, no RSA d/p/q, in any form', async () => {
    const ks = await open();
    await ks.importFile(ALICE_P12, ALICE_PASS, 'alice.p12');
    await ks.importFile(LEGACY_P12, LEGACY_PASS, 'legacy.p12');
    const secrets: { what: string; bytes: Uint8Array }[] = [];
    for (const [file, pass] of [[ALICE_P12, ALICE_PASS], [LEGACY_P12, LEGACY_PASS]] as const) {
      const k = (await loadKeyFile(subtle, file, { password: pass })).keys[0]!;
      if (k.privateKey.type !== 'rsa') throw new Error('expected RSA test keys');
      const pk = k.privateKey;
      secrets.push({ what: 'pkcs8', bytes: pk.pkcs8 });
      for (const [name, v] of Object.entries({ d: pk.rsa.d, p: pk.rsa.p, q: pk.rsa.q, dp: pk.rsa.dp, dq: pk.rsa.dq })) {
        const b = bigIntToBytes(v, Math.ceil(v.toString(16).length / 2));
        // Any 16-byte window would be a leak; check the start, the middle and the end.
        for (const off of [0, Math.floor(b.length / 2) - 8, b.length - 16]) secrets.push({ what: `${name}@${off}`, bytes: b.subarray(off, off + 16) });
        const hex = Buffer.from(b).toString('hex');
        secrets.push({ what: `${name} hex`, bytes: new TextEncoder().encode(hex.slice(0, 32)) });
        secrets.push({ what: `${name} base64`, bytes: new TextEncoder().encode(Buffer.from(b.subarray(0, 24)).toString('base64')) });
        secrets.push({ what: `${name} base64url`, bytes: new TextEncoder().encode(Buffer.from(b.subarray(0, 24)).toString('base64url')) });
      }
      secrets.push({ what: 'pkcs8 base64', bytes: new TextEncoder().encode(Buffer.from(pk.pkcs8.subarray(0, 48)).toString('base64')) });
    }
    const raw = await rawDump();
    expect(raw['keys']).toHaveLength(2);
    const blobs = Object.values(raw).flatMap((values) => values.flatMap((v) => blobsOf(v)));
    expect(blobs.length).toBeGreaterThan(10);
    for (const s of secrets) for (const b of blobs) expect(contains(b, s.bytes), `stored value contains ${s.what}`).toBe(false);
    // The wrapping key is a CryptoKey that cannot be exported.
    const [wk] = raw['wrappingKeys'] as { key: CryptoKey }[];
    expect(wk!.key.extractable).toBe(false);
    expect(wk!.key.algorithm).toMatchObject({ name: 'AES-GCM', length: 256 });
    await expect(subtle.exportKey('raw', wk!.key)).rejects.toThrow();
    // And what is stored is AES-GCM of the PKCS#8: 16 bytes longer (the tag), 12-byte IV.
    for (const r of raw['keys'] as StoredKeyRecord[]) {
      expect(r.wrapped.alg).toBe('AES-GCM');
      expect(r.wrapped.iv).toHaveLength(12);
      expect(r.protection).toBe('device');
    }
    ks.close();
  });

  it('a ciphertext moved to another record (AAD = id) is rejected; the untouched key still loads', async () => {
    const ks = await open();
    await ks.importFile(ALICE_P12, ALICE_PASS, 'alice.p12');
    await ks.importFile(LEGACY_P12, LEGACY_PASS, 'legacy.p12');
    const [a, b] = (await rawDump())['keys'] as StoredKeyRecord[];
    // Swap the wrapped blobs of the two records.
    await rawPut('keys', { ...a!, wrapped: b!.wrapped });
    await rawPut('keys', { ...b!, wrapped: a!.wrapped });
    let res = await ks.loadKeys();
    expect(res.keys).toEqual([]);
    expect(res.problems.map((p) => p.id).sort()).toEqual([a!.id, b!.id].sort());
    expect(res.problems[0]!.message).toMatch(/integrity/);
    // Put b back: a still fails alone, b loads.
    await rawPut('keys', b!);
    res = await ks.loadKeys();
    expect(res.keys.map((k) => k.id)).toEqual([b!.id]);
    expect(res.problems.map((p) => p.id)).toEqual([a!.id]);
    ks.close();
  });

  it('a corrupted record is skipped and reported while the others load', async () => {
    const ks = await open();
    await ks.importFile(ALICE_P12, ALICE_PASS, 'alice.p12');
    await ks.importFile(LEGACY_P12, LEGACY_PASS, 'legacy.p12');
    const [a, b] = (await rawDump())['keys'] as StoredKeyRecord[];
    const ct = a!.wrapped.ciphertext.slice();
    ct[10]! ^= 0x01;
    await rawPut('keys', { ...a!, wrapped: { ...a!.wrapped, ciphertext: ct } });
    // A record that is not even shaped like one.
    await rawPut('keys', { id: 'garbage', label: 5 });
    const res = await ks.loadKeys();
    expect(res.keys.map((k) => k.id)).toEqual([b!.id]);
    expect(res.problems.map((p) => p.id).sort()).toEqual([a!.id, 'garbage'].sort());
    // list() shows the well-formed ones (the altered one too: its metadata is intact), remove() clears it.
    expect((await ks.list()).map((k) => k.id).sort()).toEqual([a!.id, b!.id].sort());
    await ks.remove(a!.id);
    await ks.remove('garbage');
    expect((await ks.loadKeys()).problems).toEqual([]);
    ks.close();
  });

  it('a certificate swapped under a record is rejected (the key must match its id and certificate)', async () => {
    const ks = await open();
    await ks.importFile(ALICE_P12, ALICE_PASS, 'alice.p12');
    await ks.importFile(LEGACY_P12, LEGACY_PASS, 'legacy.p12');
    const [a, b] = (await rawDump())['keys'] as StoredKeyRecord[];
    await rawPut('keys', { ...a!, certificateDer: b!.certificateDer });
    const res = await ks.loadKeys();
    expect(res.keys.map((k) => k.id)).toEqual([b!.id]);
    expect(res.problems[0]!.message).toMatch(/certificate does not belong/);
    ks.close();
  });

  it('keys survive closing and reopening the database; remove() and markUsed() persist', async () => {
    let t = 1_700_000_000_000;
    const ks = await open(() => t);
    const { added } = await ks.importFile(ALICE_P12, ALICE_PASS, 'alice.p12');
    await ks.importFile(LEGACY_P12, LEGACY_PASS, 'legacy.p12');
    ks.close();
    t += 1000;
    const again = await open(() => t);
    expect((await again.list()).map((k) => k.id)).toContain(added[0]!.id);
    const loaded = await again.loadKeys();
    expect(loaded.problems).toEqual([]);
    expect(loaded.keys).toHaveLength(2);
    await again.markUsed(added[0]!.id);
    await again.remove(loaded.keys.find((k) => k.id !== added[0]!.id)!.id);
    again.close();
    const third = await open(() => t);
    const list = await third.list();
    expect(list.map((k) => k.id)).toEqual([added[0]!.id]);
    expect(list[0]!.lastUsedAt).toBe(t);
    // One wrapping key, reused across opens.
    expect((await rawDump())['wrappingKeys']).toHaveLength(1);
    third.close();
  });

  it('expired keys are kept, listed as expired and still loaded (old mail stays readable)', async () => {
    const ks0 = await open();
    const { added } = await ks0.importFile(ALICE_P12, ALICE_PASS, 'alice.p12');
    ks0.close();
    const notAfter = added[0]!.summary.notAfter!;
    const notBefore = added[0]!.summary.notBefore!;
    const later = await open(() => notAfter + 86_400_000);
    expect((await later.list())[0]!.status).toBe('expired');
    expect((await later.loadKeys()).keys).toHaveLength(1);
    later.close();
    const earlier = await open(() => notBefore - 1);
    expect((await earlier.list())[0]!.status).toBe('not-yet-valid');
    earlier.close();
    expect(statusOf({}, 0)).toBe('valid');
  });

  it('two stores importing at once share one wrapping key and store each key once', async () => {
    const [s1, s2] = await Promise.all([open(), open()]);
    const [r1, r2] = await Promise.all([s1!.importFile(ALICE_P12, ALICE_PASS, 'a.p12'), s2!.importFile(ALICE_P12, ALICE_PASS, 'a.p12')]);
    expect(r1.added.length + r2.added.length).toBe(1);
    expect(r1.duplicates.length + r2.duplicates.length).toBe(1);
    const raw = await rawDump();
    expect(raw['keys']).toHaveLength(1);
    expect(raw['wrappingKeys']).toHaveLength(1);
    expect((await s1!.loadKeys()).problems).toEqual([]);
    s1!.close();
    s2!.close();
  });
});
