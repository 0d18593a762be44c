/**
 * The add-on's private keys, in the extension's IndexedDB (shared by the background and the
 * add-on's pages: one origin, one database).
 *
 * Never stored in plaintext: each key's PKCS#8 DER is encrypted with AES-256-GCM under a wrapping
 * key, with the record id (the key's SPKI SHA-256) as additional data, so a ciphertext moved to
 * another record does not open. Today the wrapping key is `protection: 'device'`: a
 * NON-EXTRACTABLE AES-GCM CryptoKey generated once and kept in the same database. Code in the
 * add-on's origin can use it but never read its bytes, so no JavaScript (a diagnostics dump, a
 * copy of the records) ever sees key bytes; it does not protect against someone who reads the
 * profile's files (Gecko serialises the CryptoKey into the database) — that is what the later
 * `'passphrase'` mode is for (a PBKDF2-derived wrapping key held only in memory, a second entry in
 * `wrappingKeys`, records re-wrapped one by one: no destructive migration).
 *
 * IndexedDB transactions commit at the first non-IDB await (see the platform note), so every
 * crypto operation runs between transactions, never inside one.
 */
import { wrap, type DBSchema, type IDBPDatabase } from 'idb';
import { bytesEqual, hexEncode, utf8 } from '../core/bytes.js';
import { hashSync } from '../core/crypto/hash.js';
import { isUnsealError, UnsealError } from '../core/errors.js';
import { usageOf } from '../core/keys/bundle.js';
import { parseCertificate } from '../core/keys/certificate.js';
import { loadKeyFile } from '../core/keys/load.js';
import { privateKeyFromPkcs8 } from '../core/keys/private-key.js';
import { canonicalSpki, privateKeySpki } from '../core/keys/public-key.js';
import type { CertInfo, KeyRecord, PrivateKeyMaterial } from '../core/keys/types.js';

export const KEY_STORE_DB = 'unseal-keys';
/**
 * Schema history (add a step to `upgrade`, never rewrite an old one):
 * 1 — stores `keys` (keyPath `id`) and `wrappingKeys` (keyPath `id`).
 */
export const KEY_STORE_VERSION = 1;
/** Version of the record layout inside the stores (independent of the schema version). */
const RECORD_FORMAT = 1;

export type Protection = 'device';
export type KeyStatus = 'valid' | 'expired' | 'not-yet-valid';

export interface KeySummary {
  /** Absent for a key imported without a certificate. */
  subject?: string;
  emails: string[];
  issuer?: string;
  serialHex?: string;
  /** ms since the epoch. */
  notBefore?: number;
  notAfter?: number;
  /** Certificate keyUsage / extKeyUsage names as the core reports them. */
  keyUsage: string[];
  extKeyUsage: string[];
  algorithm: PrivateKeyMaterial['type'];
  bits?: number;
  curve?: string;
  /** SHA-256 of the certificate DER, lowercase hex. */
  certFingerprint?: string;
}

export interface StoredKeyInfo {
  id: string;
  label: string;
  addedAt: number;
  lastUsedAt?: number;
  /** The file it came from (name only). */
  source?: string;
  summary: KeySummary;
  status: KeyStatus;
  usage: { encryption: boolean; signing: boolean };
  protection: Protection;
}

export interface ImportResult {
  added: StoredKeyInfo[];
  /** Ids of keys already in the store (or twice in the file): reported, not stored again. */
  duplicates: string[];
}

export interface KeyStore {
  list(): Promise<StoredKeyInfo[]>;
  /** Parses with the core (any format loadKeyFile reads), stores every private key found (duplicates detected by id and reported, not stored twice). */
  importFile(bytes: Uint8Array, password: string | undefined, filename: string): Promise<ImportResult>;
  /** Unwrapped KeyRecords for decryption: a corrupt record is skipped and reported, never makes the others unusable. */
  loadKeys(): Promise<{ keys: KeyRecord[]; problems: { id: string; message: string }[] }>;
  markUsed(id: string): Promise<void>;
  remove(id: string): Promise<void>;
  /** Closes the connection; any later call reopens it. */
  close(): void;
}

export interface KeyStoreOptions {
  dbName?: string;
  crypto?: SubtleCrypto;
  indexedDB?: IDBFactory;
  /** Clock for status and timestamps (tests). */
  now?: () => number;
}

/** What one `keys` entry holds. Everything but `wrapped.ciphertext` is public information. */
export interface StoredKeyRecord {
  format: number;
  id: string;
  label: string;
  addedAt: number;
  lastUsedAt?: number;
  source?: string;
  certificateDer?: Uint8Array;
  /** Issuer first, as KeyRecord.chain. */
  chainDer: Uint8Array[];
  summary: KeySummary;
  usage: { encryption: boolean; signing: boolean };
  protection: Protection;
  wrapped: { alg: 'AES-GCM'; keyId: string; iv: Uint8Array; ciphertext: Uint8Array };
}

