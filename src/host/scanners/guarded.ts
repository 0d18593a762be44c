import type { EngineInfo } from '../../protocol/scan.js';
import { checkCanaries, type CanaryReport } from './canary.js';
import { deadline, scanSource, unscanned } from './net.js';
import type { PartVerdict, ScanOptions, Scanner, StreamScanOptions } from './types.js';

export const DEFAULT_CANARY_TTL_MS = 6 * 60 * 60 * 1000;
/** A failed check is retried sooner: the admin is probably fixing the configuration right now. */
export const DEFAULT_FAILED_RETRY_MS = 30_000;

export interface GuardOptions {
  ttlMs?: number;
  failedRetryMs?: number;
  /** Injected for tests; defaults to checkCanaries. */
  check?: (s: Scanner, o: { signal?: AbortSignal }) => Promise<CanaryReport>;
}

export type GuardedScanner = Scanner & {
  lastCanaryReport(): CanaryReport | undefined;
  /**
   * The guard's own self-test: returns the stored report while it is fresh for the current engine,
   * otherwise runs the canaries (or joins a run already in progress) and keeps the report, so the
   * next scan does not run them again. `signal` only stops this caller's wait, not the check.
   */
  check(signal?: AbortSignal): Promise<CanaryReport>;
};

function engineKey(e: EngineInfo): string {
  return `${e.engine}\u0000${e.signatures ?? ''}`;
}

/**
 * A self-test whose every failure is the scanner not answering says nothing about its
 * configuration: it is down (the engine's version may still be cached for a few seconds).
 */
function unreachable(r: CanaryReport): boolean {
  const failed = r.results.filter((x) => !x.pass);
  return !r.ok && failed.length > 0 && failed.every((x) => x.got.verdict === 'unscanned' && x.got.reason === 'unavailable');
}

/**
 * A scanner whose answers only count once it has proven, with canaries, that it finds what it is
 * supposed to find. Until then — and whenever the engine or its signatures change, or the TTL
 * runs out — every answer is unscanned('misconfigured'). "Infected" is passed through even
 * before the check: refusing to show content is never the unsafe direction.
 */
