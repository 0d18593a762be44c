/**
 * The native-messaging protocol between the add-on and the Unseal host (`unseal_host`).
 * Runtime-neutral: the add-on's port client and the Node host both import these types and guards.
 * Documented for people in docs/native-host.md; keep the two in step.
 *
 * Envelope: every request is `{id, type, ...}`; `id` is the caller's correlation id and must be
 * unique among the caller's outstanding requests. Every response carries the same `id`
 * (`null` only when the request could not be read at all: a malformed or oversize frame).
 * Scans are addressed by a separate `scanId`, so each chunk gets its own correlation id and a
 * client can keep one pending-call map for everything.
 */
import type { EngineInfo, Finding, ScanVerdict, UnscannedReason } from './scan.js';
import {
  GuardError,
  bool,
  int,
  isRecord,
  oneOf,
  onlyKeys,
  optInt,
  optStr,
  record,
  str,
  strArray,
} from './validate.js';

export const PROTOCOL_VERSION = 1;
/** The native application name: the manifest file is `unseal_host.json`, the add-on calls `connectNative('unseal_host')`. */
export const NATIVE_HOST_NAME = 'unseal_host';
/** The add-on id the host manifest allows; the add-on's manifest.json uses exactly this id. */
export const ADDON_ID = 'unseal@unseal.example';
/** Gecko closes the port when a host → extension message is larger than this (NativeMessaging.sys.mjs MAX_READ). */
export const MAX_HOST_TO_EXTENSION_BYTES = 1024 * 1024;
/**
 * Raw bytes per `scan.chunk` the add-on should send. Inbound frames may be far larger, but base64
 * in JSON costs 4/3 and a modest chunk keeps the host's and the port's buffers small.
 */
export const RECOMMENDED_CHUNK_BYTES = 768 * 1024;

const ID_PATTERN = /^[A-Za-z0-9._:-]+$/;
const SHA256_HEX = /^[0-9a-f]{64}$/;
const ISO_TIME = /^\d{4}-\d{2}-\d{2}(?:T[0-9:.]+(?:Z|[+-]\d{2}:?\d{2})?)?$/;
/** One character outside the base64 alphabet (padding included); no quantifier, so no backtracking. */
const NOT_BASE64 = /[^A-Za-z0-9+/=]/;

/**
 * Padded standard base64: a multiple of 4 characters from the alphabet, with `=` only as the last
 * one or two. The same language as `/^[A-Za-z0-9+/]*={0,2}$/` plus the length check, but linear:
 * that regex took 9–18 ms per 1 MiB chunk (docs/benchmarks.md), this one pass ≈ 1 ms.
 */
export function isPaddedBase64(s: string): boolean {
  if (s.length % 4 !== 0 || NOT_BASE64.test(s)) return false;
  const eq = s.indexOf('=');
  return eq === -1 || (eq >= s.length - 2 && (eq === s.length - 1 || s.charCodeAt(s.length - 1) === 61));
}

/** Decoded length of text that passed isPaddedBase64. */
export function paddedBase64Length(s: string): number {
  const pad = s.length === 0 ? 0 : s.charCodeAt(s.length - 1) !== 61 ? 0 : s.charCodeAt(s.length - 2) === 61 ? 2 : 1;
  return (s.length / 4) * 3 - pad;
}

export interface ScanMeta {
  readonly messageId?: string;
  readonly folder?: string;
  /** The outer (unencrypted) Subject as listed by Thunderbird; never any decrypted content. */
  readonly subject?: string;
}

/**
 * `decrypted`/`decrypt_failed` (a policy refusal is a `decrypt_failed` with the refusal's error
 * kind), `verdict` (written by the host itself), and the key lifecycle: `key_imported`,
 * `key_deleted`, `key_exported` (keyFingerprint = the key's id, never key material).
 */
/** Longest `sender` the audit guard takes (RFC 5322's line limit); callers clip to it. */
export const AUDIT_SENDER_MAX = 998;

