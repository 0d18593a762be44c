/**
 * Re-scan of stored encrypted mail (draft-kadobayashi-smime-secureops: "monitor confidential mail
 * immediately and intermittently"): decrypt every message with the stored keys, scan the plaintext
 * again (the caller's scan function: the host's whole-entity + parts scan), and skip messages whose
 * plaintext (SHA-256) was already scanned by the same signature version (EngineInfo.signatures:
 * clamd's database version, an ICAP ISTag). Pure: the CLI and the add-on pass in crypto, keys,
 * scanner and where the messages come from.
 *
 * Results carry ids, hashes, verdicts and finding names only, never plaintext. The state object
 * is plain JSON: the caller persists it (CLI state file, add-on storage.local) after each message,
 * and a later call with the same state continues an interrupted run and skips what it has seen.
 */
import { sha256Hex } from '../bytes.js';
import type { DecryptionMaterial } from '../cms/decrypt.js';
import { isUnsealError } from '../errors.js';
import { parseMime } from '../mime/entity.js';
import { findEncryptedPart } from '../mime/smime-detect.js';
import { openMessage, type OpenedMessage } from '../unwrap/open.js';
import type { UnwrapOptions } from '../unwrap/layers.js';

/** Structurally the protocol's EngineInfo (the core does not import the protocol). */
export interface RescanEngine {
  readonly engine: string;
  readonly signatures?: string;
}

/** Structurally the protocol's ScanVerdict; every ScanVerdict is one of these. */
export interface RescanVerdict {
  readonly verdict: 'clean' | 'infected' | 'unscanned';
  readonly engine?: RescanEngine;
  readonly findings?: readonly { readonly part: string; readonly signature: string }[];
  readonly reason?: string;
  readonly message?: string;
}

export interface RescanMeta {
  /** RFC 5322 Message-ID (transport header as listed; never decrypted content). */
  readonly messageId?: string;
  readonly folder?: string;
  /** The outer From as the mail store lists it, for the audit trail. */
  readonly sender?: string;
}

export interface RescanItem {
  /** Stable across runs (a file path, `folder|Message-ID|date|size`): what resuming matches on. */
  readonly id: string;
  readonly meta?: RescanMeta;
  /** The message as stored, still encrypted. Called once, only when the item is processed. */
  raw(): Promise<Uint8Array> | Uint8Array;
}

export type RescanStatus = 'clean' | 'infected' | 'unscanned' | 'could_not_decrypt' | 'skipped' | 'not_encrypted';

export interface RescanResult {
  readonly id: string;
  readonly messageId?: string;
  readonly folder?: string;
  readonly status: RescanStatus;
  /** For `skipped`: what the earlier scan with the same signatures said. */
  readonly previousVerdict?: 'clean' | 'infected';
  readonly plaintextSha256?: string;
  /** `engine/signatures` that produced (or, for skipped, had produced) the verdict. */
  readonly signatures?: string;
  readonly findings?: readonly { readonly part: string; readonly signature: string }[];
  /** Unscanned reason, or the error kind for `could_not_decrypt`. */
  readonly reason?: string;
  /** A short explanation (scanner or decryption error text; never content). */
  readonly detail?: string;
}

export interface RescanSummary {
  /** Messages whose plaintext went to the scanner in this run. */
  scanned: number;
  clean: number;
  infected: number;
  unscanned: number;
  couldNotDecrypt: number;
  /** Same plaintext already scanned with the same signatures: not sent again. */
  skipped: number;
  /** Of the skipped, how many had been infected (they are still in the mailbox). */
  skippedInfected: number;
  /** No encryption layer: the server's scanner saw these; not re-scanned here. */
  notEncrypted: number;
  /** Every message looked at. */
  total: number;
}

export interface SeenEntry {
  /** `engine/signatures` of the scan. */
  readonly signatures: string;
  readonly verdict: 'clean' | 'infected';
  readonly findings?: readonly { readonly part: string; readonly signature: string }[];
  /** Epoch ms. */
  readonly at: number;
}

