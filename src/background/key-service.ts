/**
 * The background's side of the key store: the one place that holds an unlocked passphrase
 * session and the unwrapped keys (only while unlocked; dropped on explicit lock, on the idle
 * timeout from the policy, and when the background is unloaded). The keys page asks it over
 * runtime messages (src/protocol/keys.ts); the pipeline asks it for keys and gets
 * KeysLockedError when locked. Dependencies are passed in, so it runs in Node tests.
 */
import { isUnsealError, UnsealError } from '../core/errors.js';
import type { KeyRecord } from '../core/keys/types.js';
import { isLockedError, KeysLockedError, type ImportPreview, type ImportResult, type KeySession, type KeyStore, type StoredKeyInfo } from '../platform/key-store.js';
import { parseKeyRequest, type KeyPolicyView, type KeyReply, type KeysState } from '../protocol/keys.js';
import type { ManagedKeyList } from './managed-keys.js';

export interface KeyServiceDeps {
  store(): Promise<KeyStore>;
  policy(): Promise<KeyPolicyView>;
  setTimer(fn: () => void, ms: number): unknown;
  clearTimer(h: unknown): void;
  warn?(message: string): void;
  /** Locking also drops what was decrypted with the keys (the opened-message cache). */
  onLock?(): void;
  /** The organisation's keys from the native host (asked only when the policy's keys.managedSource is 'host'). */
  managedKeys?(): Promise<ManagedKeyList>;
  /** The key lifecycle for the audit trail: the key's id only, never key material. */
  audit?(event: { event: 'key_imported' | 'key_deleted' | 'key_exported'; keyFingerprint: string }): void;
}

export interface KeyListView {
  keys: StoredKeyInfo[];
  problems: { id: string; message: string }[];
  locked: boolean;
  /** Present when the policy names the host as a key source: listed, never exported or deleted here. */
  managed?: ManagedKeyList;
}

export class KeyService {
  private session: KeySession | undefined;
  /** The unwrapped keys of this session (or of device mode), loaded once. */
  private keys: Promise<KeyRecord[]> | undefined;
  private problems: { id: string; message: string }[] = [];
  private timer: unknown;

  constructor(private readonly deps: KeyServiceDeps) {}

  /** For the pipeline: the usable keys, or KeysLockedError. Counts as activity for the idle lock. */
  async loadKeys(): Promise<KeyRecord[]> {
    const keys = (this.keys ??= this.load());
    keys.catch(() => {
      if (this.keys === keys) this.keys = undefined;
    });
    const out = await keys;
    void this.touch();
    return out;
  }

  private async load(): Promise<KeyRecord[]> {
    const { keys, problems } = await (await this.deps.store()).loadKeys(this.session);
    this.problems = problems;
    for (const p of problems) this.deps.warn?.(`unseal: stored key ${p.id} is unusable: ${p.message}`);
    return keys;
  }

  lock(): void {
    if (this.session) this.deps.onLock?.();
    this.session = undefined;
    this.keys = undefined;
    if (this.timer !== undefined) this.deps.clearTimer(this.timer);
    this.timer = undefined;
  }

  get unlocked(): boolean {
    return this.session !== undefined;
  }

  /** Re-arms the idle lock (policy minutes; 0 = never). */
  private async touch(): Promise<void> {
    if (!this.session) return;
    const minutes = (await this.deps.policy()).idleLockMinutes;
    if (this.timer !== undefined) this.deps.clearTimer(this.timer);
    this.timer = minutes > 0 ? this.deps.setTimer(() => this.lock(), minutes * 60_000) : undefined;
  }

  private async managed(): Promise<ManagedKeyList | undefined> {
    if (!this.deps.managedKeys || (await this.deps.policy()).managedSource !== 'host') return undefined;
    return this.deps.managedKeys();
  }