export type AuditEventType = 'decrypted' | 'decrypt_failed' | 'verdict' | 'key_imported' | 'key_deleted' | 'key_exported';
export const AUDIT_EVENT_TYPES: readonly AuditEventType[] = ['decrypted', 'decrypt_failed', 'verdict', 'key_imported', 'key_deleted', 'key_exported'];

/**
 * What the add-on may put in the audit log: facts about a message, never its content and never key
 * material. The guard rejects any other field, so adding one is a protocol change here.
 */
export interface AuditEvent {
  readonly event: AuditEventType;
  readonly messageId?: string;
  readonly folder?: string;
  /** The message's sender as Thunderbird lists it (the outer, unencrypted From). */
  readonly sender?: string;
  readonly scanId?: string;
  /** SHA-256 (hex) of the encrypted message as stored. */
  readonly ciphertextSha256?: string;
  /** SHA-256 (hex) of the decrypted MIME entity. */
  readonly plaintextSha256?: string;
  readonly size?: number;
  /** Which key decrypted it: certificate fingerprint (SHA-1 or SHA-256, hex), never the key. */
  readonly keyFingerprint?: string;
  /** Content-encryption algorithm name or OID, e.g. `aes256-CBC`. */
  readonly algorithm?: string;
  readonly verdict?: ScanVerdict['verdict'];
  readonly reason?: UnscannedReason;
  readonly signatures?: readonly string[];
  /** For `verdict`: the scanner engine and version, e.g. `ClamAV 1.4.3`. */
  readonly engine?: string;
  /** For `verdict`: the signature database version (clamd) or ISTag (ICAP) the verdict was made with. */
  readonly engineSignatures?: string;
  /** An error kind (`ErrorKind`), for `decrypt_failed`. */
  readonly error?: string;
  readonly addonVersion?: string;
}

/** One line of the host's audit log: an event plus when it was written and who sent it. */
export interface AuditLogRecord extends AuditEvent {
  /** ISO 8601 time the host wrote it. */
  readonly time: string;
  /** `addon` for events the add-on sent, `host` for verdicts the host itself produced. */
  readonly source: 'addon' | 'host';
}

/** `audit.read`: at most this many events per reply. */
export const AUDIT_READ_MAX_LIMIT = 1000;
/**
 * `audit.read`: the host stops adding events once the reply's JSON would pass this many bytes, well
 * below MAX_HOST_TO_EXTENSION_BYTES; `next` then points at the first event not sent.
 */
export const AUDIT_READ_MAX_REPLY_BYTES = 768 * 1024;

export const AUDIT_EVENT_FIELDS = [
  'event',
  'messageId',
  'folder',
  'sender',
  'scanId',
  'ciphertextSha256',
  'plaintextSha256',
  'size',
  'keyFingerprint',
  'algorithm',
  'verdict',
  'reason',
  'signatures',
  'engine',
  'engineSignatures',
  'error',
  'addonVersion',
] as const;

export type Request =
  | { readonly id: string; readonly type: 'hello'; readonly protocol: number; readonly client: string }
  | { readonly id: string; readonly type: 'health' }
  | {
      readonly id: string;
      readonly type: 'scan.begin';
      readonly scanId: string;
      readonly size: number;
      readonly sha256: string;
      readonly meta: ScanMeta;
    }
  | { readonly id: string; readonly type: 'scan.chunk'; readonly scanId: string; readonly seq: number; readonly data: string }
  | { readonly id: string; readonly type: 'scan.end'; readonly scanId: string }
  | { readonly id: string; readonly type: 'scan.cancel'; readonly scanId: string }
  | { readonly id: string; readonly type: 'audit'; readonly event: AuditEvent }
  /**
   * Optional (hosts before it answer `bad_request`): a page of the audit log, oldest first. `cursor`
   * is the `next` of the previous reply (a byte offset in the log); `since` (ISO 8601) leaves out
   * older events. Replies stay below AUDIT_READ_MAX_REPLY_BYTES.
   */
  | { readonly id: string; readonly type: 'audit.read'; readonly since?: string; readonly cursor?: number; readonly limit: number }
  /** Optional (older hosts answer `bad_request`): the organisation's keys the host holds, public parts only. */
  | { readonly id: string; readonly type: 'keys.list' }
  /**
   * Optional: recover the content-encryption key of one recipient with a managed key. The host
   * checks that the recipient names that key and returns the CEK only; the private key never
   * leaves the host.
   */
  | {
      readonly id: string;
      readonly type: 'keys.unwrap';
      readonly keyId: string;
      /** The RecipientInfo (KTRI or KARI) as encoded in the message, padded base64. */
      readonly recipientInfo: string;
      /** KARI: which RecipientEncryptedKey. */
      readonly rekIndex?: number;
      /** KTRI: content-encryption key lengths the content cipher takes (RSA v1.5 implicit rejection). */
      readonly cekLengths?: readonly number[];
    };