/** Persistable state: JSON in, JSON out. */
export interface RescanState {
  readonly version: 1;
  /** Plaintext SHA-256 → the last definite verdict for it. Unscanned results are never remembered. */
  seen: Record<string, SeenEntry>;
  /** The run in progress; absent when the last run completed. */
  run?: RescanRun;
}

export interface RescanRun {
  readonly startedAt: number;
  /** Item ids already processed in this run (resuming does not process or count them again). */
  done: string[];
  summary: RescanSummary;
  results: RescanResult[];
}

/** Why a message was refused or left unscanned by the caller's policy (no content). */
export interface RescanGateResult {
  readonly reason: string;
  readonly detail: string;
}

/**
 * The caller's policy checks (the add-on's admin policy; the CLI has none). Both see the opened
 * message only inside this function; nothing of it is kept.
 */
export interface RescanGates {
  /**
   * Right after decryption: a refusal (e.g. a forbidden content-encryption algorithm) is
   * `could_not_decrypt` with its reason, audited as `decrypt_failed` (never as `decrypted`),
   * not hashed into the seen store and never scanned.
   */
  refuse?(opened: OpenedMessage): RescanGateResult | undefined;
  /**
   * After the `decrypted` audit event: a plaintext this answers for (e.g. over a size limit) is
   * `unscanned` with its reason without being sent to the scanner (not counted as `scanned`).
   */
  unscannable?(plaintext: Uint8Array): RescanGateResult | undefined;
}

export interface RescanDeps {
  readonly crypto: SubtleCrypto;
  /** Keys (and other material); loaded once per run. */
  readonly material: DecryptionMaterial | (() => Promise<DecryptionMaterial>);
  readonly unwrap?: UnwrapOptions;
  /** The scanner's current engine and signature version, asked once per run. Undefined: learn it from the first verdict. */
  engine?(signal?: AbortSignal): Promise<RescanEngine | undefined>;
  /** Scans decrypted plaintext (whole entity + parts). Must not throw for scanner trouble. */
  scan(plaintext: Uint8Array, meta: RescanMeta, signal?: AbortSignal): Promise<RescanVerdict>;
  /** Audit facts (no content): one per decryption attempt. The scanner side records verdicts. */
  audit?(event: RescanAuditEvent): void;
  /** Policy checks between decryption and scan. */
  readonly gates?: RescanGates;
}

export type RescanAuditEvent =
  | {
      readonly event: 'decrypted';
      readonly messageId?: string;
      readonly folder?: string;
      readonly sender?: string;
      readonly keyFingerprint?: string;
      readonly algorithm?: string;
      readonly ciphertextSha256: string;
      readonly plaintextSha256: string;
      readonly size: number;
    }
  | { readonly event: 'decrypt_failed'; readonly messageId?: string; readonly folder?: string; readonly sender?: string; readonly error: string };

export interface RescanProgress {
  /** Processed in this run so far (resumed items included). */
  readonly done: number;
  /** Known total, when the source is a list. */
  readonly total?: number;
  readonly last: RescanResult;
  readonly summary: Readonly<RescanSummary>;
  /** The state to persist now (same object as passed in). */
  readonly state: RescanState;
}

export interface RescanOptions {
  readonly signal?: AbortSignal;
  /** Called after every message, with the state to persist. May return a promise (awaited: back-pressure for slow storage). */
  onProgress?(p: RescanProgress): void | Promise<void>;
  /** Total count for progress, if the caller knows it. */
  readonly total?: number;
  /** Per-message results kept in the state/outcome; beyond it only the summary counts. Default 10 000. */
  readonly maxResults?: number;
  /** Seen entries kept (oldest dropped first). Default 100 000. */
  readonly maxSeen?: number;
  readonly now?: () => number;
  /** Scan everything, even what the same signatures already saw (the seen store is still updated). */
  readonly force?: boolean;
}

export interface RescanOutcome {
  readonly summary: RescanSummary;
  readonly results: readonly RescanResult[];
  /** False when the signal stopped the run: the state keeps `run` so a later call continues it. */
  readonly completed: boolean;
  readonly state: RescanState;
}

export function emptySummary(): RescanSummary {
  return { scanned: 0, clean: 0, infected: 0, unscanned: 0, couldNotDecrypt: 0, skipped: 0, skippedInfected: 0, notEncrypted: 0, total: 0 };
}

