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
 * profile's files (Gecko serialises the CryptoKey into the database) — that is what
 * `protection: 'passphrase'` is for: the wrapping key is derived from the user's passphrase
 * (PBKDF2-SHA-256, stored iteration count and per-store salt) into a non-extractable AES-GCM key
 * held only in memory (a {@link KeySession}); the `wrappingKeys` entry holds the KDF parameters and
 * a check value, never a key. Setting or changing the passphrase re-wraps every record: all crypto
 * first, then ONE transaction writes everything (a failure before or during it leaves the old
 * state). See docs/keys.md for the threat model.
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
import { writePkcs12 } from '../core/keys/pkcs12-write.js';
import { identityOf, labelOf, lifecycleOf, pkcs12Protection, previewBundle, statusOf, summaryOf, type FilePreview, type KeyStatus, type KeySummary, type Lifecycle } from '../core/keys/preview.js';
import { privateKeyFromPkcs8 } from '../core/keys/private-key.js';
import { canonicalSpki, privateKeySpki } from '../core/keys/public-key.js';
import type { CertInfo, KeyBundle, KeyRecord, PrivateKeyMaterial } from '../core/keys/types.js';

export { statusOf };
export type { KeyStatus, KeySummary, Lifecycle };

export const KEY_STORE_DB = 'unseal-keys';
/**
 * Schema history (add a step to `upgrade`, never rewrite an old one):
 * 1 — stores `keys` (keyPath `id`) and `wrappingKeys` (keyPath `id`).
 * 2 — `keys` gets an `identity` index (dual key pairs of one person listed together); every
 *     readable record is migrated in the upgrade transaction (record format 1 → 2: `identity`
 *     added; no crypto, so it runs inside the versionchange transaction). Unreadable records are
 *     left as they were: a corrupt record never blocks the upgrade or the other keys.
 */
export const KEY_STORE_VERSION = 2;
/** Version of the record layout inside the stores (independent of the schema version). */
const RECORD_FORMAT = 2;

export type Protection = 'device' | 'passphrase';
/** Stored iteration count for new passphrases (OWASP 2023 figure for PBKDF2-HMAC-SHA-256). */
export const PASSPHRASE_ITERATIONS = 600_000;

export interface StoredKeyInfo {
  id: string;
  label: string;
  addedAt: number;
  lastUsedAt?: number;
  /** The file it came from (name only). */
  source?: string;
  summary: KeySummary;
  status: KeyStatus;
  /** 'retired' = expired encryption key: kept, decrypts mail addressed to it, decrypt only. */
  lifecycle: Lifecycle;
  usage: { encryption: boolean; signing: boolean };
  protection: Protection;
  /** Grouping key for dual key pairs (first e-mail, else subject). */
  identity: string;
}

export interface ImportResult {
  added: StoredKeyInfo[];
  /** Ids of keys already in the store (or twice in the file): reported, not stored again. */
  duplicates: string[];
}

/** A parsed file waiting for the user's choice; nothing stored yet. */
export interface ImportPreview extends FilePreview {
  /** Hands the parsed keys to {@link KeyStore.commit}; valid for this store object only. */
  token: string;
  source: string;
}

/** An unlocked passphrase: the derived wrapping key (non-extractable), held in memory only. */
export interface KeySession {
  readonly wrappingKeyId: string;
  readonly key: CryptoKey;
}

export interface ProtectionState {
  mode: Protection;
  /** PBKDF2 iterations of the current passphrase. */
  iterations?: number;
}

/** Thrown (kind 'wrong_password' is not right: the store is simply locked) when a passphrase is needed. */
export class KeysLockedError extends Error {
  override readonly name = 'KeysLockedError';
  readonly locked = true;
  constructor() {
    super('Unseal is locked: unlock it with your passphrase');
  }
}

export function isLockedError(e: unknown): e is KeysLockedError {
  return e instanceof KeysLockedError || (!!e && typeof e === 'object' && (e as { locked?: unknown }).locked === true);
}