export type RequestType = Request['type'];
export const REQUEST_TYPES: readonly RequestType[] = ['hello', 'health', 'scan.begin', 'scan.chunk', 'scan.end', 'scan.cancel', 'audit', 'audit.read', 'keys.list', 'keys.unwrap'];

/** `keys.list`: at most this many keys, so the reply stays well below MAX_HOST_TO_EXTENSION_BYTES. */
export const MANAGED_KEYS_MAX = 50;
/** Base64 characters of one managed key's certificate (12 000 bytes of DER). */
export const MANAGED_CERT_MAX_B64 = 16_000;
/** Base64 characters of a `keys.unwrap` RecipientInfo (a KARI for many recipients stays far below). */
export const RECIPIENT_INFO_MAX_B64 = 64 * 1024;
const KEY_ID = /^[0-9a-f]{64}$/;

/** One organisation-managed key as the host describes it: public parts only. */
export interface ManagedKeyInfo {
  /** KeyRecord.id rules: SHA-256 (hex) of the key's SubjectPublicKeyInfo. */
  readonly id: string;
  /** The file's friendly name or the file name, for the keys page. */
  readonly label: string;
  /** The key's certificate, DER as padded base64: the add-on matches recipients and shows details from it. */
  readonly certificate: string;
}

/** Why the host could not unwrap: the same kinds a local unwrap throws (ErrorKind). */
export type UnwrapFailureKind = 'no_matching_recipient' | 'decryption_failed' | 'unsupported_algorithm' | 'malformed_cms';
export const UNWRAP_FAILURE_KINDS: readonly UnwrapFailureKind[] = ['no_matching_recipient', 'decryption_failed', 'unsupported_algorithm', 'malformed_cms'];

export type ProtocolErrorKind =
  | 'bad_frame' // not UTF-8 JSON
  | 'frame_too_large'
  | 'bad_request' // JSON, but not a valid request
  | 'unsupported_version'
  | 'unknown_scan'
  | 'duplicate_scan'
  | 'integrity' // size or sha256 of the assembled bytes differs from scan.begin
  | 'too_large'
  | 'busy'
  | 'timeout'
  | 'cancelled'
  | 'internal';

/** A request or response that failed validation; `id` is kept when it could be read, so the reply still correlates. */
export interface ProtocolError {
  readonly protocolError: true;
  readonly kind: ProtocolErrorKind;
  readonly message: string;
  readonly id: string | null;
}

export function isProtocolError(u: unknown): u is ProtocolError {
  return isRecord(u) && u['protocolError'] === true;
}

export interface CanaryStatus {
  /** `unchecked` until the first canary run; `failed` means the scanner missed a test virus. */
  readonly state: 'ok' | 'failed' | 'unchecked';
  readonly missed: readonly string[];
  readonly advice: readonly string[];
}