/** One `wrappingKeys` entry. A later `'passphrase'` entry holds a KDF description, not a key. */
export interface WrappingKeyRecord {
  id: string;
  kind: 'device';
  createdAt: number;
  key: CryptoKey;
}

interface KeyStoreSchema extends DBSchema {
  keys: { key: string; value: StoredKeyRecord };
  wrappingKeys: { key: string; value: WrappingKeyRecord };
}

type Db = IDBPDatabase<KeyStoreSchema>;

/** The schema migrations; exported for tests of later versions. */
export function upgradeSchema(db: Db, oldVersion: number): void {
  if (oldVersion < 1) {
    db.createObjectStore('keys', { keyPath: 'id' });
    db.createObjectStore('wrappingKeys', { keyPath: 'id' });
  }
  // if (oldVersion < 2) { … } — later steps go here and must keep every record readable.
}

export async function openKeyStore(opts: KeyStoreOptions = {}): Promise<KeyStore> {
  const store = new IdbKeyStore(
    opts.dbName ?? KEY_STORE_DB,
    opts.crypto ?? (globalThis.crypto.subtle as SubtleCrypto),
    opts.indexedDB ?? (globalThis as { indexedDB?: IDBFactory }).indexedDB,
    opts.now ?? Date.now,
  );
  await store.db();
  return store;
}

/** idb's `openDB`, but on an injectable factory (idb's own reads the global `indexedDB`). */
async function open(factory: IDBFactory | undefined, name: string, onClose: () => void): Promise<Db> {
  if (!factory) throw new UnsealError('internal', 'IndexedDB is not available here');
  const request = factory.open(name, KEY_STORE_VERSION);
  request.addEventListener('upgradeneeded', (ev) => upgradeSchema(wrap(request.result) as Db, ev.oldVersion));
  const db = (await wrap(request)) as Db;
  // A newer version of the add-on wants to upgrade the schema elsewhere: let it (we reopen lazily).
  db.addEventListener('versionchange', () => {
    db.close();
    onClose();
  });
  db.addEventListener('close', onClose);
  return db;
}

const AES_GCM = 'AES-GCM';

class IdbKeyStore implements KeyStore {
  private conn: Promise<Db> | undefined;

  constructor(
    private readonly name: string,
    private readonly crypto: SubtleCrypto,
    private readonly factory: IDBFactory | undefined,
    private readonly now: () => number,
  ) {}

  db(): Promise<Db> {
    if (!this.conn) {
      const p = open(this.factory, this.name, () => {
        if (this.conn === p) this.conn = undefined;
      });
      this.conn = p;
      p.catch(() => {
        if (this.conn === p) this.conn = undefined;
      });
    }
    return this.conn;
  }

  close(): void {
    const p = this.conn;
    this.conn = undefined;
    void p?.then((db) => db.close()).catch(() => undefined);
  }

  async list(): Promise<StoredKeyInfo[]> {
    const db = await this.db();
    const records = await db.getAll('keys');
    const now = this.now();
    return records.filter(isRecordShape).map((r) => info(r, now)).sort(byAdded);
  }

  async importFile(bytes: Uint8Array, password: string | undefined, filename: string): Promise<ImportResult> {
    // 1. Parse (crypto, no transaction). Errors (wrong_password, no_private_key, …) leave the store untouched.
    const bundle = await loadKeyFile(this.crypto, bytes, password === undefined ? {} : { password });
    if (bundle.keys.length === 0) {
      throw new UnsealError('no_private_key', `${filename || 'The file'} holds no private key${bundle.certificates.length ? ` (only ${bundle.certificates.length} certificate${bundle.certificates.length === 1 ? '' : 's'})` : ''}`);
    }
    // 2. Which are new (one read transaction).
    const db = await this.db();
    const present = new Set(await db.getAllKeys('keys'));
    const duplicates: string[] = [];
    const fresh: KeyRecord[] = [];
    for (const k of bundle.keys) {
      if (present.has(k.id) || fresh.some((f) => f.id === k.id)) duplicates.push(k.id);
      else fresh.push(k);
    }
    if (fresh.length === 0) return { added: [], duplicates };
    // 3. Wrap (crypto, no transaction).
    const wrapping = await this.wrappingKey();
    const addedAt = this.now();
    const source = baseName(filename);
    const records: StoredKeyRecord[] = [];
    for (const k of fresh) records.push(await this.seal(k, wrapping, addedAt, source));
    // 4. Store (one write transaction, IDB awaits only). Re-check: another page may have added it meanwhile.
    const tx = db.transaction('keys', 'readwrite');
    const added: StoredKeyRecord[] = [];
    for (const r of records) {
      if ((await tx.store.getKey(r.id)) !== undefined) duplicates.push(r.id);
      else {
        await tx.store.add(r);
        added.push(r);
      }
    }
    await tx.done;
    const now = this.now();
    return { added: added.map((r) => info(r, now)), duplicates };
  }