export interface KeyStore {
  list(): Promise<StoredKeyInfo[]>;
  protection(): Promise<ProtectionState>;
  /** Parses (no storage): what the file holds, duplicates marked. Errors: wrong_password, no_private_key (certificate only), key_unreadable, unsupported_algorithm. */
  preview(bytes: Uint8Array, password: string | undefined, filename: string): Promise<ImportPreview>;
  /** Stores the chosen keys of a preview (all when `ids` is undefined). Needs `session` in passphrase mode. */
  commit(token: string, ids: readonly string[] | undefined, session?: KeySession): Promise<ImportResult>;
  /** preview + commit of every key (the CLI-like path and older callers). */
  importFile(bytes: Uint8Array, password: string | undefined, filename: string, session?: KeySession): Promise<ImportResult>;
  /** Unwrapped KeyRecords for decryption: a corrupt record is skipped and reported, never makes the others unusable. Passphrase mode without a session: KeysLockedError. */
  loadKeys(session?: KeySession): Promise<{ keys: KeyRecord[]; problems: { id: string; message: string }[] }>;
  /** Derives and checks the passphrase; 'wrong_password' when it does not match (nothing modified). */
  unlock(passphrase: string): Promise<KeySession>;
  /**
   * Sets the first passphrase (converts every 'device' record) or changes it (`current` must be the
   * current passphrase). All unwrapping and re-wrapping happens first; one transaction writes
   * every record and the new wrapping entry. Returns the new session.
   */
  setPassphrase(next: string, current?: string): Promise<KeySession>;
  /** PKCS#12 (PBES2 AES-256-CBC, HMAC-SHA-256 MAC) of one key with its certificates, under a new password. */
  exportKey(id: string, password: string, session?: KeySession): Promise<Uint8Array>;
  markUsed(id: string): Promise<void>;
  remove(id: string): Promise<void>;
  /** Closes the connection; any later call reopens it. */
  close(): void;
}

/** Test hooks for crash simulation of the re-wrap. */
export interface KeyStoreFaults {
  /** Runs after every record was re-wrapped in memory, before the write transaction. */
  beforeRewrapWrite?(): void | Promise<void>;
  /** Runs inside the write transaction after all puts; may call `abort()`. */
  afterRewrapPuts?(abort: () => void): void;
}

export interface KeyStoreOptions {
  dbName?: string;
  crypto?: SubtleCrypto;
  indexedDB?: IDBFactory;
  /** Clock for status and timestamps (tests). */
  now?: () => number;
  /** PBKDF2 iterations for a new passphrase (tests use fewer). */
  passphraseIterations?: number;
  faults?: KeyStoreFaults;
}

/** What one `keys` entry holds. Everything but `wrapped.ciphertext` is public information. */
export interface StoredKeyRecord {
  format: number;
  id: string;
  label: string;
  addedAt: number;
  lastUsedAt?: number;
  source?: string;
  /** Since format 2. */
  identity?: string;
  certificateDer?: Uint8Array;
  /** Issuer first, as KeyRecord.chain. */
  chainDer: Uint8Array[];
  summary: KeySummary;
  usage: { encryption: boolean; signing: boolean };
  protection: Protection;
  wrapped: { alg: 'AES-GCM'; keyId: string; iv: Uint8Array; ciphertext: Uint8Array };
}

/** One `wrappingKeys` entry: a device key, or the description of a passphrase-derived key. */
export type WrappingKeyRecord =
  | { id: string; kind: 'device'; createdAt: number; key: CryptoKey }
  | {
      id: string;
      kind: 'passphrase';
      createdAt: number;
      kdf: { name: 'PBKDF2'; hash: 'SHA-256'; iterations: number; salt: Uint8Array };
      /** AES-GCM of a constant under the derived key (AAD = entry id): tells a wrong passphrase apart without touching records. */
      check: { iv: Uint8Array; ciphertext: Uint8Array };
    };