export type Response =
  | {
      readonly id: string;
      readonly type: 'hello';
      readonly host: string;
      readonly protocol: number;
      /** Scanner URL without credentials; null when none is configured (every scan is then unscanned). */
      readonly scanner: string | null;
      readonly engine?: EngineInfo;
      readonly canary: CanaryStatus;
    }
  | {
      readonly id: string;
      readonly type: 'health';
      /** True only if the scanner answered a ping and its engine info, and canaries did not fail. */
      readonly ok: boolean;
      readonly scanner: string | null;
      readonly reachable: boolean;
      readonly engine?: EngineInfo;
      readonly problem?: string;
      readonly canary: CanaryStatus;
    }
  | { readonly id: string; readonly type: 'ack'; readonly scanId?: string; readonly seq?: number; readonly received?: number }
  | { readonly id: string; readonly type: 'scan.result'; readonly scanId: string; readonly verdict: ScanVerdict }
  /** Reply to `audit.read`: `next` is the cursor for the following page, null at the end of the log. */
  | { readonly id: string; readonly type: 'audit.events'; readonly events: readonly AuditLogRecord[]; readonly next: number | null }
  /** Reply to `keys.list`; `problems` names files the host could not load (never a password). Empty when none are configured. */
  | { readonly id: string; readonly type: 'keys.managed'; readonly keys: readonly ManagedKeyInfo[]; readonly problems: readonly string[] }
  /** Reply to `keys.unwrap`: the content-encryption key, padded base64. */
  | { readonly id: string; readonly type: 'keys.cek'; readonly cek: string }
  | { readonly id: string; readonly type: 'keys.unwrap_failed'; readonly error: { readonly kind: UnwrapFailureKind; readonly message: string } }
  | {
      readonly id: string | null;
      readonly type: 'error';
      readonly scanId?: string;
      readonly error: { readonly kind: ProtocolErrorKind; readonly message: string };
    };

export type ResponseType = Response['type'];

function protocolError(kind: ProtocolErrorKind, message: string, id: string | null): ProtocolError {
  return { protocolError: true, kind, message, id };
}

function readId(o: Record<string, unknown>, key = 'id'): string {
  return str(o, key, { min: 1, max: 128, pattern: ID_PATTERN });
}

function guardMeta(u: unknown): ScanMeta {
  if (u === undefined) return {};
  if (!isRecord(u)) throw new GuardError('meta must be an object');
  onlyKeys(u, ['messageId', 'folder', 'subject'], 'meta');
  const meta: { messageId?: string; folder?: string; subject?: string } = {};
  const messageId = optStr(u, 'messageId', { max: 998 });
  const folder = optStr(u, 'folder', { max: 1024 });
  const subject = optStr(u, 'subject', { max: 998 });
  if (messageId !== undefined) meta.messageId = messageId;
  if (folder !== undefined) meta.folder = folder;
  if (subject !== undefined) meta.subject = subject;
  return meta;
}

const UNSCANNED_REASONS: readonly UnscannedReason[] = [
  'unavailable',
  'timeout',
  'too_large',
  'engine_error',
  'misconfigured',
  'cancelled',
  'protocol_error',
  'not_scannable',
];

/** Strings in an audit event that look like key or content material are refused outright. */
function assertNotSecretLike(key: string, v: string): void {
  if (/-----BEGIN|PRIVATE KEY/i.test(v)) throw new GuardError(`${key} looks like key material`);
  if (/^[A-Za-z0-9+/=\r\n]{200,}$/.test(v)) throw new GuardError(`${key} looks like encoded content`);
}

export function parseAuditEvent(u: unknown): AuditEvent | ProtocolError {
  try {
    return guardAuditEvent(u);
  } catch (e) {
    if (e instanceof GuardError) return protocolError('bad_request', `audit event: ${e.message}`, null);
    throw e;
  }
}