export function guardWithCanaries(scanner: Scanner, opts: GuardOptions = {}): GuardedScanner {
  const ttlMs = opts.ttlMs ?? DEFAULT_CANARY_TTL_MS;
  const failedRetryMs = Math.min(opts.failedRetryMs ?? DEFAULT_FAILED_RETRY_MS, ttlMs);
  const check = opts.check ?? ((s, o) => checkCanaries(s, o));
  let report: CanaryReport | undefined;
  let reportKey: string | undefined;
  let reportAt = 0;
  let running: Promise<CanaryReport> | undefined;

  const fresh = (key: string) => {
    if (!report || reportKey !== key) return false;
    const age = Date.now() - reportAt;
    return age < (report.ok ? ttlMs : failedRetryMs);
  };

  const ensure = async (key: string, signal?: AbortSignal): Promise<CanaryReport> => {
    if (fresh(key) && report) return report;
    // One check at a time; concurrent scans wait for the same one. The check is not tied to a
    // single caller's signal: one cancelled scan must not poison everyone's result.
    running ??= check(scanner, {})
      .then((r) => {
        // Not kept when the scanner was merely down: the next scan checks again as soon as it is back.
        if (unreachable(r)) return r;
        report = r;
        reportKey = r.engine ? engineKey(r.engine) : key;
        reportAt = Date.now();
        return r;
      })
      .finally(() => {
        running = undefined;
      });
    if (!signal) return running;
    return Promise.race([
      running,
      new Promise<never>((_, reject) => {
        if (signal.aborted) reject(new Error('cancelled'));
        signal.addEventListener('abort', () => reject(new Error('cancelled')), { once: true });
      }),
    ]);
  };

  const misconfigured = (r: CanaryReport, engine: EngineInfo): PartVerdict => {
    const missed = r.results.filter((x) => !x.pass).map((x) => x.canary);
    return {
      ...unscanned(
        'misconfigured',
        `scanner ${scanner.url} failed its self-test (${missed.join(', ')}); its answers are not trusted until fixed: ${r.advice.join('; ') || 'see the canary report'}`,
      ),
      engine,
    };
  };

  return {
    url: scanner.url,
    ...(scanner.kind ? { kind: scanner.kind } : {}),
    engineInfo: (signal) => scanner.engineInfo(signal),
    ping: (signal) => scanner.ping(signal),
    close: () => scanner.close(),
    lastCanaryReport: () => report,
    async check(signal?: AbortSignal): Promise<CanaryReport> {
      const engine = await scanner.engineInfo(signal);
      return ensure(engineKey(engine), signal);
    },
    scan(data: Uint8Array, o: ScanOptions = {}): Promise<PartVerdict> {
      return guarded((opts) => scanner.scan(data, opts), o);
    },
    /**
     * The self-test still comes first (the pieces wait in the source meanwhile). In the rare case
     * that the engine changed between the check and the answer, the source is read a second time
     * for the re-scan: it must be replayable (the host's is). With `size` given, a one-shot source
     * that is exhausted then fails the size check (unscanned); without it there is no re-scan.
     */
    scanStream(source: AsyncIterable<Uint8Array>, o: StreamScanOptions = {}): Promise<PartVerdict> {
      return guarded((opts) => scanSource(scanner, source, { ...opts, ...(o.size !== undefined ? { size: o.size } : {}) }), o, o.size !== undefined);
    },
  };

  async function guarded(run: (o: ScanOptions) => Promise<PartVerdict>, o: ScanOptions, canRescan = true): Promise<PartVerdict> {
    let engine: EngineInfo;
    try {
      engine = await scanner.engineInfo(o.signal);
    } catch (e) {
      if (o.signal?.aborted) return unscanned('cancelled', `${scanner.url}: cancelled`);
      return unscanned('unavailable', e instanceof Error ? e.message : String(e));
    }
    const key = engineKey(engine);
    let r: CanaryReport;
    // The caller's time budget also bounds waiting for the self-test (which carries on in the
    // background for the next caller).
    const dl = o.timeoutMs !== undefined ? deadline(o.timeoutMs, o.signal) : undefined;
    try {
      r = await ensure(key, dl?.signal ?? o.signal);
    } catch (e) {
      if (dl?.why() === 'timeout') return unscanned('timeout', `${scanner.url}: the scanner self-test did not finish within ${o.timeoutMs} ms`);
      if (o.signal?.aborted) return unscanned('cancelled', `${scanner.url}: cancelled during the scanner self-test`);
      return unscanned('misconfigured', `${scanner.url}: the scanner self-test could not run: ${e instanceof Error ? e.message : String(e)}`);
    } finally {
      dl?.dispose();
    }
    if (unreachable(r)) {
      const first = r.results.find((x) => !x.pass)!.got;
      return { ...unscanned('unavailable', `${scanner.url} did not answer its self-test: ${first.verdict === 'unscanned' ? first.message : 'no answer'}`), engine };
    }
    if (!r.ok) {
      const v = await run(o);
      // A detection by a scanner that misses other things is still a detection.
      if (v.verdict === 'infected') return v;
      return misconfigured(r, engine);
    }
    const v = await run(o);
    if (v.engine && engineKey(v.engine) !== key && v.verdict === 'clean') {
      // The engine changed between the check and this answer (e.g. a new ISTag): re-verify first.
      const r2 = await ensure(engineKey(v.engine), o.signal).catch(() => undefined);
      if (!r2?.ok) return r2 ? misconfigured(r2, v.engine) : unscanned('cancelled', `${scanner.url}: cancelled`);
      if (!canRescan) return { ...unscanned('engine_error', `${scanner.url}: the engine changed during the scan and the streamed object cannot be re-read for a re-scan`), engine: v.engine };
      return run(o);
    }
    return v;
  }
}
