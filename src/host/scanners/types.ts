import type { EngineInfo, UnscannedReason } from '../../protocol/scan.js';

/**
 * One object's verdict. `engine` (an addition to the agreed shape) carries the engine and signature
 * version that produced it, so a caller can key re-scans on it; it is absent when the scanner could
 * not be asked.
 */
export type PartVerdict =
  | { verdict: 'clean'; engine?: EngineInfo }
  | { verdict: 'infected'; signatures: string[]; engine?: EngineInfo }
  | { verdict: 'unscanned'; reason: UnscannedReason; message: string; engine?: EngineInfo };

export interface ScanOptions {
  /** File name for logs and for servers that look at it (ICAP synthetic HTTP headers). */
  name?: string;
  contentType?: string;
  signal?: AbortSignal;
  timeoutMs?: number;
}

export interface StreamScanOptions extends ScanOptions {
  /**
   * The object's total size, when known. A source that delivers more or fewer bytes is not scanned
   * (unscanned, never a verdict on a different object); ICAP sends it as the Content-Length.
   */
  size?: number;
}

export type ScannerKind = 'clamd' | 'icap' | 'command';

export interface Scanner {
  /** The scanner URL without credentials. */
  readonly url: string;
  /** Which backend; lets diagnostics (canary advice) name the right configuration file. */
  readonly kind?: ScannerKind;
  /** clamd `VERSION` → engine + signature DB version; ICAP `OPTIONS` → Service + ISTag. */
  engineInfo(signal?: AbortSignal): Promise<EngineInfo>;
  /** Throws UnsealError('io', actionable message) when the scanner cannot be reached. */
  ping(signal?: AbortSignal): Promise<void>;
  /** Never throws for scanner trouble: anything but a positive answer is `unscanned` with a reason. */
  scan(data: Uint8Array, opts?: ScanOptions): Promise<PartVerdict>;
  /**
   * Like scan(), but the upload starts with the first piece instead of after the last one (clamd
   * INSTREAM, an ICAP chunked body, a command's stdin), so receiving and scanning overlap. The
   * scanner is told the object is complete only when the source ends normally (with exactly
   * `size` bytes, if given); if the source throws, is aborted or is too long, the upload is
   * abandoned without an end marker and the answer is `unscanned` — a truncated object is never
   * scanned as if it were whole. `timeoutMs` counts from the last piece the source handed over;
   * waiting for a slow source is bounded by `signal`. The scanner may keep references to the
   * pieces until it returns (ICAP compares an echoed body with them), so a source must not reuse
   * their memory. Optional: without it, callers collect the bytes and call scan().
   */
  scanStream?(source: AsyncIterable<Uint8Array>, opts?: StreamScanOptions): Promise<PartVerdict>;
  close(): Promise<void>;
}

export const DEFAULT_TIMEOUT_MS = 60_000;