function guardAuditEvent(u: unknown): AuditEvent {
  if (!isRecord(u)) throw new GuardError('event must be an object');
  onlyKeys(u, AUDIT_EVENT_FIELDS, 'event');
  const ev: { -readonly [K in keyof AuditEvent]: AuditEvent[K] } = {
    event: oneOf(u, 'event', AUDIT_EVENT_TYPES),
  };
  const text = (k: 'messageId' | 'folder' | 'sender' | 'algorithm' | 'engine' | 'engineSignatures' | 'error' | 'addonVersion', max: number) => {
    const v = optStr(u, k, { max });
    if (v !== undefined) {
      assertNotSecretLike(k, v);
      ev[k] = v;
    }
  };
  text('messageId', 998);
  text('folder', 1024);
  text('sender', AUDIT_SENDER_MAX);
  text('algorithm', 64);
  text('engine', 128);
  text('engineSignatures', 128);
  text('error', 64);
  text('addonVersion', 32);
  const scanId = u['scanId'] === undefined ? undefined : readId(u, 'scanId');
  if (scanId !== undefined) ev.scanId = scanId;
  for (const k of ['ciphertextSha256', 'plaintextSha256'] as const) {
    const v = optStr(u, k, { pattern: SHA256_HEX });
    if (v !== undefined) ev[k] = v;
  }
  const fp = optStr(u, 'keyFingerprint', { pattern: /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/ });
  if (fp !== undefined) ev.keyFingerprint = fp;
  const size = optInt(u, 'size', 0, Number.MAX_SAFE_INTEGER);
  if (size !== undefined) ev.size = size;
  if (u['verdict'] !== undefined) ev.verdict = oneOf(u, 'verdict', ['clean', 'infected', 'unscanned'] as const);
  if (u['reason'] !== undefined) ev.reason = oneOf(u, 'reason', UNSCANNED_REASONS);
  if (u['signatures'] !== undefined) {
    const sigs = strArray(u, 'signatures', 100, 256);
    sigs.forEach((s) => assertNotSecretLike('signatures', s));
    ev.signatures = sigs;
  }
  return ev;
}

/** An audit log line as the host sends it back: the event guard plus `time` and `source`. */
export function guardAuditRecord(u: unknown): AuditLogRecord {
  if (!isRecord(u)) throw new GuardError('audit record must be an object');
  const { time, source, ...event } = u;
  const head = { time, source } as Record<string, unknown>;
  const t = str(head, 'time', { max: 40, pattern: ISO_TIME });
  const src = oneOf(head, 'source', ['addon', 'host'] as const);
  return { time: t, source: src, ...guardAuditEvent(event) };
}

