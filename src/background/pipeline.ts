/**
 * The path of one S/MIME message from the raw original to a render model:
 * read → decrypt (Unseal's keys; else Thunderbird's, through getRaw decrypt:true) → verify →
 * scan the whole decrypted entity through the native host → model. Every dependency is passed in,
 * so the same function runs in the background and in Node tests.
 */
import { hexEncode } from '../core/bytes.js';
import { isUnsealError, UnsealError } from '../core/errors.js';
import type { KeyRecord } from '../core/keys/types.js';
import { parseMime } from '../core/mime/entity.js';
import { findEncryptedPart, findSmimeParts } from '../core/mime/smime-detect.js';
import { inspect } from '../core/unwrap/inspect.js';
import { openMessage, type OpenedMessage } from '../core/unwrap/open.js';
import type { LayerSummary, ProgressStage } from '../protocol/render.js';
import type { AuditEvent } from '../protocol/native.js';
import type { ScanVerdict } from '../protocol/scan.js';
import { blocked, modelFor, type KeySource, type OpenedForDisplay } from './render-model.js';
import { loadCertificates } from '../core/keys/load.js';
import type { RemoteKeySource } from '../core/cms/decrypt.js';
import { isRetired, type RemoteKeyWithLabel } from './managed-keys.js';
import { DEFAULT_POLICY, algorithmToken, type EffectivePolicy, type PolicyAlgorithm } from '../core/policy/index.js';

export type AuditSink = (event: AuditEvent) => void;

export interface PipelineDeps {
  readonly crypto: SubtleCrypto;
  loadKeys(): Promise<readonly KeyRecord[]>;
  rawMessage(id: number): Promise<Uint8Array>;
  /** Thunderbird's own decryption (keys in its NSS store), or undefined when it has none. */
  thunderbirdDecrypted(id: number): Promise<Uint8Array | undefined>;
  scan(plaintext: Uint8Array, meta: { messageId?: string; folder?: string }, opts: { signal?: AbortSignal; onProgress?: (sent: number, total: number) => void }): Promise<ScanVerdict>;
  audit: AuditSink;
  /** Called when a stored key opened a message (last-used bookkeeping). */
  keyUsed?(id: string): void;
  /** The effective admin/user policy (src/platform/policy.ts); the safe defaults when absent. */
  policy?(): Promise<EffectivePolicy>;
  /**
   * The organisation's keys held by the native host (background ManagedKeys), asked only when the
   * policy's keys.managedSource is 'host'; `retired: false` leaves expired encryption keys out.
   */
  managedKeys?(opts: { retired: boolean }): Promise<RemoteKeySource & { readonly keys: readonly RemoteKeyWithLabel[] }>;
  /** Clock for the retired-key rule (tests). */
  now?(): number;
}

export interface MessageRef {
  readonly id: number;
  readonly headerMessageId?: string;
  readonly folderPath?: string;
}

export interface PipelineOptions {
  readonly signal?: AbortSignal;
  onProgress?(stage: ProgressStage, bytes?: number): void;
}

/** Trust anchors: the self-signed CA certificates that came with the user's own keys. */
function anchorsFrom(keys: readonly KeyRecord[]): Uint8Array[] {
  const seen = new Set<string>();
  const out: Uint8Array[] = [];
  for (const k of keys) {
    for (const c of k.chain) {
      if (c.isCa && c.subject === c.issuer && !seen.has(c.sha256Fingerprint)) {
        seen.add(c.sha256Fingerprint);
        out.push(c.der);
      }
    }
  }
  return out;
}

function recipientsOf(raw: Uint8Array): string[] {
  try {
    const objects = inspect(raw).objects;
    return objects.flatMap((o) => (o.recipients ?? []).map((r) => `${r.type} ${r.id}`));
  } catch {
    return [];
  }
}

/** Thunderbird's answer counts only if it actually removed the encryption. */
function stillEncrypted(bytes: Uint8Array): boolean {
  try {
    return findEncryptedPart(parseMime(bytes)) !== undefined;
  } catch {
    return true;
  }
}

async function sha256(crypto: SubtleCrypto, b: Uint8Array): Promise<string> {
  return hexEncode(new Uint8Array(await crypto.digest('SHA-256', b as Uint8Array<ArrayBuffer>)));
}

/** Admin trust anchors (PEM strings from the policy) as DER, parsed once per distinct string. */
const anchorCache = new Map<string, Promise<Uint8Array[]>>();
async function policyAnchors(pems: readonly string[]): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  for (const pem of pems) {
    let p = anchorCache.get(pem);
    if (!p) {
      // An unreadable anchor is skipped (the policy validator already checked the PEM armour).
      p = loadCertificates(new TextEncoder().encode(pem)).then((cs) => cs.map((c) => c.der), () => []);
      anchorCache.set(pem, p);
    }
    out.push(...(await p));
  }
  return out;
}

