/**
 * From an opened message and a scan verdict to what the display script may show. Pure. Content
 * (text, HTML, attachment names) goes into a model only when the verdict is clean.
 */
import { decodeBody } from '../core/mime/entity.js';
import type { OpenedMessage } from '../core/unwrap/open.js';
import type { Layer } from '../core/unwrap/layers.js';
import type { AttachmentSummary, HeaderSummary, LayerSummary, RenderModel, ShownContent, SignatureSummary } from '../protocol/render.js';
import type { ScanVerdict } from '../protocol/scan.js';

/** unseal: the user's own key; managed: the organisation's key held by the native host; thunderbird: Thunderbird's own decryption. */
export type KeySource = 'unseal' | 'managed' | 'thunderbird';

export interface OpenedForDisplay {
  readonly model: RenderModel;
  /** Plaintext held for this result (attachments are decoded from it on request): what a cache counts. */
  readonly bytes: number;
  /** Decoded bytes of a clean message's attachment; undefined for any other verdict. */
  attachment(index: number): { filename: string; contentType: string; data: Uint8Array } | undefined;
  /** The decrypted entity, for a clean message only (what "Save decrypted copy" stores). */
  readonly plaintext?: Uint8Array;
}

/** What the effective policy changes in a model (src/core/policy; the pipeline passes it in). */
export interface ModelPolicy {
  /** Warn mode (`scanner.required: false`): an unscanned message is shown with a warning. */
  readonly allowUnscanned?: boolean;
  /** `decryptedCopies.mode: folder`: offer saving a decrypted copy into this folder. */
  readonly saveCopyFolder?: string;
  /** Extra warnings for a shown message (e.g. weak encryption named by the policy). */
  readonly warnings?: readonly string[];
  /** `signatures.sha1`: accept (no weak mark), warn (default), reject (signature counts as invalid). */
  readonly sha1?: 'accept' | 'warn' | 'reject';
}

function applySha1(sigs: SignatureSummary[], mode: ModelPolicy['sha1']): SignatureSummary[] {
  if (mode === 'accept') return sigs.map((s) => ({ ...s, weakDigest: false }));
  if (mode === 'reject') {
    return sigs.map((s) => (s.weakDigest ? { ...s, signatureValid: false, detail: 'SHA-1 (or MD5) signatures are not accepted by your administrator\'s policy' } : s));
  }
  return sigs;
}

function headers(h: OpenedMessage['outerHeaders']): HeaderSummary {
  if (!h) return {};
  const out: { -readonly [K in keyof HeaderSummary]: HeaderSummary[K] } = {};
  if (h.subject !== undefined) out.subject = h.subject;
  if (h.from !== undefined) out.from = h.from;
  if (h.to !== undefined) out.to = h.to;
  if (h.date !== undefined) out.date = h.date;
  return out;
}

export function layerSummaries(layers: readonly Layer[]): LayerSummary[] {
  return layers.map((l) => (l.type === 'signed' ? { type: 'signed' } : { type: l.type, algorithm: l.contentAlgorithm }));
}

export function signatureSummaries(layers: readonly Layer[]): SignatureSummary[] {
  const out: SignatureSummary[] = [];
  for (const l of layers) {
    if (l.type !== 'signed') continue;
    for (const s of l.signers) {
      out.push({
        signatureValid: s.signatureValid,
        certificateStatus: s.certificateStatus,
        weakDigest: s.weakDigest,
        ...(s.subject ? { signer: s.subject } : {}),
        ...(s.email ? { email: s.email } : {}),
        ...(s.signingTime ? { signingTime: s.signingTime } : {}),
        ...(s.error ? { detail: s.error } : s.certificateDetail ? { detail: s.certificateDetail } : {}),
        ...(s.senderMatches === false ? { senderMismatch: true } : {}),
      });
    }
  }
  return out;
}

const blocked = (model: RenderModel): OpenedForDisplay => ({ model, bytes: 0, attachment: () => undefined });

export function modelFor(opened: OpenedMessage, verdict: ScanVerdict, keySource: KeySource, extraLayers: readonly LayerSummary[] = [], policy: ModelPolicy = {}): OpenedForDisplay {
  if (verdict.verdict === 'infected') {
    return blocked({ kind: 'infected', findings: verdict.findings, engine: verdict.engine.engine });
  }
  if (verdict.verdict === 'unscanned' && !policy.allowUnscanned) {
    return blocked({ kind: 'unscanned', reason: verdict.reason, message: verdict.message });
  }
  const m = opened.message;
  const attachments: AttachmentSummary[] = m.attachments.map((a, index) => ({
    index,
    filename: a.filename ?? `attachment-${index + 1}`,
    contentType: a.contentType,
    size: a.size,
  }));
  const warnings = [...m.charsetWarnings, ...(policy.warnings ?? [])];
  const content: ShownContent = {
    headers: headers(opened.outerHeaders),
    ...(opened.protectedHeaders ? { protectedHeaders: headers(opened.protectedHeaders) } : {}),
    layers: [...extraLayers, ...layerSummaries(opened.layers)],
    signatures: applySha1(signatureSummaries(opened.layers), policy.sha1),
    body: m.htmlParts !== undefined ? { type: 'html', parts: m.htmlParts, text: m.text } : { type: 'text', text: m.text },
    attachments,
    unprotectedParts: opened.unprotectedSiblings,
    keySource,
    warnings,
  };
  const model: RenderModel =
    verdict.verdict === 'unscanned'
      ? { kind: 'unscanned-allowed', ...content, unscanned: { reason: verdict.reason, message: verdict.message } }
      : {
          kind: 'clean',
          ...content,
          scan: { engine: verdict.engine.engine, ...(verdict.engine.signatures ? { signatures: verdict.engine.signatures } : {}) },
          ...(policy.saveCopyFolder !== undefined ? { saveCopy: { folder: policy.saveCopyFolder } } : {}),
        };
  return {
    model,
    ...(model.kind === 'clean' ? { plaintext: opened.innermost } : {}),
    bytes: opened.innermost.length,
    attachment(index) {
      const a = m.attachments[index];
      const s = attachments[index];
      if (!a || !s) return undefined;
      return { filename: s.filename, contentType: s.contentType, data: decodeBody(a.entity) };
    },
  };
}

export { blocked };