function guardRequest(o: Record<string, unknown>, id: string): Request {
  const type = oneOf(o, 'type', REQUEST_TYPES);
  switch (type) {
    case 'hello':
      onlyKeys(o, ['id', 'type', 'protocol', 'client'], type);
      return { id, type, protocol: int(o, 'protocol', 0, 1_000_000), client: str(o, 'client', { max: 64 }) };
    case 'health':
      onlyKeys(o, ['id', 'type'], type);
      return { id, type };
    case 'scan.begin':
      onlyKeys(o, ['id', 'type', 'scanId', 'size', 'sha256', 'meta'], type);
      return {
        id,
        type,
        scanId: readId(o, 'scanId'),
        size: int(o, 'size', 0, Number.MAX_SAFE_INTEGER),
        sha256: str(o, 'sha256', { pattern: SHA256_HEX }),
        meta: guardMeta(o['meta']),
      };
    case 'scan.chunk': {
      onlyKeys(o, ['id', 'type', 'scanId', 'seq', 'data'], type);
      const data = str(o, 'data');
      if (!isPaddedBase64(data)) throw new GuardError('data must be padded standard base64');
      return { id, type, scanId: readId(o, 'scanId'), seq: int(o, 'seq', 0, 0xffffffff), data };
    }
    case 'scan.end':
    case 'scan.cancel':
      onlyKeys(o, ['id', 'type', 'scanId'], type);
      return { id, type, scanId: readId(o, 'scanId') };
    case 'audit':
      onlyKeys(o, ['id', 'type', 'event'], type);
      return { id, type, event: guardAuditEvent(o['event']) };
    case 'audit.read': {
      onlyKeys(o, ['id', 'type', 'since', 'cursor', 'limit'], type);
      const since = optStr(o, 'since', { max: 40, pattern: ISO_TIME });
      const cursor = optInt(o, 'cursor', 0, Number.MAX_SAFE_INTEGER);
      return { id, type, limit: int(o, 'limit', 1, AUDIT_READ_MAX_LIMIT), ...(since !== undefined ? { since } : {}), ...(cursor !== undefined ? { cursor } : {}) };
    }
    case 'keys.list':
      onlyKeys(o, ['id', 'type'], type);
      return { id, type };
    case 'keys.unwrap': {
      onlyKeys(o, ['id', 'type', 'keyId', 'recipientInfo', 'rekIndex', 'cekLengths'], type);
      const recipientInfo = str(o, 'recipientInfo', { min: 4, max: RECIPIENT_INFO_MAX_B64 });
      if (!isPaddedBase64(recipientInfo)) throw new GuardError('recipientInfo must be padded standard base64');
      const rekIndex = optInt(o, 'rekIndex', 0, 1023);
      let cekLengths: number[] | undefined;
      if (o['cekLengths'] !== undefined) {
        const v = o['cekLengths'];
        if (!Array.isArray(v) || v.length === 0 || v.length > 4) throw new GuardError('cekLengths must be an array of 1 to 4 lengths');
        cekLengths = v.map((x: unknown, i) => {
          if (typeof x !== 'number' || !Number.isInteger(x) || x < 1 || x > 64) throw new GuardError(`cekLengths[${i}] must be an integer between 1 and 64`);
          return x;
        });
      }
      if (rekIndex !== undefined && cekLengths !== undefined) throw new GuardError('rekIndex (key agreement) and cekLengths (key transport) exclude each other');
      return {
        id,
        type,
        keyId: str(o, 'keyId', { pattern: KEY_ID }),
        recipientInfo,
        ...(rekIndex !== undefined ? { rekIndex } : {}),
        ...(cekLengths !== undefined ? { cekLengths } : {}),
      };
    }
  }
}

export function parseRequest(u: unknown): Request | ProtocolError {
  if (!isRecord(u)) return protocolError('bad_request', 'a request must be a JSON object', null);
  let id: string;
  try {
    id = readId(u);
  } catch (e) {
    if (e instanceof GuardError) return protocolError('bad_request', `${e.message} (1–128 characters of A-Z a-z 0-9 . _ : -)`, null);
    throw e;
  }
  try {
    return guardRequest(u, id);
  } catch (e) {
    if (e instanceof GuardError) return protocolError('bad_request', e.message, id);
    throw e;
  }
}

function guardEngine(u: unknown): EngineInfo {
  if (!isRecord(u)) throw new GuardError('engine must be an object');
  onlyKeys(u, ['engine', 'signatures', 'scanner'], 'engine');
  const info: { engine: string; signatures?: string; scanner?: string } = { engine: str(u, 'engine', { max: 512 }) };
  const signatures = optStr(u, 'signatures', { max: 512 });
  const scanner = optStr(u, 'scanner', { max: 2048 });
  if (signatures !== undefined) info.signatures = signatures;
  if (scanner !== undefined) info.scanner = scanner;
  return info;
}

export function parseScanVerdict(u: unknown): ScanVerdict | ProtocolError {
  try {
    return guardVerdict(u);
  } catch (e) {
    if (e instanceof GuardError) return protocolError('bad_request', `verdict: ${e.message}`, null);
    throw e;
  }
}