/** The content-encryption algorithms of every encryption layer, as policy tokens. */
function algorithmsOf(opened: OpenedMessage, extra: readonly LayerSummary[]): PolicyAlgorithm[] {
  const names = [...extra.map((l) => l.algorithm), ...opened.layers.map((l) => (l.type === 'signed' ? undefined : l.contentAlgorithm))];
  return names.map((n) => (n ? algorithmToken(n) : undefined)).filter((t): t is PolicyAlgorithm => t !== undefined);
}

function ref(msg: MessageRef): { messageId?: string; folder?: string } {
  return { ...(msg.headerMessageId ? { messageId: msg.headerMessageId } : {}), ...(msg.folderPath ? { folder: msg.folderPath } : {}) };
}

export async function openForDisplay(msg: MessageRef, deps: PipelineDeps, opts: PipelineOptions = {}): Promise<OpenedForDisplay> {
  const progress = opts.onProgress ?? (() => undefined);
  progress('reading');
  const raw = await deps.rawMessage(msg.id);
  let root;
  try {
    root = parseMime(raw);
  } catch (e) {
    return blocked({ kind: 'error', errorKind: isUnsealError(e) ? e.kind : 'internal', message: e instanceof Error ? e.message : String(e) });
  }
  if (findSmimeParts(root).every((p) => p.kind === 'multipart-signed')) return blocked({ kind: 'plain' });

  const policy = deps.policy ? await deps.policy().catch(() => DEFAULT_POLICY) : DEFAULT_POLICY;
  // audit.enabled: false ⇒ no audit events from this message (destination/path are the host's configuration).
  if (!policy.audit.enabled) deps = { ...deps, audit: () => undefined };
  let keys: readonly KeyRecord[];
  try {
    keys = await deps.loadKeys();
  } catch (e) {
    // Passphrase protection, not unlocked: say so (the banner offers to open the keys page).
    if ((e as { locked?: unknown })?.locked === true) return blocked({ kind: 'locked' });
    throw e;
  }
  const enc = findEncryptedPart(root);
  progress('decrypting', enc?.entity.body.length ?? raw.length);
  let opened: OpenedMessage;
  let keySource: KeySource = 'unseal';
  let extraLayers: LayerSummary[] = [];
  const trustAnchors = [...anchorsFrom(keys), ...(await policyAnchors(policy.signatures.trustAnchors))];
  // keys.retainRetiredKeys: false ⇒ expired encryption keys are kept in the store but never decrypt.
  const now = deps.now?.() ?? Date.now();
  const usable = policy.keys.retainRetiredKeys ? keys : keys.filter((k) => !k.certificate || !isRetired(k.certificate, now));
  // The host being down only costs the organisation's keys; the user's own still work.
  const remote =
    policy.keys.managedSource === 'host' && deps.managedKeys ? await deps.managedKeys({ retired: policy.keys.retainRetiredKeys }).catch(() => undefined) : undefined;
  try {
    opened = await openMessage(deps.crypto, raw, { keys: usable, ...(remote && remote.keys.length > 0 ? { remote } : {}) }, { trustAnchors });
  } catch (e) {
    if (!(e instanceof UnsealError) || e.kind !== 'no_matching_recipient') {
      const err = isUnsealError(e) ? e : new UnsealError('internal', e instanceof Error ? e.message : String(e));
      deps.audit({ event: 'decrypt_failed', ...ref(msg), error: err.kind });
      return blocked({ kind: 'error', errorKind: err.kind, message: err.message });
    }
    const tb = await deps.thunderbirdDecrypted(msg.id).catch(() => undefined);
    if (!tb || stillEncrypted(tb)) {
      deps.audit({ event: 'decrypt_failed', ...ref(msg), error: 'no_matching_recipient' });
      return blocked({ kind: 'no-key', recipients: recipientsOf(raw) });
    }
    keySource = 'thunderbird';
    const inspected = inspect(raw).objects.find((o) => o.contentAlgorithm);
    extraLayers = [{ type: inspected?.cmsType === 'authEnveloped' ? 'authEnveloped' : 'enveloped', ...(inspected?.contentAlgorithm ? { algorithm: inspected.contentAlgorithm } : {}) }];
    try {
      opened = await openMessage(deps.crypto, tb, { keys }, { trustAnchors });
    } catch (e2) {
      const err = isUnsealError(e2) ? e2 : new UnsealError('internal', String(e2));
      return blocked({ kind: 'error', errorKind: err.kind, message: err.message });
    }
  }
  for (const l of opened.layers) if (l.type !== 'signed' && l.usedKeyId && !l.usedRemoteKey) deps.keyUsed?.(l.usedKeyId);
  if (opened.layers.some((l) => l.type !== 'signed' && l.usedRemoteKey)) keySource = 'managed';

  const algorithms = algorithmsOf(opened, extraLayers);
  const forbidden = algorithms.filter((a) => policy.algorithms.forbidden.includes(a));
  if (forbidden.length > 0) {
    deps.audit({ event: 'decrypt_failed', ...ref(msg), error: 'blocked_by_policy' });
    return blocked({ kind: 'error', errorKind: 'blocked_by_policy', message: `This message is encrypted with ${forbidden.join(', ')}, which your administrator's policy does not allow.` });
  }
  const weak = algorithms.filter((a) => policy.algorithms.warn.includes(a));
  const policyWarnings = weak.length > 0 ? [`Weak encryption: this message is encrypted with ${[...new Set(weak)].join(', ')}.`] : [];
  const modelPolicy = {
    allowUnscanned: !policy.scanner.required,
    sha1: policy.signatures.sha1,
    warnings: policyWarnings,
    ...(policy.decryptedCopies.mode === 'folder' ? { saveCopyFolder: policy.decryptedCopies.folder } : {}),
  };

  const plaintextSha256 = await sha256(deps.crypto, opened.innermost);
  const first = opened.layers.find((l) => l.type !== 'signed');
  deps.audit({
    event: 'decrypted',
    ...ref(msg),
    // The key's public-key hash (KeyRecord.id, also for the organisation's keys); Thunderbird's own keys are not known to us.
    ...(first?.usedKeyId ? { keyFingerprint: first.usedKeyId } : {}),
    ...(first ? { algorithm: first.contentAlgorithm } : keySource === 'thunderbird' && extraLayers[0]?.algorithm ? { algorithm: extraLayers[0].algorithm } : {}),
    ciphertextSha256: await sha256(deps.crypto, raw),
    plaintextSha256,
    size: opened.innermost.length,
  });

  const maxBytes = policy.message.maxSizeMB * 1024 * 1024;
  if (opened.innermost.length > maxBytes) {
    // Never clean: too large for the policy's limit is "not scanned", shown only in warn mode.
    const verdict: ScanVerdict = { verdict: 'unscanned', reason: 'too_large', message: `the decrypted message (${opened.innermost.length} bytes) is larger than the policy's limit of ${policy.message.maxSizeMB} MB` };
    return withKeyLabel(modelFor(opened, verdict, keySource, extraLayers, modelPolicy), opened, keys, remote?.keys);
  }

  progress('scanning', opened.innermost.length);
  // The policy's time limit: abort the scan then, and call it a timeout (not a cancellation).
  const limit = new AbortController();
  const onAbort = () => limit.abort();
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    limit.abort();
  }, policy.scan.timeLimitSeconds * 1000);
  let verdict: ScanVerdict;
  try {
    verdict = await deps.scan(opened.innermost, { ...(msg.headerMessageId ? { messageId: msg.headerMessageId } : {}), ...(msg.folderPath ? { folder: msg.folderPath } : {}) }, { signal: limit.signal });
  } finally {
    clearTimeout(timer);
    opts.signal?.removeEventListener('abort', onAbort);
  }
  if (timedOut && verdict.verdict === 'unscanned' && !opts.signal?.aborted) {
    verdict = { verdict: 'unscanned', reason: 'timeout', message: `the scan took longer than the policy's limit of ${policy.scan.timeLimitSeconds} s` };
  }
  return withKeyLabel(modelFor(opened, verdict, keySource, extraLayers, modelPolicy), opened, keys, remote?.keys);
}

/** The security line names the stored key that opened the message (its label in the key list). */
function withKeyLabel(r: OpenedForDisplay, opened: OpenedMessage, keys: readonly KeyRecord[], managed: readonly RemoteKeyWithLabel[] = []): OpenedForDisplay {
  const used = opened.layers.find((l) => l.type !== 'signed' && l.usedKeyId);
  const id = used && used.type !== 'signed' ? used.usedKeyId : undefined;
  const remote = used && used.type !== 'signed' && used.usedRemoteKey;
  const label = id ? (remote ? managed.find((k) => k.id === id)?.label : keys.find((k) => k.id === id)?.friendlyName) : undefined;
  if (!label || (r.model.kind !== 'clean' && r.model.kind !== 'unscanned-allowed')) return r;
  return { ...r, model: { ...r.model, keyLabel: label } };
}
