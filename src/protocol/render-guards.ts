/**
 * Guards for what arrives at the display script over the render port (src/protocol/render.ts).
 * The display side trusts nothing it did not check: every message is rebuilt from known fields
 * only (unknown fields are dropped), so what the renderer sees is exactly the typed model.
 * Runtime-neutral: no DOM, no `browser.*`.
 */
import type { Finding, UnscannedReason } from './scan.js';
import type {
  AttachmentSummary,
  BackgroundToDisplay,
  HeaderSummary,
  LayerSummary,
  ProgressStage,
  RenderBody,
  RenderModel,
  ShownContent,
  SignatureSummary,
} from './render.js';
import { GuardError, bool, int, isRecord, oneOf, optStr, record, str, strArray } from './validate.js';

const PROGRESS_STAGES: readonly ProgressStage[] = ['reading', 'decrypting', 'verifying', 'scanning'];
const UNSCANNED_REASONS: readonly (UnscannedReason | 'host_missing' | 'host_error')[] = [
  'unavailable',
  'timeout',
  'too_large',
  'engine_error',
  'misconfigured',
  'cancelled',
  'protocol_error',
  'not_scannable',
  'host_missing',
  'host_error',
];
const CERT_STATUS = ['valid', 'expired', 'not-yet-valid', 'untrusted', 'unknown-signer'] as const;
const LAYER_TYPES = ['enveloped', 'authEnveloped', 'encrypted', 'signed'] as const;

/** Short fields (headers, names, engine strings). Bodies are bounded by the port, not here. */
const SHORT = 16_384;
const LIST = 10_000;
/** HTML body parts of one message (MAX_LEAF_PARTS bounds what the core lists). */
const MAX_HTML_PARTS = 10_000;
const MAX_BYTES = Number.MAX_SAFE_INTEGER;

function array(o: Record<string, unknown>, key: string, max: number): unknown[] {
  const v = o[key];
  if (!Array.isArray(v)) throw new GuardError(`${key} must be an array`);
  if (v.length > max) throw new GuardError(`${key} has more than ${max} items`);
  return v;
}

function headers(u: unknown, where: string): HeaderSummary {
  if (!isRecord(u)) throw new GuardError(`${where} must be an object`);
  const out: { -readonly [K in keyof HeaderSummary]: HeaderSummary[K] } = {};
  for (const k of ['subject', 'from', 'to', 'cc', 'date'] as const) {
    const v = optStr(u, k, { max: SHORT });
    if (v !== undefined) out[k] = v;
  }
  return out;
}

function layer(u: unknown): LayerSummary {
  if (!isRecord(u)) throw new GuardError('layers[] must be objects');
  const algorithm = optStr(u, 'algorithm', { max: 200 });
  return { type: oneOf(u, 'type', LAYER_TYPES), ...(algorithm !== undefined ? { algorithm } : {}) };
}

function signature(u: unknown): SignatureSummary {
  if (!isRecord(u)) throw new GuardError('signatures[] must be objects');
  const out: { -readonly [K in keyof SignatureSummary]: SignatureSummary[K] } = {
    signatureValid: bool(u, 'signatureValid'),
    certificateStatus: oneOf(u, 'certificateStatus', CERT_STATUS),
    weakDigest: bool(u, 'weakDigest'),
  };
  for (const k of ['signer', 'email', 'signingTime', 'detail'] as const) {
    const v = optStr(u, k, { max: SHORT });
    if (v !== undefined) out[k] = v;
  }
  if (u['senderMismatch'] !== undefined) out.senderMismatch = bool(u, 'senderMismatch');
  return out;
}

function attachment(u: unknown): AttachmentSummary {
  if (!isRecord(u)) throw new GuardError('attachments[] must be objects');
  return {
    index: int(u, 'index', 0, LIST),
    filename: str(u, 'filename', { max: 1_000 }),
    contentType: str(u, 'contentType', { max: 1_000 }),
    size: int(u, 'size', 0, MAX_BYTES),
  };
}

function finding(u: unknown): Finding {
  if (!isRecord(u)) throw new GuardError('findings[] must be objects');
  return { part: str(u, 'part', { max: SHORT }), signature: str(u, 'signature', { max: SHORT }) };
}

function body(u: unknown): RenderBody {
  if (!isRecord(u)) throw new GuardError('body must be an object');
  const type = oneOf(u, 'type', ['text', 'html'] as const);
  if (type === 'text') return { type, text: str(u, 'text') };
  const parts = strArray(u, 'parts', MAX_HTML_PARTS, Number.MAX_SAFE_INTEGER);
  if (parts.length === 0) throw new GuardError('parts must not be empty');
  return { type, parts, text: str(u, 'text') };
}