  async loadKeys(): Promise<{ keys: KeyRecord[]; problems: { id: string; message: string }[] }> {
    const db = await this.db();
    const tx = db.transaction(['keys', 'wrappingKeys'], 'readonly');
    const [records, wrappingKeys] = await Promise.all([tx.objectStore('keys').getAll(), tx.objectStore('wrappingKeys').getAll()]);
    await tx.done;
    const keys: KeyRecord[] = [];
    const problems: { id: string; message: string }[] = [];
    for (const r of records as unknown[]) {
      const id = typeof (r as { id?: unknown })?.id === 'string' ? (r as { id: string }).id : '?';
      try {
        if (!isRecordShape(r)) throw new Error('the stored record is incomplete');
        keys.push(await this.open(r, wrappingKeys));
      } catch (e) {
        problems.push({ id, message: `key ${id.slice(0, 16)} cannot be used: ${e instanceof Error ? e.message : String(e)}` });
      }
    }
    return { keys, problems };
  }

  async markUsed(id: string): Promise<void> {
    const db = await this.db();
    const tx = db.transaction('keys', 'readwrite');
    const r = await tx.store.get(id);
    if (r) {
      r.lastUsedAt = this.now();
      await tx.store.put(r);
    }
    await tx.done;
  }

  async remove(id: string): Promise<void> {
    const db = await this.db();
    await db.delete('keys', id);
  }

  /** The current device wrapping key; generated (outside any transaction) on first use. */
  private async wrappingKey(): Promise<WrappingKeyRecord> {
    const db = await this.db();
    const existing = newestDevice(await db.getAll('wrappingKeys'));
    if (existing) return existing;
    const key = await this.crypto.generateKey({ name: AES_GCM, length: 256 }, false, ['encrypt', 'decrypt']);
    const rec: WrappingKeyRecord = { id: `device-${hexEncode(globalThis.crypto.getRandomValues(new Uint8Array(8)))}`, kind: 'device', createdAt: this.now(), key: key as CryptoKey };
    const tx = db.transaction('wrappingKeys', 'readwrite');
    // Two pages importing at once: the first one stored wins, the other uses it.
    const raced = newestDevice(await tx.store.getAll());
    if (!raced) await tx.store.add(rec);
    await tx.done;
    return raced ?? rec;
  }

  private async seal(k: KeyRecord, wrapping: WrappingKeyRecord, addedAt: number, source: string): Promise<StoredKeyRecord> {
    const iv = globalThis.crypto.getRandomValues(new Uint8Array(12));
    const ciphertext = new Uint8Array(
      await this.crypto.encrypt({ name: AES_GCM, iv, additionalData: utf8.encode(k.id) as Uint8Array<ArrayBuffer>, tagLength: 128 }, wrapping.key, k.privateKey.pkcs8 as Uint8Array<ArrayBuffer>),
    );
    const r: StoredKeyRecord = {
      format: RECORD_FORMAT,
      id: k.id,
      label: labelOf(k, source),
      addedAt,
      source,
      chainDer: k.chain.map((c) => c.der.slice()),
      summary: summaryOf(k),
      usage: { ...k.usage },
      protection: 'device',
      wrapped: { alg: AES_GCM, keyId: wrapping.id, iv, ciphertext },
    };
    if (k.certificate) r.certificateDer = k.certificate.der.slice();
    return r;
  }

