/**
 * Scan verdicts as every part of Unseal sees them (host, CLI, add-on). Only `clean` may ever lead
 * to rendering; anything that is not a scanner's positive "clean" is `unscanned` or `infected`.
 */
export type UnscannedReason =
  | 'unavailable'
  | 'timeout'
  | 'too_large'
  | 'engine_error'
  | 'misconfigured'
  | 'cancelled'
  | 'protocol_error'
  /** Part of the decrypted message is itself encrypted or unreadable, so no scanner saw it. */
  | 'not_scannable';

export interface Finding {
  /** Where in the message, e.g. `attachments/2 invoice.zip › eicar.com`, or `message` for the whole entity. */
  readonly part: string;
  /** Signature name as the engine reports it, e.g. `Eicar-Test-Signature.UNOFFICIAL`. */
  readonly signature: string;
}

export interface EngineInfo {
  /** Engine name and version, e.g. `ClamAV 1.4.3`, or an ICAP server's Service header. */
  readonly engine: string;
  /** Signature database version/date (clamd) or ISTag (ICAP); what a re-scan compares. */
  readonly signatures?: string;
  /** The scanner URL without credentials. */
  readonly scanner?: string;
}

export type ScanVerdict =
  | { readonly verdict: 'clean'; readonly engine: EngineInfo; readonly scannedParts: number }
  | { readonly verdict: 'infected'; readonly engine: EngineInfo; readonly findings: readonly Finding[] }
  | {
      readonly verdict: 'unscanned';
      readonly reason: UnscannedReason;
      readonly message: string;
      readonly engine?: EngineInfo;
    };

export const VERDICT_EXIT_CODES = { clean: 0, infected: 10, unscanned: 11 } as const;