export function parseRenderModel(u: unknown): RenderModel {
  if (!isRecord(u)) throw new GuardError('model must be an object');
  const kind = oneOf(u, 'kind', ['plain', 'clean', 'unscanned-allowed', 'infected', 'unscanned', 'no-key', 'locked', 'error'] as const);
  switch (kind) {
    case 'plain':
      return { kind };
    case 'clean': {
      const scan = record(u, 'scan');
      const signatures = optStr(scan, 'signatures', { max: SHORT });
      const saveCopy = u['saveCopy'] === undefined ? undefined : str(record(u, 'saveCopy'), 'folder', { min: 1, max: 1_000 });
      return {
        kind,
        ...shownContent(u),
        scan: { engine: str(scan, 'engine', { max: SHORT }), ...(signatures !== undefined ? { signatures } : {}) },
        ...(saveCopy !== undefined ? { saveCopy: { folder: saveCopy } } : {}),
      };
    }
    case 'unscanned-allowed': {
      const un = record(u, 'unscanned');
      return { kind, ...shownContent(u), unscanned: { reason: oneOf(un, 'reason', UNSCANNED_REASONS), message: str(un, 'message', { max: SHORT }) } };
    }
    case 'infected':
      return { kind, findings: array(u, 'findings', LIST).map(finding), engine: str(u, 'engine', { max: SHORT }) };
    case 'unscanned':
      return { kind, reason: oneOf(u, 'reason', UNSCANNED_REASONS), message: str(u, 'message', { max: SHORT }) };
    case 'locked':
      return { kind };
    case 'no-key':
      return { kind, recipients: strArray(u, 'recipients', 1_000, SHORT) };
    case 'error':
      return { kind, errorKind: str(u, 'errorKind', { max: 200 }), message: str(u, 'message', { max: SHORT }) };
  }
}

function shownContent(u: Record<string, unknown>): ShownContent {
  const keySource = oneOf(u, 'keySource', ['unseal', 'managed', 'thunderbird'] as const);
  return {
    headers: headers(u['headers'], 'headers'),
    ...(u['protectedHeaders'] !== undefined ? { protectedHeaders: headers(u['protectedHeaders'], 'protectedHeaders') } : {}),
    layers: array(u, 'layers', 64).map(layer),
    signatures: array(u, 'signatures', 64).map(signature),
    body: body(u['body']),
    attachments: array(u, 'attachments', LIST).map(attachment),
    unprotectedParts: int(u, 'unprotectedParts', 0, LIST),
    keySource,
    ...(u['keyLabel'] !== undefined ? { keyLabel: str(u, 'keyLabel', { max: SHORT }) } : {}),
    warnings: strArray(u, 'warnings', 256, SHORT),
  };
}

/** Bytes as a Uint8Array; also accepts an ArrayBuffer or another view (structured clone keeps the type, but be lenient). */
function bytes(o: Record<string, unknown>, key: string): Uint8Array {
  const v = o[key];
  const tag = Object.prototype.toString.call(v);
  if (tag === '[object Uint8Array]') return v as Uint8Array;
  if (tag === '[object ArrayBuffer]') return new Uint8Array(v as ArrayBuffer);
  if (ArrayBuffer.isView(v)) return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
  throw new GuardError(`${key} must be bytes`);
}

/** Validates one message from the background on the render port; throws GuardError naming the field. */
export function parseBackgroundToDisplay(u: unknown): BackgroundToDisplay {
  if (!isRecord(u)) throw new GuardError('message must be an object');
  const type = oneOf(u, 'type', ['progress', 'result', 'attachment-data', 'attachment-error'] as const);
  switch (type) {
    case 'progress': {
      const b = u['bytes'] === undefined ? undefined : int(u, 'bytes', 0, MAX_BYTES);
      return { type, stage: oneOf(u, 'stage', PROGRESS_STAGES), ...(b !== undefined ? { bytes: b } : {}) };
    }
    case 'result':
      return { type, model: parseRenderModel(u['model']) };
    case 'attachment-data':
      return {
        type,
        index: int(u, 'index', 0, LIST),
        filename: str(u, 'filename', { max: 1_000 }),
        contentType: str(u, 'contentType', { max: 1_000 }),
        data: bytes(u, 'data'),
      };
    case 'attachment-error':
      return { type, index: int(u, 'index', 0, LIST), message: str(u, 'message', { max: SHORT }) };
  }
}