type DeviceKey = Extract<WrappingKeyRecord, { kind: 'device' }>;
type PassphraseKey = Extract<WrappingKeyRecord, { kind: 'passphrase' }>;

interface KeyStoreSchema extends DBSchema {
  keys: { key: string; value: StoredKeyRecord; indexes: { identity: string } };
  wrappingKeys: { key: string; value: WrappingKeyRecord };
}

type Db = IDBPDatabase<KeyStoreSchema>;

/** The schema migrations (raw IDB inside the versionchange transaction); exported for tests. */
export function upgradeSchema(db: IDBDatabase, oldVersion: number, tx: IDBTransaction): void {
  if (oldVersion < 1) {
    db.createObjectStore('keys', { keyPath: 'id' });
    db.createObjectStore('wrappingKeys', { keyPath: 'id' });
  }
  if (oldVersion < 2) {
    const keys = tx.objectStore('keys');
    keys.createIndex('identity', 'identity');
    const cursor = keys.openCursor();
    cursor.onsuccess = () => {
      const c = cursor.result;
      if (!c) return;
      try {
        const r = c.value as StoredKeyRecord;
        if (isRecordShape(r) && (r.format ?? 1) < 2) c.update({ ...r, format: 2, identity: identityOf(r.summary, r.id) });
      } catch {
        // an unreadable record stays as it is; loadKeys reports it
      }
      c.continue();
    };
  }
  // if (oldVersion < 3) { … } — later steps go here and must keep every record readable.
}

export async function openKeyStore(opts: KeyStoreOptions = {}): Promise<KeyStore> {
  const store = new IdbKeyStore(
    opts.dbName ?? KEY_STORE_DB,
    opts.crypto ?? (globalThis.crypto.subtle as SubtleCrypto),
    opts.indexedDB ?? (globalThis as { indexedDB?: IDBFactory }).indexedDB,
    opts.now ?? Date.now,
    opts.passphraseIterations ?? PASSPHRASE_ITERATIONS,
    opts.faults ?? {},
  );
  await store.db();
  return store;
}