  /** Unwraps and re-derives: the key must hash to the record id and match the stored certificate. */
  private async open(r: StoredKeyRecord, wrappingKeys: WrappingKeyRecord[]): Promise<KeyRecord> {
    if (r.protection !== 'device') throw new Error(`protection "${String(r.protection)}" is not supported by this version`);
    const w = r.wrapped;
    if (w.alg !== AES_GCM) throw new Error(`wrapping algorithm ${String(w.alg)} is not supported`);
    const wk = wrappingKeys.find((k) => k.id === w.keyId);
    if (!wk) throw new Error('its wrapping key is missing from this profile');
    let pkcs8: Uint8Array;
    try {
      pkcs8 = new Uint8Array(await this.crypto.decrypt({ name: AES_GCM, iv: w.iv as Uint8Array<ArrayBuffer>, additionalData: utf8.encode(r.id) as Uint8Array<ArrayBuffer>, tagLength: 128 }, wk.key, w.ciphertext as Uint8Array<ArrayBuffer>));
    } catch {
      throw new Error('the stored key failed its integrity check (altered or moved between records)');
    }
    let privateKey: PrivateKeyMaterial;
    try {
      privateKey = await privateKeyFromPkcs8(this.crypto, pkcs8);
    } catch (e) {
      throw new Error(`the stored key does not parse: ${isUnsealError(e) ? e.message : String(e)}`);
    }
    const spki = privateKeySpki(privateKey);
    if (hexEncode(hashSync('SHA-256', spki ?? privateKey.pkcs8)) !== r.id) throw new Error('the stored key does not match its id');
    let certificate: CertInfo | undefined;
    if (r.certificateDer) {
      certificate = parseCertificate(r.certificateDer);
      const certSpki = canonicalSpki(certificate.spkiDer);
      if (!spki || !certSpki || !bytesEqual(spki, certSpki)) throw new Error('the stored certificate does not belong to the key');
    }
    const rec: KeyRecord = { id: r.id, privateKey, chain: r.chainDer.map((d) => parseCertificate(d)), usage: usageOf(certificate) };
    if (certificate) rec.certificate = certificate;
    if (r.label) rec.friendlyName = r.label;
    return rec;
  }
}

function newestDevice(list: WrappingKeyRecord[]): WrappingKeyRecord | undefined {
  return list.filter((w) => w.kind === 'device' && w.key).sort((a, b) => b.createdAt - a.createdAt)[0];
}

function isRecordShape(r: unknown): r is StoredKeyRecord {
  const x = r as Partial<StoredKeyRecord> | undefined;
  return (
    !!x &&
    typeof x.id === 'string' &&
    typeof x.addedAt === 'number' &&
    !!x.summary &&
    Array.isArray(x.chainDer) &&
    !!x.wrapped &&
    x.wrapped.iv instanceof Uint8Array &&
    x.wrapped.ciphertext instanceof Uint8Array
  );
}

function info(r: StoredKeyRecord, now: number): StoredKeyInfo {
  const out: StoredKeyInfo = {
    id: r.id,
    label: r.label,
    addedAt: r.addedAt,
    summary: r.summary,
    status: statusOf(r.summary, now),
    usage: { ...r.usage },
    protection: r.protection,
  };
  if (r.lastUsedAt !== undefined) out.lastUsedAt = r.lastUsedAt;
  if (r.source !== undefined) out.source = r.source;
  return out;
}

export function statusOf(s: Pick<KeySummary, 'notBefore' | 'notAfter'>, now: number): KeyStatus {
  if (s.notBefore !== undefined && now < s.notBefore) return 'not-yet-valid';
  if (s.notAfter !== undefined && now > s.notAfter) return 'expired';
  return 'valid';
}

const byAdded = (a: StoredKeyInfo, b: StoredKeyInfo) => a.addedAt - b.addedAt || a.id.localeCompare(b.id);

function summaryOf(k: KeyRecord): KeySummary {
  const c = k.certificate;
  const pk = k.privateKey;
  const s: KeySummary = { emails: c ? [...c.emails] : [], keyUsage: [...(c?.keyUsage ?? [])], extKeyUsage: [...(c?.extKeyUsage ?? [])], algorithm: pk.type };
  if (pk.type === 'rsa') s.bits = pk.bits;
  if (pk.type === 'ec') s.curve = pk.curve;
  if (pk.type === 'x25519' || pk.type === 'x448') s.curve = pk.type === 'x25519' ? 'X25519' : 'X448';
  if (c) {
    s.subject = c.subject;
    s.issuer = c.issuer;
    s.serialHex = c.serialHex;
    s.notBefore = c.notBefore.getTime();
    s.notAfter = c.notAfter.getTime();
    s.certFingerprint = c.sha256Fingerprint;
  }
  return s;
}

function labelOf(k: KeyRecord, source: string): string {
  if (k.friendlyName?.trim()) return k.friendlyName.trim();
  const cn = k.certificate?.subject.match(/(?:^|,\s*)CN=((?:\\.|[^,])+)/)?.[1];
  if (cn) return cn.replace(/\\(.)/g, '$1');
  if (k.certificate?.emails[0]) return k.certificate.emails[0];
  return source || `${k.privateKey.type.toUpperCase()} key ${k.id.slice(0, 8)}`;
}

function baseName(filename: string): string {
  return filename.split(/[\\/]/).pop() ?? filename;
}
