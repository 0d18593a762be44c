/**
 * The protocol handler behind the frames: one HostSession per connection (Thunderbird starts one
 * host process per port). It never lets a request go unanswered unless the port is gone, never
 * turns trouble into "clean", and keeps serving after any single request fails.
 */
import { createHash, type Hash } from 'node:crypto';
import type { Readable } from 'node:stream';
import {
  AUDIT_READ_MAX_REPLY_BYTES,
  PROTOCOL_VERSION,
  errorResponse,
  isProtocolError,
  paddedBase64Length,
  parseRequest,
  type CanaryStatus,
  type ProtocolErrorKind,
  type Request,
  type Response,
  type ScanMeta,
} from '../protocol/native.js';
import type { EngineInfo, ScanVerdict, UnscannedReason } from '../protocol/scan.js';
import { readAuditLog, type AuditLog } from './audit.js';
import type { HostLimits } from './config.js';
import { FrameDecoder, FrameWriter, type DecodedFrame } from './framing.js';
import type { ManagedKeyStore } from './managed-keys.js';
import { ReceiveSource } from './receive-source.js';
import { scanMessage } from './scan-message.js';
import type { CanaryReport } from './scanners/canary.js';
import { scanSource } from './scanners/net.js';
import type { PartVerdict, Scanner } from './scanners/types.js';

/** What the session needs of the scanner side; main.ts builds it from createScanner + guardWithCanaries. */
export interface ScannerBundle {
  /** The canary-guarded scanner every scan goes through. */
  readonly scanner: Scanner;
  /** URL without credentials, as reported to the add-on. */
  readonly displayUrl: string;
  lastCanaryReport(): CanaryReport | undefined;
  /** The guard's self-test: the stored report while fresh for the current engine, else one (shared) run that the guard keeps. */
  runCanaries(signal: AbortSignal): Promise<CanaryReport>;
}

export interface SessionDeps {
  readonly scanners: ScannerBundle | null;
  readonly limits: HostLimits;
  readonly audit: AuditLog | null;
  /** The organisation's keys (host-config managedKeys); null when none are configured. */
  readonly managedKeys?: ManagedKeyStore | null;
  readonly hostVersion: string;
  readonly send: (r: Response) => void;
  readonly log: (line: string) => void;
}

interface ActiveScan {
  readonly scanId: string;
  readonly size: number;
  readonly sha256: string;
  readonly meta: ScanMeta;
  /** Allocated at the announced size; chunks are decoded straight into it. */
  readonly buf: Buffer;
  /** `buf` as it fills, streamed to the scanner from scan.begin on. */
  readonly source: ReceiveSource;
  /**
   * The whole entity's scan, running while chunks arrive. Its answer is used only after scan.end
   * and the size/SHA-256 check; a dropped scan fails the source and aborts it, so it ends unscanned
   * and is never reported.
   */
  whole?: Promise<PartVerdict>;
  readonly hash: Hash;
  readonly abort: AbortController;
  received: number;
  nextSeq: number;
  phase: 'receiving' | 'scanning';
  /** Why the scan ended early, once it has; decides the verdict or error a late request gets. */
  stop?: { reason: 'timeout' | 'cancelled'; message: string };
  deadline: NodeJS.Timeout;
  idle?: NodeJS.Timeout;
}

/** How a dropped scan answers later requests for it. */
type Tombstone =
  | { kind: 'unscanned'; reason: Extract<UnscannedReason, 'timeout' | 'cancelled'>; message: string }
  | { kind: 'error'; error: ProtocolErrorKind; message: string };

const TOMBSTONE_LIMIT = 1024;
const HELLO_ENGINE_TIMEOUT_MS = 3_000;
const HEALTH_TIMEOUT_MS = 15_000;
/** Findings beyond this would push a verdict past Gecko's 1 MiB reply limit; the verdict stays infected. */
const MAX_FINDINGS = 500;

