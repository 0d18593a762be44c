/**
 * The organisation's keys as the add-on sees them: certificates from the native host's
 * `keys.list`, turned into DecryptionMaterial.remote (the core matches recipients against them;
 * the host unwraps) and into the keys page's "managed by your organisation" list. The private
 * keys stay in the host; nothing here can export or delete them.
 */
import { base64Decode } from '../core/bytes.js';
import type { RemoteKey, RemoteKeySource, RemoteUnwrapRequest } from '../core/cms/decrypt.js';
import { usageOf } from '../core/keys/bundle.js';
import { parseCertificate } from '../core/keys/certificate.js';
import { identityOf, lifecycleOf, statusOf, type KeyStatus, type KeySummary, type Lifecycle } from '../core/keys/preview.js';
import type { CertInfo } from '../core/keys/types.js';
import type { ManagedKeyInfo } from '../protocol/native.js';

export interface ManagedKeyClient {
  managedKeys(): Promise<{ keys: readonly ManagedKeyInfo[]; problems: readonly string[] }>;
  unwrapManaged(req: RemoteUnwrapRequest): Promise<Uint8Array>;
}

/** One managed key for the keys page: like a stored key's view, without anything to act on. */
export interface ManagedKeyView {
  id: string;
  label: string;
  summary: KeySummary;
  status: KeyStatus;
  lifecycle: Lifecycle;
  usage: { encryption: boolean; signing: boolean };
  identity: string;
}

export interface ManagedKeyList {
  keys: ManagedKeyView[];
  /** Files the host could not load, certificates the add-on could not read. */
  problems: string[];
  /** Set when the host could not be asked at all. */
  unavailable?: string;
}

export interface RemoteKeyWithLabel extends RemoteKey {
  readonly label: string;
}

interface Loaded {
  readonly keys: readonly RemoteKeyWithLabel[];
  readonly problems: readonly string[];
}

/** How long a key list from the host is used before it is asked again. */
const LIST_TTL_MS = 10 * 60_000;

export function isRetired(cert: CertInfo, now: number): boolean {
  return lifecycleOf(statusOf({ notBefore: cert.notBefore.getTime(), notAfter: cert.notAfter.getTime() }, now), usageOf(cert)) === 'retired';
}

export class ManagedKeys {
  private loaded: { at: number; p: Promise<Loaded> } | undefined;

  constructor(
    private readonly client: ManagedKeyClient,
    private readonly now: () => number = () => Date.now(),
  ) {}

  /** For the pipeline: the host's keys as DecryptionMaterial.remote; `retired: false` leaves expired encryption keys out. */
  async source(opts: { retired: boolean }): Promise<RemoteKeySource & { keys: readonly RemoteKeyWithLabel[] }> {
    const { keys } = await this.load(false);
    const now = this.now();
    return {
      keys: opts.retired ? keys : keys.filter((k) => !isRetired(k.certificate, now)),
      unwrap: (req) => this.client.unwrapManaged(req),
    };
  }

  /** For the keys page (asks the host again, so a changed key directory shows up). */
  async list(): Promise<ManagedKeyList> {
    let l: Loaded;
    try {
      l = await this.load(true);
    } catch (e) {
      return { keys: [], problems: [], unavailable: e instanceof Error ? e.message : String(e) };
    }
    const now = this.now();
    return {
      problems: [...l.problems],
      keys: l.keys.map((k) => {
        const c = k.certificate;
        const summary: KeySummary = {
          subject: c.subject,
          emails: [...c.emails],
          issuer: c.issuer,
          serialHex: c.serialHex,
          notBefore: c.notBefore.getTime(),
          notAfter: c.notAfter.getTime(),
          keyUsage: [...(c.keyUsage ?? [])],
          extKeyUsage: [...(c.extKeyUsage ?? [])],
          algorithm: c.publicKeyAlgorithm === 'other' ? 'rsa' : c.publicKeyAlgorithm,
          ...(c.publicKeyBits !== undefined ? { bits: c.publicKeyBits } : {}),
          ...(c.curve !== undefined ? { curve: c.curve } : {}),
          certFingerprint: c.sha256Fingerprint,
        };
        const usage = usageOf(c);
        const status = statusOf(summary, now);
        return { id: k.id, label: k.label, summary, status, lifecycle: lifecycleOf(status, usage), usage, identity: identityOf(summary, k.id) };
      }),
    };
  }

  private load(fresh: boolean): Promise<Loaded> {
    const now = this.now();
    if (!fresh && this.loaded && now - this.loaded.at < LIST_TTL_MS) return this.loaded.p;
    const p = this.client.managedKeys().then((r) => {
      const keys: RemoteKeyWithLabel[] = [];
      const problems = [...r.problems];
      for (const k of r.keys) {
        try {
          keys.push({ id: k.id, label: k.label, certificate: parseCertificate(base64Decode(k.certificate)) });
        } catch (e) {
          problems.push(`${k.label}: the host sent an unreadable certificate (${e instanceof Error ? e.message : String(e)})`);
        }
      }
      return { keys, problems };
    });
    const entry = { at: now, p };
    this.loaded = entry;
    // A failed ask is not cached: the next message asks again.
    p.catch(() => {
      if (this.loaded === entry) this.loaded = undefined;
    });
    return p;
  }
}