export function newRescanState(): RescanState {
  return { version: 1, seen: {} };
}

/** Accepts what a caller read back from storage; anything unusable becomes a fresh state. */
export function restoreRescanState(u: unknown): RescanState {
  if (typeof u !== 'object' || u === null) return newRescanState();
  const o = u as Partial<RescanState>;
  if (o.version !== 1 || typeof o.seen !== 'object' || o.seen === null) return newRescanState();
  const state: RescanState = { version: 1, seen: o.seen };
  const r = o.run;
  if (r && typeof r === 'object' && Array.isArray(r.done) && Array.isArray(r.results) && r.summary && typeof r.startedAt === 'number') {
    state.run = { startedAt: r.startedAt, done: r.done, results: r.results, summary: { ...emptySummary(), ...r.summary } };
  }
  return state;
}

/** What skipping compares: engine and signature version together. */
export function signatureKey(e: RescanEngine | undefined): string | undefined {
  if (!e) return undefined;
  return e.signatures ? `${e.engine}/${e.signatures}` : e.engine;
}

/** CLI exit code for a summary: 10 if anything is (still) infected, 11 if anything is unscanned, else 0. */
export function rescanExitCode(s: RescanSummary): 0 | 10 | 11 {
  if (s.infected > 0 || s.skippedInfected > 0) return 10;
  if (s.unscanned > 0) return 11;
  return 0;
}

export async function rescan(items: Iterable<RescanItem> | AsyncIterable<RescanItem>, deps: RescanDeps, opts: RescanOptions = {}, state: RescanState = newRescanState()): Promise<RescanOutcome> {
  const now = opts.now ?? (() => Date.now());
  const maxResults = opts.maxResults ?? 10_000;
  const run: RescanRun = (state.run ??= { startedAt: now(), done: [], summary: emptySummary(), results: [] });
  const done = new Set(run.done);
  const material = typeof deps.material === 'function' ? await deps.material() : deps.material;
  let current: string | undefined = signatureKey(await deps.engine?.(opts.signal).catch(() => undefined));
  const signal = opts.signal;

  for await (const item of items as AsyncIterable<RescanItem>) {
    if (signal?.aborted) break;
    if (done.has(item.id)) continue;
    const { result, sent } = await processOne(item, deps, material, state, opts.force ? undefined : current, signal);
    // A scan cut short by the caller's cancel is not a result: the item is redone on resume.
    if (signal?.aborted && result.status === 'unscanned') break;
    if (result.signatures && (result.status === 'clean' || result.status === 'infected' || result.status === 'unscanned')) current = result.signatures;
    count(run.summary, result, sent);
    done.add(item.id);
    run.done.push(item.id);
    if (run.results.length < maxResults) run.results.push(result);
    if (result.plaintextSha256 && (result.status === 'clean' || result.status === 'infected') && result.signatures) {
      state.seen[result.plaintextSha256] = {
        signatures: result.signatures,
        verdict: result.status,
        ...(result.findings ? { findings: result.findings } : {}),
        at: now(),
      };
    }
    trimSeen(state, opts.maxSeen ?? 100_000);
    await opts.onProgress?.({ done: run.done.length, ...(opts.total !== undefined ? { total: opts.total } : {}), last: result, summary: run.summary, state });
  }
  const completed = !signal?.aborted;
  const outcome: RescanOutcome = { summary: { ...run.summary }, results: run.results, completed, state };
  if (completed) delete state.run;
  return outcome;
}

/** `sent`: the plaintext went to the scanner (not so for what a gate left unscanned). */
function count(s: RescanSummary, r: RescanResult, sent: boolean): void {
  s.total++;
  if (sent) s.scanned++;
  switch (r.status) {
    case 'clean':
      s.clean++;
      break;
    case 'infected':
      s.infected++;
      break;
    case 'unscanned':
      s.unscanned++;
      break;
    case 'could_not_decrypt':
      s.couldNotDecrypt++;
      break;
    case 'skipped':
      s.skipped++;
      if (r.previousVerdict === 'infected') s.skippedInfected++;
      break;
    case 'not_encrypted':
      s.notEncrypted++;
      break;
  }
}

