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
  close(): Promise<void>;
}

export const DEFAULT_TIMEOUT_MS = 60_000;