export class HostSession {
  private readonly scans = new Map<string, ActiveScan>();
  private readonly tombstones = new Map<string, Tombstone>();
  private readonly inflight = new Set<Promise<unknown>>();
  private closed = false;

  constructor(private readonly deps: SessionDeps) {}

  /** Frames are handled in arrival order; only scan.end, hello, health and audit complete later. */
  handleFrame(f: DecodedFrame): void {
    if (!f.ok) {
      this.deps.log(`frame error: ${f.message}`);
      this.deps.send(errorResponse(null, f.kind, f.message));
      return;
    }
    this.handle(f.value);
  }

  handle(u: unknown): void {
    if (this.closed) return;
    const req = parseRequest(u);
    if (isProtocolError(req)) {
      this.deps.send(errorResponse(req.id, req.kind, req.message));
      return;
    }
    try {
      this.dispatch(req);
    } catch (e) {
      this.deps.log(`internal error on ${req.type} ${req.id}: ${(e as Error).stack ?? String(e)}`);
      this.deps.send(errorResponse(req.id, 'internal', `host error: ${(e as Error).message}`, 'scanId' in req ? req.scanId : undefined));
    }
  }

  private dispatch(req: Request): void {
    switch (req.type) {
      case 'hello':
        return this.track(this.hello(req));
      case 'health':
        return this.track(this.health(req));
      case 'scan.begin':
        return this.begin(req);
      case 'scan.chunk':
        return this.chunk(req);
      case 'scan.end':
        return this.track(this.end(req));
      case 'scan.cancel':
        return this.cancel(req);
      case 'audit':
        return this.track(this.auditEvent(req));
      case 'audit.read':
        return this.track(this.auditRead(req));
      case 'keys.list':
        return this.track(this.keysList(req));
      case 'keys.unwrap':
        return this.track(this.keysUnwrap(req));
    }
  }

  private async keysList(req: Extract<Request, { type: 'keys.list' }>): Promise<void> {
    const store = this.deps.managedKeys;
    if (!store) {
      this.deps.send({ id: req.id, type: 'keys.managed', keys: [], problems: [] });
      return;
    }
    const l = await store.list();
    this.deps.send({ id: req.id, type: 'keys.managed', keys: l.keys, problems: l.problems });
  }

  /** Only the content-encryption key leaves the host, and only for a recipient that names the key. */
  private async keysUnwrap(req: Extract<Request, { type: 'keys.unwrap' }>): Promise<void> {
    const store = this.deps.managedKeys;
    if (!store) {
      this.deps.send({ id: req.id, type: 'keys.unwrap_failed', error: { kind: 'no_matching_recipient', message: 'this host serves no managed keys (host-config.json managedKeys)' } });
      return;
    }
    const r = await store.unwrap(req);
    if (r.ok) this.deps.send({ id: req.id, type: 'keys.cek', cek: Buffer.from(r.cek).toString('base64') });
    else this.deps.send({ id: req.id, type: 'keys.unwrap_failed', error: { kind: r.kind, message: r.message } });
  }

  private track(p: Promise<void>): void {
    const t = p.catch((e: unknown) => this.deps.log(`internal error: ${(e as Error).stack ?? String(e)}`));
    this.inflight.add(t);
    void t.finally(() => this.inflight.delete(t));
  }

  private async hello(req: Extract<Request, { type: 'hello' }>): Promise<void> {
    if (req.protocol !== PROTOCOL_VERSION) {
      this.deps.send(
        errorResponse(req.id, 'unsupported_version', `this host speaks protocol ${PROTOCOL_VERSION}, the add-on ${req.protocol}; install matching versions of the add-on and the host (unseal host install)`),
      );
      return;
    }
    const s = this.deps.scanners;
    const engine = s ? await withTimeout((sig) => s.scanner.engineInfo(sig), HELLO_ENGINE_TIMEOUT_MS).catch(() => undefined) : undefined;
    this.deps.send({
      id: req.id,
      type: 'hello',
      host: this.deps.hostVersion,
      protocol: PROTOCOL_VERSION,
      scanner: s ? s.displayUrl : null,
      ...(engine ? { engine } : {}),
      canary: canaryStatus(s?.lastCanaryReport()),
    });
  }