function guardVerdict(u: unknown): ScanVerdict {
  if (!isRecord(u)) throw new GuardError('verdict must be an object');
  const verdict = oneOf(u, 'verdict', ['clean', 'infected', 'unscanned'] as const);
  switch (verdict) {
    case 'clean':
      onlyKeys(u, ['verdict', 'engine', 'scannedParts'], 'verdict');
      return { verdict, engine: guardEngine(u['engine']), scannedParts: int(u, 'scannedParts', 1, Number.MAX_SAFE_INTEGER) };
    case 'infected': {
      onlyKeys(u, ['verdict', 'engine', 'findings'], 'verdict');
      const raw = u['findings'];
      if (!Array.isArray(raw) || raw.length === 0) throw new GuardError('findings must be a non-empty array');
      const findings: Finding[] = raw.map((f) => {
        if (!isRecord(f)) throw new GuardError('each finding must be an object');
        onlyKeys(f, ['part', 'signature'], 'finding');
        return { part: str(f, 'part', { max: 4096 }), signature: str(f, 'signature', { max: 1024 }) };
      });
      return { verdict, engine: guardEngine(u['engine']), findings };
    }
    case 'unscanned': {
      onlyKeys(u, ['verdict', 'reason', 'message', 'engine'], 'verdict');
      const base = { verdict, reason: oneOf(u, 'reason', UNSCANNED_REASONS), message: str(u, 'message', { max: 4096 }) };
      return u['engine'] === undefined ? base : { ...base, engine: guardEngine(u['engine']) };
    }
  }
}

function guardCanary(u: unknown): CanaryStatus {
  if (!isRecord(u)) throw new GuardError('canary must be an object');
  onlyKeys(u, ['state', 'missed', 'advice'], 'canary');
  return {
    state: oneOf(u, 'state', ['ok', 'failed', 'unchecked'] as const),
    missed: strArray(u, 'missed', 100, 256),
    advice: strArray(u, 'advice', 100, 4096),
  };
}

const ERROR_KINDS: readonly ProtocolErrorKind[] = [
  'bad_frame',
  'frame_too_large',
  'bad_request',
  'unsupported_version',
  'unknown_scan',
  'duplicate_scan',
  'integrity',
  'too_large',
  'busy',
  'timeout',
  'cancelled',
  'internal',
];

function nullableScanner(o: Record<string, unknown>): string | null {
  return o['scanner'] === null ? null : str(o, 'scanner', { max: 2048 });
}

