/**
 * Scans decrypted plaintext before anything renders it: the whole MIME entity once (so the engine
 * can apply its own mail parsing) and then every decoded leaf part and nested message/rfc822 on its
 * own (so an engine that does not parse mail, e.g. most ICAP services, still sees each attachment
 * as a file). Only a positive "clean" from every one of those scans makes the message clean.
 */
import type { EngineInfo, Finding, ScanVerdict, UnscannedReason } from '../protocol/scan.js';
import type { PartVerdict, Scanner } from './scanners/types.js';
import { splitMessage, type MessagePart } from './mime-parts.js';

/** The whole entity's finding path. */
export const WHOLE_MESSAGE = 'message';

export interface ScanMessageOptions {
  /** `message`: parse as MIME (a parse failure is not clean); `object`: one opaque file. */
  readonly mode?: 'message' | 'object';
  readonly signal?: AbortSignal;
  /** Per scanner call. */
  readonly timeoutMs?: number;
  /** More leaf parts than this is not scanned (a zip-bomb-shaped message must not hang the host). */
  readonly maxParts?: number;
  /** Scanner calls in flight at once; clamd's MaxThreads defaults to 10 and other mail shares it. */
  readonly concurrency?: number;
  /** The file name for `object` mode, passed to the scanner as a hint. */
  readonly name?: string;
  /**
   * The whole entity's verdict, already in flight: the host streams the entity to the scanner while
   * it arrives (Scanner.scanStream) and passes that scan here instead of scanning it again. It must
   * be a scan of exactly `bytes`. The part scans still start only now (they need the whole message).
   */
  readonly whole?: Promise<PartVerdict>;
}

interface Target {
  readonly path: string;
  readonly data: () => Uint8Array;
  readonly contentType?: string;
  readonly filename?: string;
  readonly opaque?: 'encrypted' | 'unreadable';
}

export async function scanMessage(bytes: Uint8Array, scanner: Scanner, opts: ScanMessageOptions = {}): Promise<ScanVerdict> {
  let engine: EngineInfo;
  try {
    engine = await scanner.engineInfo(opts.signal);
  } catch (e) {
    // Without knowing the engine we cannot call anything clean; asking it first also spares the
    // work of splitting a message for a scanner that is down.
    return unscanned(opts.signal?.aborted ? 'cancelled' : 'unavailable', `scanner ${scanner.url} did not answer: ${messageOf(e)}`);
  }

  const targets: Target[] = [{ path: WHOLE_MESSAGE, data: () => bytes, ...(opts.name ? { filename: opts.name } : {}) }];
  if ((opts.mode ?? 'message') === 'message') {
    let parts: MessagePart[];
    try {
      parts = splitMessage(bytes);
    } catch (e) {
      // The whole entity is still scanned: an infection found there must be reported as such.
      const whole = await (opts.whole ?? scanOne(scanner, targets[0]!, opts));
      if (whole.verdict === 'infected') return { verdict: 'infected', engine, findings: findingsOf(WHOLE_MESSAGE, whole.signatures) };
      return unscanned('engine_error', `could not split the message into parts, so its attachments were not scanned one by one: ${messageOf(e)}`, engine);
    }
    const max = opts.maxParts ?? 1000;
    if (parts.length > max) return unscanned('too_large', `the message has ${parts.length} parts; at most ${max} are scanned`, engine);
    targets.push(...parts);
  }

  let results: PartVerdict[];
  if (opts.whole) {
    // The streamed whole-entity scan runs on its own connection; the parts share the limit.
    const [whole, parts] = await Promise.all([opts.whole, mapLimited(targets.slice(1), opts.concurrency ?? 4, (t) => scanOne(scanner, t, opts))]);
    results = [whole, ...parts];
  } else {
    results = await mapLimited(targets, opts.concurrency ?? 4, (t) => scanOne(scanner, t, opts));
  }
  return aggregate(engine, targets.map((t, i) => ({ path: t.path, result: results[i]! })));
}

async function scanOne(scanner: Scanner, t: Target, opts: ScanMessageOptions): Promise<PartVerdict> {
  if (opts.signal?.aborted) return { verdict: 'unscanned', reason: 'cancelled', message: 'scan cancelled' };
  if (t.opaque) {
    // Its data() throws by design; say why nobody could scan it rather than "could not decode".
    let why = t.opaque === 'encrypted' ? 'encrypted content inside the decrypted message is not decrypted' : 'the content could not be read';
    try {
      t.data();
    } catch (e) {
      why = messageOf(e);
    }
    return { verdict: 'unscanned', reason: 'not_scannable', message: why };
  }
  let data: Uint8Array;
  try {
    data = t.data();
  } catch (e) {
    return { verdict: 'unscanned', reason: 'engine_error', message: `could not decode the part: ${messageOf(e)}` };
  }
  try {
    return await scanner.scan(data, {
      ...(t.filename ? { name: t.filename } : {}),
      ...(t.contentType ? { contentType: t.contentType } : {}),
      ...(opts.signal ? { signal: opts.signal } : {}),
      ...(opts.timeoutMs !== undefined ? { timeoutMs: opts.timeoutMs } : {}),
    });
  } catch (e) {
    // The Scanner contract says scan() does not throw for scanner trouble; a throw is still not clean.
    return { verdict: 'unscanned', reason: 'engine_error', message: messageOf(e) };
  }
}

/** Infected beats unscanned beats clean; clean only when every single scan said clean. */
export function aggregate(engine: EngineInfo, results: readonly { path: string; result: PartVerdict }[]): ScanVerdict {
  const findings: Finding[] = [];
  const unscannedParts: { path: string; reason: UnscannedReason; message: string }[] = [];
  for (const { path, result } of results) {
    if (result.verdict === 'infected') findings.push(...findingsOf(path, result.signatures));
    else if (result.verdict === 'unscanned') unscannedParts.push({ path, reason: result.reason, message: result.message });
    else if (result.verdict !== 'clean') unscannedParts.push({ path, reason: 'engine_error', message: 'the scanner gave no verdict' });
  }
  if (findings.length > 0) return { verdict: 'infected', engine, findings };
  if (unscannedParts.length > 0) {
    const first = unscannedParts[0]!;
    const more = unscannedParts.length > 1 ? ` (and ${unscannedParts.length - 1} more part${unscannedParts.length > 2 ? 's' : ''})` : '';
    return unscanned(first.reason, `${first.path}: ${first.message}${more}`, engine);
  }
  if (results.length === 0) return unscanned('engine_error', 'nothing was scanned', engine);
  return { verdict: 'clean', engine, scannedParts: results.length };
}

function findingsOf(part: string, signatures: readonly string[]): Finding[] {
  // An engine that says "infected" without a name is still infected.
  const sigs = signatures.length > 0 ? signatures : ['(unnamed)'];
  return sigs.map((signature) => ({ part, signature }));
}

function unscanned(reason: UnscannedReason, message: string, engine?: EngineInfo): ScanVerdict {
  return engine ? { verdict: 'unscanned', reason, message, engine } : { verdict: 'unscanned', reason, message };
}

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

async function mapLimited<T, R>(items: readonly T[], limit: number, fn: (t: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return out;
}