  private async health(req: Extract<Request, { type: 'health' }>): Promise<void> {
    const s = this.deps.scanners;
    if (!s) {
      this.deps.send({
        id: req.id,
        type: 'health',
        ok: false,
        scanner: null,
        reachable: false,
        problem: 'no scanner configured: run `unseal host install --scanner URL` or set UNSEAL_SCANNER',
        canary: canaryStatus(undefined),
      });
      return;
    }
    let engine: EngineInfo | undefined;
    let problem: string | undefined;
    try {
      await withTimeout((sig) => s.scanner.ping(sig), HEALTH_TIMEOUT_MS);
      engine = await withTimeout((sig) => s.scanner.engineInfo(sig), HEALTH_TIMEOUT_MS);
    } catch (e) {
      problem = `scanner ${s.displayUrl} is not reachable: ${(e as Error).message}`;
    }
    let report = s.lastCanaryReport();
    if (engine) {
      // The guard's own check: its stored report while fresh, otherwise one run (joined by any scan
      // waiting for it) whose report the scans then use.
      report = await withTimeout((sig) => s.runCanaries(sig), HEALTH_TIMEOUT_MS).catch((e: unknown) => {
        problem = `canary check failed to run: ${(e as Error).message}`;
        return undefined;
      });
    }
    const canary = canaryStatus(report);
    if (!problem && canary.state === 'failed') problem = `the scanner missed test viruses (${canary.missed.join(', ')}); scans report unscanned until this is fixed`;
    this.deps.send({
      id: req.id,
      type: 'health',
      ok: engine !== undefined && canary.state !== 'failed' && problem === undefined,
      scanner: s.displayUrl,
      reachable: engine !== undefined,
      ...(engine ? { engine } : {}),
      ...(problem ? { problem } : {}),
      canary,
    });
  }

  private begin(req: Extract<Request, { type: 'scan.begin' }>): void {
    const { limits } = this.deps;
    if (this.scans.has(req.scanId) || this.tombstones.has(req.scanId)) {
      this.deps.send(errorResponse(req.id, 'duplicate_scan', `scanId ${req.scanId} was already used in this session; use a fresh id per scan`, req.scanId));
      return;
    }
    if (req.size > limits.maxScanBytes) {
      this.deps.send(errorResponse(req.id, 'too_large', `message of ${req.size} bytes exceeds the host's limit of ${limits.maxScanBytes} bytes (limits.maxScanBytes in host-config.json)`, req.scanId));
      return;
    }
    if (this.scans.size >= limits.maxConcurrentScans) {
      this.deps.send(errorResponse(req.id, 'busy', `${this.scans.size} scans are already running (limits.maxConcurrentScans); retry when one finishes`, req.scanId));
      return;
    }
    const abort = new AbortController();
    const buf = Buffer.alloc(req.size);
    const scan: ActiveScan = {
      scanId: req.scanId,
      size: req.size,
      sha256: req.sha256,
      meta: req.meta,
      buf,
      source: new ReceiveSource(buf),
      hash: createHash('sha256'),
      abort,
      received: 0,
      nextSeq: 0,
      phase: 'receiving',
      deadline: setTimeout(() => this.expire(scan, `the scan took longer than ${limits.scanTimeoutMs} ms (limits.scanTimeoutMs)`), limits.scanTimeoutMs),
    };
    this.scans.set(req.scanId, scan);
    this.armIdle(scan);
    const s = this.deps.scanners;
    if (s) {
      // Upload to the scanner as the chunks arrive instead of after scan.end. The scanner's own
      // timeout counts from the last chunk; a stalled add-on is the idle/scan timeouts' business.
      scan.whole = scanSource(s.scanner, scan.source, {
        size: scan.size,
        signal: abort.signal,
        timeoutMs: this.deps.limits.scannerTimeoutMs,
      }).catch((e: unknown): PartVerdict => ({ verdict: 'unscanned', reason: 'engine_error', message: `streamed scan failed: ${(e as Error).message}` }));
      // close() waits for it like for any other scanner call.
      this.track(scan.whole.then(() => undefined));
    }
    this.deps.send({ id: req.id, type: 'ack', scanId: req.scanId, received: 0 });
  }