function trimSeen(state: RescanState, max: number): void {
  const keys = Object.keys(state.seen);
  if (keys.length <= max) return;
  keys.sort((a, b) => state.seen[a]!.at - state.seen[b]!.at);
  for (const k of keys.slice(0, keys.length - max)) delete state.seen[k];
}

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

async function processOne(item: RescanItem, deps: RescanDeps, material: DecryptionMaterial, state: RescanState, current: string | undefined, signal?: AbortSignal): Promise<{ result: RescanResult; sent: boolean }> {
  let sent = false;
  const scan: RescanDeps['scan'] = (plaintext, meta, s) => ((sent = true), deps.scan(plaintext, meta, s));
  const result = await decryptAndScan(item, { ...deps, scan }, material, state, current, signal);
  return { result, sent };
}

async function decryptAndScan(item: RescanItem, deps: RescanDeps, material: DecryptionMaterial, state: RescanState, current: string | undefined, signal?: AbortSignal): Promise<RescanResult> {
  let raw: Uint8Array;
  try {
    raw = await item.raw();
  } catch (e) {
    return { id: item.id, status: 'could_not_decrypt', reason: 'io', detail: `could not read the message: ${messageOf(e)}` };
  }
  // Read after raw(): a file source learns the Message-ID from the bytes.
  const meta = item.meta ?? {};
  const base = { id: item.id, ...(meta.messageId ? { messageId: meta.messageId } : {}), ...(meta.folder ? { folder: meta.folder } : {}) };
  const failed = (error: string, detail: string): RescanResult => {
    deps.audit?.({ event: 'decrypt_failed', ...meta, error });
    return { ...base, status: 'could_not_decrypt', reason: error, detail };
  };
  try {
    if (!findEncryptedPart(parseMime(raw))) return { ...base, status: 'not_encrypted' };
  } catch (e) {
    return failed(isUnsealError(e) ? e.kind : 'malformed', messageOf(e));
  }
  let opened;
  try {
    opened = await openMessage(deps.crypto, raw, material, deps.unwrap ?? {});
  } catch (e) {
    return failed(isUnsealError(e) ? e.kind : 'internal', messageOf(e));
  }
  const refused = deps.gates?.refuse?.(opened);
  if (refused) return failed(refused.reason, refused.detail);
  const plaintext = opened.innermost;
  const plaintextSha256 = await sha256Hex(deps.crypto, plaintext);
  const first = opened.layers.find((l) => l.type !== 'signed');
  deps.audit?.({
    event: 'decrypted',
    ...meta,
    ...(first?.usedKeyId ? { keyFingerprint: first.usedKeyId } : {}),
    ...(first ? { algorithm: first.contentAlgorithm } : {}),
    ciphertextSha256: await sha256Hex(deps.crypto, raw),
    plaintextSha256,
    size: plaintext.length,
  });
  const unscannable = deps.gates?.unscannable?.(plaintext);
  if (unscannable) return { ...base, status: 'unscanned', plaintextSha256, reason: unscannable.reason, detail: unscannable.detail };
  const seen = state.seen[plaintextSha256];
  if (seen && current !== undefined && seen.signatures === current) {
    return { ...base, status: 'skipped', previousVerdict: seen.verdict, plaintextSha256, signatures: seen.signatures, ...(seen.findings ? { findings: seen.findings } : {}) };
  }
  let v: RescanVerdict;
  try {
    v = await deps.scan(plaintext, meta, signal);
  } catch (e) {
    v = { verdict: 'unscanned', reason: 'engine_error', message: messageOf(e) };
  }
  const signatures = signatureKey(v.engine);
  return {
    ...base,
    status: v.verdict,
    plaintextSha256,
    ...(signatures ? { signatures } : {}),
    ...(v.verdict === 'infected' && v.findings ? { findings: v.findings.map((f) => ({ part: f.part, signature: f.signature })) } : {}),
    ...(v.verdict === 'unscanned' ? { ...(v.reason ? { reason: v.reason } : {}), ...(v.message ? { detail: v.message } : {}) } : {}),
  };
}
