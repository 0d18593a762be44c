/**
 * `unseal scan`: the host's scan logic, in-process, for a file or a message on disk. Support staff
 * use it to see what the host would say about a message without Thunderbird in the loop.
 */
import { UnsealError } from '../../core/errors.js';
import { VERDICT_EXIT_CODES, type ScanVerdict } from '../../protocol/scan.js';
import { looksLikeMessage } from '../../host/mime-parts.js';
import { scanMessage } from '../../host/scan-message.js';
import { createScanner } from '../../host/scanners/create.js';
import { guardWithCanaries } from '../../host/scanners/guarded.js';
import { atMostOnePositional, one, parseArgs } from '../args.js';
import { readInput, type CliIo } from '../io.js';

const HELP = `usage: unseal scan [--scanner URL] [--json] [--as auto|message|file] [--timeout MS] [FILE|-]

Scans FILE (or stdin) with the scanner: a message is scanned whole and part by part.
  --scanner URL   clamd+unix:///run/clamav/clamd.ctl, clamd://HOST:PORT, icap://HOST:PORT/SERVICE,
                  icaps://..., command:... (default: $UNSEAL_SCANNER)
  --as            how to treat the input (default auto: a message if it starts with mail headers)
  --json          {"scan": {verdict, engine, findings: [{part, signature}], reason}}
  --timeout MS    per scanner call (default 120000)
exit codes: 0 clean, 10 infected, 11 not scanned (reason printed).`;

export interface ScanPlaintextOptions {
  /** `auto` decides by looking for mail headers. */
  readonly mode?: 'auto' | 'message' | 'object';
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
  /** File name hint for `object` mode. */
  readonly name?: string;
}

/**
 * Scans decrypted plaintext in-process with the same rules as the host (whole entity plus every
 * part; anything short of a positive clean is not clean), behind the same canary guard.
 * `unseal open --scanner` calls this.
 */
export async function scanPlaintext(bytes: Uint8Array, scannerUrl: string, opts: ScanPlaintextOptions = {}): Promise<ScanVerdict> {
  const raw = createScanner(scannerUrl, opts.timeoutMs === undefined ? {} : { timeoutMs: opts.timeoutMs });
  const scanner = guardWithCanaries(raw);
  try {
    const mode = opts.mode === undefined || opts.mode === 'auto' ? (looksLikeMessage(bytes) ? 'message' : 'object') : opts.mode;
    return await scanMessage(bytes, scanner, {
      mode,
      ...(opts.signal ? { signal: opts.signal } : {}),
      ...(opts.timeoutMs !== undefined ? { timeoutMs: opts.timeoutMs } : {}),
      ...(opts.name ? { name: opts.name } : {}),
    });
  } finally {
    await scanner.close().catch(() => {});
  }
}

export interface ScanReport {
  readonly scan: {
    readonly verdict: ScanVerdict['verdict'];
    readonly engine: ScanVerdict['engine'] | null;
    readonly findings: readonly { part: string; signature: string }[];
    readonly reason: string | null;
    readonly message?: string;
    readonly scannedParts?: number;
  };
}

export function scanReport(v: ScanVerdict): ScanReport {
  return {
    scan: {
      verdict: v.verdict,
      engine: v.engine ?? null,
      findings: v.verdict === 'infected' ? v.findings : [],
      reason: v.verdict === 'unscanned' ? v.reason : null,
      ...(v.verdict === 'unscanned' ? { message: v.message } : {}),
      ...(v.verdict === 'clean' ? { scannedParts: v.scannedParts } : {}),
    },
  };
}

export function formatVerdict(v: ScanVerdict): string {
  const lines = [`verdict: ${v.verdict}`];
  if (v.engine) lines.push(`engine: ${v.engine.engine}${v.engine.signatures ? ` (signatures ${v.engine.signatures})` : ''}`);
  if (v.verdict === 'clean') lines.push(`scanned: ${v.scannedParts} object${v.scannedParts === 1 ? '' : 's'}`);
  if (v.verdict === 'infected') for (const f of v.findings) lines.push(`found: ${f.signature} in ${f.part}`);
  if (v.verdict === 'unscanned') lines.push(`not scanned (${v.reason}): ${v.message}`);
  return `${lines.join('\n')}\n`;
}

export async function run(argv: string[], io: CliIo): Promise<number> {
  const args = parseArgs(argv, { scanner: { value: true }, json: {}, as: { value: true }, timeout: { value: true }, help: {} });
  if (args.flags.has('help')) {
    io.out(`${HELP}\n`);
    return 0;
  }
  const url = one(args, 'scanner') ?? io.env['UNSEAL_SCANNER'];
  if (!url) throw new UnsealError('usage', 'no scanner: give --scanner URL or set UNSEAL_SCANNER');
  const as = one(args, 'as') ?? 'auto';
  if (!['auto', 'message', 'file'].includes(as)) throw new UnsealError('usage', '--as must be auto, message or file');
  const timeoutText = one(args, 'timeout');
  const timeoutMs = timeoutText === undefined ? undefined : Number(timeoutText);
  if (timeoutMs !== undefined && (!Number.isSafeInteger(timeoutMs) || timeoutMs <= 0)) throw new UnsealError('usage', '--timeout must be a positive number of milliseconds');
  const path = atMostOnePositional(args, 'FILE');
  const bytes = await readInput(path, io);
  const verdict = await scanPlaintext(bytes, url, {
    mode: as === 'file' ? 'object' : (as as 'auto' | 'message'),
    ...(timeoutMs !== undefined ? { timeoutMs } : {}),
    ...(path && path !== '-' ? { name: path.split(/[\\/]/).pop()! } : {}),
  });
  io.out(args.flags.has('json') ? `${JSON.stringify(scanReport(verdict), null, 2)}\n` : formatVerdict(verdict));
  return VERDICT_EXIT_CODES[verdict.verdict];
}