  private armIdle(scan: ActiveScan): void {
    if (scan.idle) clearTimeout(scan.idle);
    const ms = this.deps.limits.idleTimeoutMs;
    scan.idle = setTimeout(() => this.expire(scan, `no data for ${ms} ms (limits.idleTimeoutMs) after ${scan.received} of ${scan.size} bytes`), ms);
  }

  private expire(scan: ActiveScan, message: string): void {
    if (scan.stop) return;
    scan.stop = { reason: 'timeout', message };
    this.deps.log(`scan ${scan.scanId}: ${message}`);
    if (scan.phase === 'scanning') scan.abort.abort(new Error(message));
    else this.drop(scan, { kind: 'unscanned', reason: 'timeout', message });
  }

  private drop(scan: ActiveScan, tomb: Tombstone | null): void {
    clearTimeout(scan.deadline);
    if (scan.idle) clearTimeout(scan.idle);
    scan.source.fail(new Error('the scan was dropped before all its bytes were verified'));
    scan.abort.abort(new Error('scan dropped'));
    this.scans.delete(scan.scanId);
    if (tomb) {
      this.tombstones.set(scan.scanId, tomb);
      if (this.tombstones.size > TOMBSTONE_LIMIT) this.tombstones.delete(this.tombstones.keys().next().value as string);
    }
  }

  private lateAnswer(id: string, scanId: string, forEnd: boolean): boolean {
    const tomb = this.tombstones.get(scanId);
    if (!tomb) return false;
    if (forEnd && tomb.kind === 'unscanned') {
      this.tombstones.delete(scanId);
      this.deps.send({ id, type: 'scan.result', scanId, verdict: { verdict: 'unscanned', reason: tomb.reason, message: tomb.message } });
    } else if (tomb.kind === 'unscanned') {
      this.deps.send(errorResponse(id, tomb.reason, tomb.message, scanId));
    } else {
      if (forEnd) this.tombstones.delete(scanId);
      this.deps.send(errorResponse(id, tomb.error, tomb.message, scanId));
    }
    return true;
  }

  private chunk(req: Extract<Request, { type: 'scan.chunk' }>): void {
    const scan = this.scans.get(req.scanId);
    if (!scan || scan.phase !== 'receiving') {
      if (this.lateAnswer(req.id, req.scanId, false)) return;
      this.deps.send(errorResponse(req.id, 'unknown_scan', scan ? `scan ${req.scanId} already ended` : `no scan ${req.scanId}: send scan.begin first`, req.scanId));
      return;
    }
    const fail = (kind: ProtocolErrorKind, message: string) => {
      this.drop(scan, { kind: 'error', error: kind, message });
      this.deps.send(errorResponse(req.id, kind, message, req.scanId));
    };
    if (req.seq !== scan.nextSeq) return fail('bad_request', `chunk seq ${req.seq} out of order, expected ${scan.nextSeq}; the scan was dropped`);
    // parseRequest has checked that data is padded standard base64, so its decoded length is exact
    // and Buffer's decoder (no second validation pass, no intermediate copy) can write it in place.
    const n = paddedBase64Length(req.data);
    if (scan.received + n > scan.size) {
      return fail('integrity', `chunks exceed the ${scan.size} bytes announced in scan.begin; the scan was dropped`);
    }
    const written = scan.buf.write(req.data, scan.received, n, 'base64');
    if (written !== n) return fail('bad_request', `chunk ${req.seq} decoded to ${written} bytes, expected ${n}; the scan was dropped`);
    scan.hash.update(scan.buf.subarray(scan.received, scan.received + n));
    scan.received += n;
    scan.source.advance(scan.received);
    scan.nextSeq++;
    this.armIdle(scan);
    this.deps.send({ id: req.id, type: 'ack', scanId: req.scanId, seq: req.seq, received: scan.received });
  }