/** The add-on's guard for what the host sends; anything unexpected is a protocol error, never a verdict. */
export function parseResponse(u: unknown): Response | ProtocolError {
  if (!isRecord(u)) return protocolError('bad_request', 'a response must be a JSON object', null);
  let id: string | null = null;
  try {
    id = u['id'] === null ? null : readId(u);
    const type = oneOf(u, 'type', ['hello', 'health', 'ack', 'scan.result', 'audit.events', 'keys.managed', 'keys.cek', 'keys.unwrap_failed', 'error'] as const);
    if (type !== 'error' && id === null) throw new GuardError('id must be a string');
    const rid = id as string;
    switch (type) {
      case 'hello': {
        onlyKeys(u, ['id', 'type', 'host', 'protocol', 'scanner', 'engine', 'canary'], type);
        const r = {
          id: rid,
          type,
          host: str(u, 'host', { max: 64 }),
          protocol: int(u, 'protocol', 0, 1_000_000),
          scanner: nullableScanner(u),
          canary: guardCanary(u['canary']),
        };
        return u['engine'] === undefined ? r : { ...r, engine: guardEngine(u['engine']) };
      }
      case 'health': {
        onlyKeys(u, ['id', 'type', 'ok', 'scanner', 'reachable', 'engine', 'problem', 'canary'], type);
        const r: Extract<Response, { type: 'health' }> = {
          id: rid,
          type,
          ok: bool(u, 'ok'),
          scanner: nullableScanner(u),
          reachable: bool(u, 'reachable'),
          canary: guardCanary(u['canary']),
          ...(u['engine'] === undefined ? {} : { engine: guardEngine(u['engine']) }),
          ...(u['problem'] === undefined ? {} : { problem: str(u, 'problem', { max: 4096 }) }),
        };
        return r;
      }
      case 'ack': {
        onlyKeys(u, ['id', 'type', 'scanId', 'seq', 'received'], type);
        const scanId = u['scanId'] === undefined ? undefined : readId(u, 'scanId');
        const seq = optInt(u, 'seq', 0, 0xffffffff);
        const received = optInt(u, 'received', 0, Number.MAX_SAFE_INTEGER);
        return {
          id: rid,
          type,
          ...(scanId === undefined ? {} : { scanId }),
          ...(seq === undefined ? {} : { seq }),
          ...(received === undefined ? {} : { received }),
        };
      }
      case 'scan.result':
        onlyKeys(u, ['id', 'type', 'scanId', 'verdict'], type);
        return { id: rid, type, scanId: readId(u, 'scanId'), verdict: guardVerdict(u['verdict']) };
      case 'audit.events': {
        onlyKeys(u, ['id', 'type', 'events', 'next'], type);
        const raw = u['events'];
        if (!Array.isArray(raw) || raw.length > AUDIT_READ_MAX_LIMIT) throw new GuardError(`events must be an array of at most ${AUDIT_READ_MAX_LIMIT}`);
        const next = u['next'] === null ? null : int(u, 'next', 0, Number.MAX_SAFE_INTEGER);
        return { id: rid, type, events: raw.map(guardAuditRecord), next };
      }
      case 'keys.managed': {
        onlyKeys(u, ['id', 'type', 'keys', 'problems'], type);
        const raw = u['keys'];
        if (!Array.isArray(raw) || raw.length > MANAGED_KEYS_MAX) throw new GuardError(`keys must be an array of at most ${MANAGED_KEYS_MAX}`);
        const keys = raw.map((k): ManagedKeyInfo => {
          if (!isRecord(k)) throw new GuardError('each key must be an object');
          // Public parts only: a host that sends anything else (a private key) is refused whole.
          onlyKeys(k, ['id', 'label', 'certificate'], 'key');
          const certificate = str(k, 'certificate', { min: 4, max: MANAGED_CERT_MAX_B64 });
          if (!isPaddedBase64(certificate)) throw new GuardError('certificate must be padded standard base64');
          const label = str(k, 'label', { min: 1, max: 256 });
          assertNotSecretLike('label', label);
          return { id: str(k, 'id', { pattern: KEY_ID }), label, certificate };
        });
        return { id: rid, type, keys, problems: strArray(u, 'problems', 100, 1024) };
      }
      case 'keys.cek': {
        onlyKeys(u, ['id', 'type', 'cek'], type);
        const cek = str(u, 'cek', { min: 4, max: 88 });
        if (!isPaddedBase64(cek) || paddedBase64Length(cek) < 1 || paddedBase64Length(cek) > 64) throw new GuardError('cek must be 1 to 64 bytes of padded standard base64');
        return { id: rid, type, cek };
      }
      case 'keys.unwrap_failed': {
        onlyKeys(u, ['id', 'type', 'error'], type);
        const err = record(u, 'error');
        onlyKeys(err, ['kind', 'message'], 'error');
        return { id: rid, type, error: { kind: oneOf(err, 'kind', UNWRAP_FAILURE_KINDS), message: str(err, 'message', { max: 4096 }) } };
      }
      case 'error': {
        onlyKeys(u, ['id', 'type', 'scanId', 'error'], type);
        const err = record(u, 'error');
        onlyKeys(err, ['kind', 'message'], 'error');
        const scanId = u['scanId'] === undefined ? undefined : readId(u, 'scanId');
        return {
          id,
          type,
          ...(scanId === undefined ? {} : { scanId }),
          error: { kind: oneOf(err, 'kind', ERROR_KINDS), message: str(err, 'message', { max: 4096 }) },
        };
      }
    }
  } catch (e) {
    if (e instanceof GuardError) return protocolError('bad_request', e.message, id);
    throw e;
  }
}

export function errorResponse(id: string | null, kind: ProtocolErrorKind, message: string, scanId?: string): Response {
  return scanId === undefined ? { id, type: 'error', error: { kind, message } } : { id, type: 'error', scanId, error: { kind, message } };
}
