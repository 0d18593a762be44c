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

  const keys = await deps.loadKeys();
  const enc = findEncryptedPart(root);
  progress('decrypting', enc?.entity.body.length ?? raw.length);
  let opened: OpenedMessage;
  let keySource: KeySource = 'unseal';
  let extraLayers: LayerSummary[] = [];
  const trustAnchors = anchorsFrom(keys);
  try {
    opened = await openMessage(deps.crypto, raw, { keys }, { trustAnchors });
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
  for (const l of opened.layers) if (l.type !== 'signed' && l.usedKeyId) deps.keyUsed?.(l.usedKeyId);

  const plaintextSha256 = await sha256(deps.crypto, opened.innermost);
  const first = opened.layers.find((l) => l.type !== 'signed');
  deps.audit({
    event: 'decrypted',
    ...ref(msg),
    // The key's public-key hash (KeyRecord.id); Thunderbird's own keys are not known to us.
    ...(first?.usedKeyId ? { keyFingerprint: first.usedKeyId } : {}),
    ...(first ? { algorithm: first.contentAlgorithm } : keySource === 'thunderbird' && extraLayers[0]?.algorithm ? { algorithm: extraLayers[0].algorithm } : {}),
    ciphertextSha256: await sha256(deps.crypto, raw),
    plaintextSha256,
    size: opened.innermost.length,
  });

  progress('scanning', opened.innermost.length);
  const verdict = await deps.scan(opened.innermost, { ...(msg.headerMessageId ? { messageId: msg.headerMessageId } : {}), ...(msg.folderPath ? { folder: msg.folderPath } : {}) }, {
    ...(opts.signal ? { signal: opts.signal } : {}),
  });
  return modelFor(opened, verdict, keySource, extraLayers);
}