  private async end(req: Extract<Request, { type: 'scan.end' }>): Promise<void> {
    const scan = this.scans.get(req.scanId);
    if (!scan || scan.phase !== 'receiving') {
      if (this.lateAnswer(req.id, req.scanId, true)) return;
      this.deps.send(errorResponse(req.id, 'unknown_scan', scan ? `scan ${req.scanId} already ended` : `no scan ${req.scanId}`, req.scanId));
      return;
    }
    if (scan.idle) clearTimeout(scan.idle);
    if (scan.received !== scan.size) {
      this.drop(scan, null);
      this.deps.send(errorResponse(req.id, 'integrity', `received ${scan.received} bytes, scan.begin announced ${scan.size}; nothing was scanned`, req.scanId));
      return;
    }
    const digest = scan.hash.digest('hex');
    if (digest !== scan.sha256) {
      this.drop(scan, null);
      this.deps.send(errorResponse(req.id, 'integrity', `sha256 of the received bytes is ${digest}, scan.begin announced ${scan.sha256}; nothing was scanned`, req.scanId));
      return;
    }
    scan.phase = 'scanning';
    let verdict: ScanVerdict;
    const s = this.deps.scanners;
    if (!s) {
      verdict = { verdict: 'unscanned', reason: 'misconfigured', message: 'no scanner configured: run `unseal host install --scanner URL` or set UNSEAL_SCANNER' };
    } else {
      // Size and SHA-256 match: the streamed whole-entity scan saw exactly these bytes, so its
      // answer may now count. The per-part scans need the whole message and start only here.
      verdict = await scanMessage(scan.buf, s.scanner, {
        mode: 'message',
        signal: scan.abort.signal,
        timeoutMs: this.deps.limits.scannerTimeoutMs,
        ...(scan.whole ? { whole: scan.whole } : {}),
      });
    }
    // A stop that happened while scanning wins: whatever the scanner returned after an abort is
    // not a result anyone asked for in time.
    if (scan.stop) verdict = { verdict: 'unscanned', reason: scan.stop.reason, message: scan.stop.message, ...(verdictEngine(verdict) ? { engine: verdictEngine(verdict)! } : {}) };
    this.drop(scan, null);
    if (verdict.verdict === 'infected' && verdict.findings.length > MAX_FINDINGS) {
      verdict = { ...verdict, findings: [...verdict.findings.slice(0, MAX_FINDINGS), { part: '…', signature: `${verdict.findings.length - MAX_FINDINGS} more findings not listed` }] };
    }
    this.deps.send({ id: req.id, type: 'scan.result', scanId: req.scanId, verdict });
    await this.auditVerdict(scan, digest, verdict);
  }

  private async auditVerdict(scan: ActiveScan, sha256: string, v: ScanVerdict): Promise<void> {
    if (!this.deps.audit) return;
    try {
      await this.deps.audit.record(
        {
          event: 'verdict',
          scanId: scan.scanId,
          ...(scan.meta.messageId ? { messageId: scan.meta.messageId } : {}),
          ...(scan.meta.folder ? { folder: scan.meta.folder } : {}),
          plaintextSha256: sha256,
          size: scan.size,
          verdict: v.verdict,
          ...(v.verdict === 'unscanned' ? { reason: v.reason } : {}),
          ...(v.verdict === 'infected' ? { signatures: [...new Set(v.findings.map((f) => f.signature))].slice(0, 100) } : {}),
          // Which engine and signature version said so: what a later re-scan is compared against.
          ...(v.engine ? { engine: v.engine.engine.slice(0, 128), ...(v.engine.signatures ? { engineSignatures: v.engine.signatures.slice(0, 128) } : {}) } : {}),
        },
        'host',
      );
    } catch (e) {
      this.deps.log(`audit: could not record verdict for ${scan.scanId}: ${(e as Error).message}`);
    }
  }