/** idb's `openDB`, but on an injectable factory (idb's own reads the global `indexedDB`). */
async function open(factory: IDBFactory | undefined, name: string, onClose: () => void): Promise<Db> {
  if (!factory) throw new UnsealError('internal', 'IndexedDB is not available here');
  const request = factory.open(name, KEY_STORE_VERSION);
  request.addEventListener('upgradeneeded', (ev) => upgradeSchema(request.result, ev.oldVersion, request.transaction!));
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
const CHECK_PLAINTEXT = 'unseal passphrase check v1';
const PREVIEW_TTL_MS = 10 * 60_000;

const gcm = (iv: Uint8Array, aad: string) => ({ name: AES_GCM, iv: iv as Uint8Array<ArrayBuffer>, additionalData: utf8.encode(aad) as Uint8Array<ArrayBuffer>, tagLength: 128 });
const random = (n: number) => globalThis.crypto.getRandomValues(new Uint8Array(n));

class IdbKeyStore implements KeyStore {
  private conn: Promise<Db> | undefined;
  private readonly pending = new Map<string, { bundle: KeyBundle; source: string; at: number }>();

  constructor(
    private readonly name: string,
    private readonly crypto: SubtleCrypto,
    private readonly factory: IDBFactory | undefined,
    private readonly now: () => number,
    private readonly iterations: number,
    private readonly faults: KeyStoreFaults,
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

  async protection(): Promise<ProtectionState> {
    const pass = newestPassphrase(await (await this.db()).getAll('wrappingKeys'));
    return pass ? { mode: 'passphrase', iterations: pass.kdf.iterations } : { mode: 'device' };
  }

  async preview(bytes: Uint8Array, password: string | undefined, filename: string): Promise<ImportPreview> {
    // Parse (crypto, no transaction). Errors (wrong_password, …) leave the store untouched.
    const bundle = await loadKeyFile(this.crypto, bytes, password === undefined ? {} : { password });
    const source = baseName(filename);
    if (bundle.keys.length === 0) {
      const n = bundle.certificates.length;
      throw new UnsealError('no_private_key', n ? `${source || 'The file'} is a certificate only (${n} certificate${n === 1 ? '' : 's'}, no private key)` : `${source || 'The file'} holds no private key`);
    }
    const present = new Set(await (await this.db()).getAllKeys('keys'));
    const now = this.now();
    for (const [t, p] of this.pending) if (now - p.at > PREVIEW_TTL_MS) this.pending.delete(t);
    const token = hexEncode(random(12));
    this.pending.set(token, { bundle, source, at: now });
    return { ...previewBundle(bundle, pkcs12Protection(bytes), present, source, now), token, source };
  }

  async commit(token: string, ids: readonly string[] | undefined, session?: KeySession): Promise<ImportResult> {
    const p = this.pending.get(token);
    if (!p) throw new UnsealError('usage', 'this preview has expired: choose the file again');
    const chosen = ids === undefined ? p.bundle.keys : p.bundle.keys.filter((k) => ids.includes(k.id));
    const r = await this.store(chosen, p.source, session);
    this.pending.delete(token);
    return r;
  }

  async importFile(bytes: Uint8Array, password: string | undefined, filename: string, session?: KeySession): Promise<ImportResult> {
    const pv = await this.preview(bytes, password, filename);
    return this.commit(pv.token, undefined, session);
  }

  private async store(keys: readonly KeyRecord[], source: string, session: KeySession | undefined): Promise<ImportResult> {
    const db = await this.db();
    const present = new Set(await db.getAllKeys('keys'));
    const duplicates: string[] = [];
    const fresh: KeyRecord[] = [];
    for (const k of keys) {
      if (present.has(k.id) || fresh.some((f) => f.id === k.id)) duplicates.push(k.id);
      else fresh.push(k);
    }
    if (fresh.length === 0) return { added: [], duplicates };
    // Wrap (crypto, no transaction).
    const wrapping = await this.currentWrapping(session);
    const addedAt = this.now();
    const records: StoredKeyRecord[] = [];
    for (const k of fresh) records.push(await this.seal(k, wrapping, addedAt, source));
    // Store (one write transaction, IDB awaits only). Re-check: another page may have added it meanwhile,
    // or the protection may have changed since we chose the wrapping key.
    const tx = db.transaction(['keys', 'wrappingKeys'], 'readwrite');
    const stillCurrent = (await tx.objectStore('wrappingKeys').get(wrapping.id)) !== undefined;
    const added: StoredKeyRecord[] = [];
    if (stillCurrent) {
      for (const r of records) {
        if ((await tx.objectStore('keys').getKey(r.id)) !== undefined) duplicates.push(r.id);
        else {
          await tx.objectStore('keys').add(r);
          added.push(r);
        }
      }
    }
    await tx.done;
    if (!stillCurrent) throw new UnsealError('internal', 'the key protection changed during the import: import again');
    const now = this.now();
    return { added: added.map((r) => info(r, now)), duplicates };
  }

  async loadKeys(session?: KeySession): Promise<{ keys: KeyRecord[]; problems: { id: string; message: string }[] }> {
    const db = await this.db();
    const tx = db.transaction(['keys', 'wrappingKeys'], 'readonly');
    const [records, wrappingKeys] = await Promise.all([tx.objectStore('keys').getAll(), tx.objectStore('wrappingKeys').getAll()]);
    await tx.done;
    const pass = newestPassphrase(wrappingKeys);
    if (pass && (!session || session.wrappingKeyId !== pass.id)) throw new KeysLockedError();
    const keys: KeyRecord[] = [];
    const problems: { id: string; message: string }[] = [];
    for (const r of records as unknown[]) {
      const id = typeof (r as { id?: unknown })?.id === 'string' ? (r as { id: string }).id : '?';
      try {
        if (!isRecordShape(r)) throw new Error('the stored record is incomplete');
        keys.push(await this.open(r, wrappingKeys, session));
      } catch (e) {
        problems.push({ id, message: `key ${id.slice(0, 16)} cannot be used: ${e instanceof Error ? e.message : String(e)}` });
      }
    }
    return { keys, problems };
  }

  async unlock(passphrase: string): Promise<KeySession> {
    const pass = newestPassphrase(await (await this.db()).getAll('wrappingKeys'));
    if (!pass) throw new UnsealError('usage', 'no passphrase is set');
    return this.derive(pass, passphrase);
  }

  async setPassphrase(next: string, current?: string): Promise<KeySession> {
    if (next.length < 8) throw new UnsealError('usage', 'the passphrase must have at least 8 characters');
    const db = await this.db();
    // 1. Read everything (one read transaction).
    const rtx = db.transaction(['keys', 'wrappingKeys'], 'readonly');
    const [records, wrappingKeys] = await Promise.all([rtx.objectStore('keys').getAll(), rtx.objectStore('wrappingKeys').getAll()]);
    await rtx.done;
    // 2. The current passphrase must open (a wrong one ⇒ wrong_password, nothing modified).
    const old = newestPassphrase(wrappingKeys);
    let oldSession: KeySession | undefined;
    if (old) {
      if (current === undefined) throw new UnsealError('wrong_password', 'the current passphrase is needed to change it');
      oldSession = await this.derive(old, current);
    }
    // 3. Unwrap every record (crypto, no transaction). Records that cannot be opened are kept as they are.
    const plain: { r: StoredKeyRecord; pkcs8: Uint8Array }[] = [];
    for (const r of records as unknown[]) {
      if (!isRecordShape(r)) continue;
      try {
        plain.push({ r, pkcs8: await this.unwrap(r, wrappingKeys, oldSession) });
      } catch {
        // unusable already; left untouched
      }
    }
    // 4. The new wrapping key and every record re-wrapped under it (crypto, no transaction).
    const salt = random(16);
    const id = `pass-${hexEncode(random(8))}`;
    const key = await this.deriveKey(next, salt, this.iterations);
    const checkIv = random(12);
    const check = new Uint8Array(await this.crypto.encrypt(gcm(checkIv, id), key, utf8.encode(CHECK_PLAINTEXT) as Uint8Array<ArrayBuffer>));
    const entry: PassphraseKey = { id, kind: 'passphrase', createdAt: this.now(), kdf: { name: 'PBKDF2', hash: 'SHA-256', iterations: this.iterations, salt }, check: { iv: checkIv, ciphertext: check } };
    const session: KeySession = { wrappingKeyId: id, key };
    const rewrapped: StoredKeyRecord[] = [];
    for (const { r, pkcs8 } of plain) {
      const iv = random(12);
      const ciphertext = new Uint8Array(await this.crypto.encrypt(gcm(iv, r.id), key, pkcs8 as Uint8Array<ArrayBuffer>));
      pkcs8.fill(0);
      rewrapped.push({ ...r, format: RECORD_FORMAT, identity: r.identity ?? identityOf(r.summary, r.id), protection: 'passphrase', wrapped: { alg: AES_GCM, keyId: id, iv, ciphertext } });
    }
    await this.faults.beforeRewrapWrite?.();
    // 5. One transaction: the new entry, every re-wrapped record, the old passphrase entry gone. If
    //    any record appeared since step 1 (an import elsewhere), abort: it would be left under a deleted key.
    const tx = db.transaction(['keys', 'wrappingKeys'], 'readwrite');
    const keysStore = tx.objectStore('keys');
    const wkStore = tx.objectStore('wrappingKeys');
    const known = new Set((records as unknown[]).map((r) => (r as { id?: unknown })?.id));
    const nowIds = await keysStore.getAllKeys();
    if (nowIds.some((k) => !known.has(k))) {
      tx.abort();
      await tx.done.catch(() => undefined);
      throw new UnsealError('internal', 'keys were imported meanwhile: set the passphrase again');
    }
    await wkStore.add(entry);
    for (const r of rewrapped) await keysStore.put(r);
    if (old) await wkStore.delete(old.id);
    // Device keys that no record uses any more go too (a converted store has no device key).
    const stillDevice = new Set((await keysStore.getAll()).filter((r) => r?.wrapped?.keyId).map((r) => r.wrapped.keyId));
    for (const w of wrappingKeys) if (w.kind === 'device' && !stillDevice.has(w.id)) await wkStore.delete(w.id);
    this.faults.afterRewrapPuts?.(() => tx.abort());
    await tx.done;
    return session;
  }

  async exportKey(id: string, password: string, session?: KeySession): Promise<Uint8Array> {
    const db = await this.db();
    const tx = db.transaction(['keys', 'wrappingKeys'], 'readonly');
    const [r, wrappingKeys] = await Promise.all([tx.objectStore('keys').get(id), tx.objectStore('wrappingKeys').getAll()]);
    await tx.done;
    if (!r || !isRecordShape(r)) throw new UnsealError('usage', 'no such key');
    if (r.protection === 'passphrase' && (!session || session.wrappingKeyId !== r.wrapped.keyId)) throw new KeysLockedError();
    const rec = await this.open(r, wrappingKeys, session);
    const certificates = rec.certificate ? [rec.certificate.der, ...rec.chain.map((c) => c.der)] : [];
    return writePkcs12(this.crypto, { pkcs8: rec.privateKey.pkcs8, certificates, friendlyName: r.label }, password);
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

  private async deriveKey(passphrase: string, salt: Uint8Array, iterations: number): Promise<CryptoKey> {
    const base = await this.crypto.importKey('raw', utf8.encode(passphrase.normalize('NFC')) as Uint8Array<ArrayBuffer>, 'PBKDF2', false, ['deriveKey']);
    return (await this.crypto.deriveKey({ name: 'PBKDF2', hash: 'SHA-256', salt: salt as Uint8Array<ArrayBuffer>, iterations }, base, { name: AES_GCM, length: 256 }, false, ['encrypt', 'decrypt'])) as CryptoKey;
  }

  private async derive(entry: PassphraseKey, passphrase: string): Promise<KeySession> {
    const key = await this.deriveKey(passphrase, entry.kdf.salt, entry.kdf.iterations);
    try {
      const plain = await this.crypto.decrypt(gcm(entry.check.iv, entry.id), key, entry.check.ciphertext as Uint8Array<ArrayBuffer>);
      if (new TextDecoder().decode(plain) !== CHECK_PLAINTEXT) throw new Error('check');
    } catch {
      throw new UnsealError('wrong_password', 'wrong passphrase');
    }
    return { wrappingKeyId: entry.id, key };
  }

  /** Where new keys are wrapped: the unlocked passphrase key, or the device key (generated on first use). */
  private async currentWrapping(session: KeySession | undefined): Promise<{ id: string; key: CryptoKey; protection: Protection }> {
    const db = await this.db();
    const all = await db.getAll('wrappingKeys');
    const pass = newestPassphrase(all);
    if (pass) {
      if (!session || session.wrappingKeyId !== pass.id) throw new KeysLockedError();
      return { id: pass.id, key: session.key, protection: 'passphrase' };
    }
    const existing = newestDevice(all);
    if (existing) return { id: existing.id, key: existing.key, protection: 'device' };
    const key = await this.crypto.generateKey({ name: AES_GCM, length: 256 }, false, ['encrypt', 'decrypt']);
    const rec: DeviceKey = { id: `device-${hexEncode(random(8))}`, kind: 'device', createdAt: this.now(), key: key as CryptoKey };
    const tx = db.transaction('wrappingKeys', 'readwrite');
    // Two pages importing at once: the first one stored wins, the other uses it.
    const raced = newestDevice(await tx.store.getAll());
    if (!raced) await tx.store.add(rec);
    await tx.done;
    const w = raced ?? rec;
    return { id: w.id, key: w.key, protection: 'device' };
  }

  private async seal(k: KeyRecord, wrapping: { id: string; key: CryptoKey; protection: Protection }, addedAt: number, source: string): Promise<StoredKeyRecord> {
    const iv = random(12);
    const ciphertext = new Uint8Array(await this.crypto.encrypt(gcm(iv, k.id), wrapping.key, k.privateKey.pkcs8 as Uint8Array<ArrayBuffer>));
    const summary = summaryOf(k);
    const r: StoredKeyRecord = {
      format: RECORD_FORMAT,
      id: k.id,
      label: labelOf(k, source),
      addedAt,
      source,
      identity: identityOf(summary, k.id),
      chainDer: k.chain.map((c) => c.der.slice()),
      summary,
      usage: { ...k.usage },
      protection: wrapping.protection,
      wrapped: { alg: AES_GCM, keyId: wrapping.id, iv, ciphertext },
    };
    if (k.certificate) r.certificateDer = k.certificate.der.slice();
    return r;
  }

  private async unwrap(r: StoredKeyRecord, wrappingKeys: WrappingKeyRecord[], session: KeySession | undefined): Promise<Uint8Array> {
    if (r.protection !== 'device' && r.protection !== 'passphrase') throw new Error(`protection "${String(r.protection)}" is not supported by this version`);
    const w = r.wrapped;
    if (w.alg !== AES_GCM) throw new Error(`wrapping algorithm ${String(w.alg)} is not supported`);
    const wk = wrappingKeys.find((k) => k.id === w.keyId);
    if (!wk) throw new Error('its wrapping key is missing from this profile');
    let key: CryptoKey;
    if (wk.kind === 'device') key = wk.key;
    else if (session && session.wrappingKeyId === wk.id) key = session.key;
    else throw new KeysLockedError();
    try {
      return new Uint8Array(await this.crypto.decrypt(gcm(w.iv, r.id), key, w.ciphertext as Uint8Array<ArrayBuffer>));
    } catch {
      throw new Error('the stored key failed its integrity check (altered or moved between records)');
    }
  }

  /** Unwraps and re-derives: the key must hash to the record id and match the stored certificate. */
  private async open(r: StoredKeyRecord, wrappingKeys: WrappingKeyRecord[], session: KeySession | undefined): Promise<KeyRecord> {
    const pkcs8 = await this.unwrap(r, wrappingKeys, session);
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

function newestDevice(list: WrappingKeyRecord[]): DeviceKey | undefined {
  return list.filter((w): w is DeviceKey => w.kind === 'device' && !!w.key).sort((a, b) => b.createdAt - a.createdAt)[0];
}

function newestPassphrase(list: WrappingKeyRecord[]): PassphraseKey | undefined {
  return list.filter((w): w is PassphraseKey => w.kind === 'passphrase' && !!w.kdf && !!w.check).sort((a, b) => b.createdAt - a.createdAt)[0];
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
  const status = statusOf(r.summary, now);
  const out: StoredKeyInfo = {
    id: r.id,
    label: r.label,
    addedAt: r.addedAt,
    summary: r.summary,
    status,
    lifecycle: lifecycleOf(status, r.usage),
    usage: { ...r.usage },
    protection: r.protection,
    identity: r.identity ?? identityOf(r.summary, r.id),
  };
  if (r.lastUsedAt !== undefined) out.lastUsedAt = r.lastUsedAt;
  if (r.source !== undefined) out.source = r.source;
  return out;
}

const byAdded = (a: StoredKeyInfo, b: StoredKeyInfo) => a.addedAt - b.addedAt || a.id.localeCompare(b.id);

function baseName(filename: string): string {
  return filename.split(/[\\/]/).pop() ?? filename;
}
