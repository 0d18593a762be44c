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
import { AUDIT_SENDER_MAX, type AuditEvent } from '../protocol/native.js';
import type { ScanVerdict } from '../protocol/scan.js';
import { blocked, modelFor, type KeySource, type OpenedForDisplay } from './render-model.js';
import { loadCertificates } from '../core/keys/load.js';
import type { RemoteKeyWithLabel } from './managed-keys.js';
import type { EffectivePolicy } from '../core/policy/index.js';
import { auditUnderPolicy, keyMaterial, layerAlgorithms, policyOrDefault, refusedByPolicy, scanWithinTimeLimit, tooLargeForPolicy, weakEncryptionWarnings, type ManagedKeySource } from './policy-gates.js';

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
  managedKeys?: ManagedKeySource;
  /** Clock for the retired-key rule (tests). */
  now?(): number;
}

export interface MessageRef {
  readonly id: number;
  readonly headerMessageId?: string;
  readonly folderPath?: string;
  /** The outer From, for the audit trail. */
  readonly author?: string;
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

function ref(msg: MessageRef): { messageId?: string; folder?: string; sender?: string } {
  return {
    ...(msg.headerMessageId ? { messageId: msg.headerMessageId } : {}),
    ...(msg.folderPath ? { folder: msg.folderPath } : {}),
    ...(msg.author ? { sender: msg.author.slice(0, AUDIT_SENDER_MAX) } : {}),
  };
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

  // The policy's decisions live in policy-gates.ts (shared with the re-scan): audit, keys, algorithms, size, time limit.
  const policy = await policyOrDefault(deps.policy);
  deps = { ...deps, audit: auditUnderPolicy(policy, deps.audit) };
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
  // Own keys (retired ones only with keys.retainRetiredKeys), then the organisation's (keys.managedSource 'host').
  const { material, managed } = await keyMaterial(policy, keys, deps.managedKeys, deps.now?.() ?? Date.now());
  try {
    opened = await openMessage(deps.crypto, raw, material, { trustAnchors });
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

  const algorithms = layerAlgorithms(opened, extraLayers);
  const refused = refusedByPolicy(policy, algorithms);
  if (refused) {
    deps.audit({ event: 'decrypt_failed', ...ref(msg), error: refused.kind });
    return blocked({ kind: 'error', errorKind: refused.kind, message: refused.message });
  }
  const policyWarnings = weakEncryptionWarnings(policy, algorithms);
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

  // Never clean: too large for the policy's limit is "not scanned", shown only in warn mode.
  const tooLarge = tooLargeForPolicy(policy, opened.innermost.length);
  if (tooLarge) return withKeyLabel(modelFor(opened, tooLarge, keySource, extraLayers, modelPolicy), opened, keys, managed);

  progress('scanning', opened.innermost.length);
  // The policy's time limit: abort the scan then, and call it a timeout (not a cancellation).
  const verdict: ScanVerdict = await scanWithinTimeLimit(policy, opts.signal, (signal) => deps.scan(opened.innermost, ref(msg), { signal }));
  return withKeyLabel(modelFor(opened, verdict, keySource, extraLayers, modelPolicy), opened, keys, managed);
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