  private cancel(req: Extract<Request, { type: 'scan.cancel' }>): void {
    const scan = this.scans.get(req.scanId);
    if (scan && !scan.stop) {
      scan.stop = { reason: 'cancelled', message: 'cancelled by the add-on' };
      if (scan.phase === 'scanning') scan.abort.abort(new Error('cancelled'));
      else this.drop(scan, { kind: 'unscanned', reason: 'cancelled', message: 'cancelled by the add-on' });
    }
    // Idempotent: cancelling a finished or unknown scan is not an error worth a round trip.
    this.deps.send({ id: req.id, type: 'ack', scanId: req.scanId });
  }

  private async auditEvent(req: Extract<Request, { type: 'audit' }>): Promise<void> {
    if (!this.deps.audit) {
      this.deps.send({ id: req.id, type: 'ack' });
      return;
    }
    try {
      await this.deps.audit.record(req.event, 'addon');
      this.deps.send({ id: req.id, type: 'ack' });
    } catch (e) {
      this.deps.send(errorResponse(req.id, 'internal', `audit log not written: ${(e as Error).message}`));
    }
  }

  /** A page of the audit log (oldest first), kept below Gecko's 1 MiB reply limit. */
  private async auditRead(req: Extract<Request, { type: 'audit.read' }>): Promise<void> {
    try {
      const page = await readAuditLog(this.deps.audit?.path ?? null, {
        limit: req.limit,
        maxBytes: AUDIT_READ_MAX_REPLY_BYTES,
        ...(req.since !== undefined ? { since: req.since } : {}),
        ...(req.cursor !== undefined ? { cursor: req.cursor } : {}),
      });
      this.deps.send({ id: req.id, type: 'audit.events', events: page.events, next: page.next });
    } catch (e) {
      this.deps.send(errorResponse(req.id, 'internal', `audit log not readable: ${(e as Error).message}`));
    }
  }

  /** The port closed: drop everything, let running scanner calls abort, and wait for them. */
  async close(): Promise<void> {
    this.closed = true;
    for (const scan of [...this.scans.values()]) {
      scan.stop ??= { reason: 'cancelled', message: 'the add-on disconnected' };
      if (scan.phase === 'scanning') scan.abort.abort(new Error('disconnected'));
      else this.drop(scan, null);
    }
    await Promise.allSettled([...this.inflight]);
  }

  get activeScans(): number {
    return this.scans.size;
  }
}

function verdictEngine(v: ScanVerdict): EngineInfo | undefined {
  return v.engine;
}

export function canaryStatus(report: CanaryReport | undefined): CanaryStatus {
  if (!report) return { state: 'unchecked', missed: [], advice: [] };
  return {
    state: report.ok ? 'ok' : 'failed',
    missed: report.results.filter((r) => !r.pass).map((r) => r.canary),
    advice: [...report.advice],
  };
}

async function withTimeout<T>(fn: (signal: AbortSignal) => Promise<T>, ms: number): Promise<T> {
  const ac = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      ac.abort(new Error(`no answer within ${ms} ms`));
      reject(new Error(`no answer within ${ms} ms`));
    }, ms);
  });
  try {
    return await Promise.race([fn(ac.signal), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Wires a session to a byte stream pair. Resolves when the input ends (the add-on closed the port)
 * and every reply has been flushed.
 */
export async function serveStream(
  input: Readable,
  writer: FrameWriter,
  session: HostSession,
  opts: { maxFrameBytes: number; log: (line: string) => void },
): Promise<void> {
  const decoder = new FrameDecoder({ maxFrameBytes: opts.maxFrameBytes });
  for await (const chunk of input) {
    for (const f of decoder.push(chunk as Uint8Array)) session.handleFrame(f);
  }
  for (const f of decoder.end()) session.handleFrame(f);
  await session.close();
  await writer.flush();
}