  /** A managed key is the organisation's: it has no record here, and the page offers no such action. */
  private async refuseManaged(id: string, store: KeyStore, what: string): Promise<void> {
    if ((await store.list()).some((k) => k.id === id)) return;
    const managed = await this.managed().catch(() => undefined);
    if (managed?.keys.some((k) => k.id === id)) throw new UnsealError('usage', `this key is managed by your organisation and cannot be ${what} here`);
  }

  async state(): Promise<KeysState> {
    const [p, policy] = await Promise.all([(await this.deps.store()).protection(), this.deps.policy()]);
    if (p.mode === 'device' && this.session) this.lock();
    return { mode: p.mode, locked: p.mode === 'passphrase' && !this.session, policy };
  }

  /** Answers one request from the add-on's keys page; `fromExtensionPage` is the router's sender check. */
  async handle(raw: unknown, fromExtensionPage: boolean): Promise<KeyReply<unknown>> {
    if (!fromExtensionPage) return { ok: false, kind: 'forbidden', message: 'key requests are answered for the add-on pages only' };
    try {
      return { ok: true, value: await this.dispatch(raw) };
    } catch (e) {
      if (isLockedError(e)) return { ok: false, kind: 'locked', message: e instanceof Error ? e.message : 'locked', locked: true };
      if (e instanceof TypeError) return { ok: false, kind: 'usage', message: e.message };
      return { ok: false, kind: isUnsealError(e) ? e.kind : 'internal', message: e instanceof Error ? e.message : String(e) };
    }
  }

  private async dispatch(raw: unknown): Promise<unknown> {
    const req = parseKeyRequest(raw);
    const store = await this.deps.store();
    switch (req.type) {
      case 'keys.state':
        return this.state();
      case 'keys.list': {
        const keys = await store.list();
        const st = await this.state();
        let problems: { id: string; message: string }[] = [];
        if (!st.locked) {
          await this.loadKeys().catch(() => undefined);
          problems = this.problems;
        }
        const managed = await this.managed();
        const view: KeyListView = { keys, problems, locked: st.locked, ...(managed ? { managed } : {}) };
        return view;
      }
      case 'keys.preview': {
        if (!(await this.deps.policy()).importAllowed) throw new UnsealError('usage', 'your organisation does not allow importing keys');
        const pv: ImportPreview = await store.preview(req.bytes, req.password, req.filename);
        return pv;
      }
      case 'keys.commit': {
        const policy = await this.deps.policy();
        if (!policy.importAllowed) throw new UnsealError('usage', 'your organisation does not allow importing keys');
        const st = await this.state();
        if (policy.passphraseRequired && st.mode !== 'passphrase') throw new UnsealError('usage', 'your organisation requires a passphrase: set one before importing keys');
        const r: ImportResult = await store.commit(req.token, req.ids, this.session);
        this.keys = undefined;
        void this.touch();
        for (const k of r.added) this.deps.audit?.({ event: 'key_imported', keyFingerprint: k.id });
        return r;
      }
      case 'keys.remove':
        await this.refuseManaged(req.id, store, 'deleted');
        await store.remove(req.id);
        this.keys = undefined;
        this.deps.audit?.({ event: 'key_deleted', keyFingerprint: req.id });
        return true;
      case 'keys.export': {
        if (!(await this.deps.policy()).exportAllowed) throw new UnsealError('usage', 'your organisation does not allow exporting keys');
        await this.refuseManaged(req.id, store, 'exported');
        if (req.password.length < 4) throw new UnsealError('usage', 'choose an export password of at least 4 characters');
        void this.touch();
        const exported = await store.exportKey(req.id, req.password, this.session);
        this.deps.audit?.({ event: 'key_exported', keyFingerprint: req.id });
        return exported;
      }
      case 'keys.unlock':
        this.lock();
        this.session = await store.unlock(req.passphrase);
        await this.touch();
        return this.state();
      case 'keys.lock':
        this.lock();
        return this.state();
      case 'keys.setPassphrase': {
        const next = await store.setPassphrase(req.next, req.current);
        this.lock();
        this.session = next;
        await this.touch();
        return this.state();
      }
    }
  }
}

export { KeysLockedError };
