/**
 * `unseal scan`: the host's scan logic, in-process, for a file or a message on disk. Support staff
 * use it to see what the host would say about a message without Thunderbird in the loop.
 */
import { cmsContentType, type CmsKind } from '../../core/cms/content-type.js';
import { UnsealError } from '../../core/errors.js';
import { findEncryptedPart, parseMime } from '../../core/mime/index.js';
import { detectInput } from '../../core/unwrap/input-detect.js';
import { VERDICT_EXIT_CODES, type ScanVerdict } from '../../protocol/scan.js';
import { looksLikeMessage } from '../../host/mime-parts.js';
import { scanMessage } from '../../host/scan-message.js';
import { createScanner } from '../../host/scanners/create.js';
import { guardWithCanaries } from '../../host/scanners/guarded.js';
import { atMostOnePositional, one, parseArgs, timeoutOption } from '../args.js';
import { readInput, type CliIo } from '../io.js';

const HELP = `usage: unseal scan [--scanner URL] [--json] [--as auto|message|file] [--timeout MS] [FILE|-]

Scans FILE (or stdin) with the scanner: a message is scanned whole and part by part.
  --scanner URL   clamd+unix:///run/clamav/clamd.ctl, clamd://HOST:PORT, icap://HOST:PORT/SERVICE,
                  icaps://..., command:... (default: $UNSEAL_SCANNER)
  --as            how to treat the input (default auto: a message if it starts with mail headers)
  --json          {"scan": {verdict, engine, findings: [{part, signature}], reason}}
  --timeout MS    per scanner call (default 120000, at most 2147483647)
Encrypted content is never clean: an encrypted CMS object (EnvelopedData, AuthEnvelopedData,
EncryptedData; DER, BER, PEM or base64) or S/MIME-encrypted message as the input, or an encrypted
part inside a message, is not scanned (reason not_scannable): decrypt it first (unseal open --scanner).
exit codes: 0 clean, 10 infected, 11 not scanned (reason printed); 4 (too_large) for an input over
the size limit.`;

export interface ScanPlaintextOptions {
  /** `auto` decides by looking for mail headers. */
  readonly mode?: 'auto' | 'message' | 'object';
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
  /** File name hint for `object` mode. */
  readonly name?: string;
}

const ENCRYPTED_CMS: Partial<Record<CmsKind, string>> = { enveloped: 'EnvelopedData', authEnveloped: 'AuthEnvelopedData', encrypted: 'EncryptedData' };

/**
 * Why the input as a whole is encrypted content that nobody decrypted (so a scanner that looked at
 * its bytes saw only ciphertext), or undefined: a CMS object in any armour the CLI reads, or — when
 * it is scanned as one file, so the MIME parts are not looked at — an S/MIME-encrypted message.
 * Encrypted parts inside a message scanned as a message are the part scan's business (not_scannable).
 */
export function encryptedInput(bytes: Uint8Array, mode: 'message' | 'object'): string | undefined {
  const detected = detectInput(bytes);
  if (detected.type === 'cms') {
    const kind = cmsContentType(detected.der);
    const name = kind ? ENCRYPTED_CMS[kind] : undefined;
    return name ? `the input is an encrypted CMS object (${name}${detected.armour === 'binary' ? '' : `, ${detected.armour}`})` : undefined;
  }
  if (mode !== 'object' || !looksLikeMessage(bytes)) return undefined;
  let part;
  try {
    part = findEncryptedPart(parseMime(bytes));
  } catch {
    return undefined; // not MIME after all: one opaque file, as asked
  }
  if (!part) return undefined;
  return `the input is an S/MIME-encrypted message (${part.kind === 'authEnveloped' ? 'AuthEnvelopedData' : 'EnvelopedData'}${part.path ? ` in part ${part.path}` : ''})`;
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
    const encrypted = encryptedInput(bytes, mode);
    const verdict = await scanMessage(bytes, scanner, {
      // Ciphertext has no MIME parts (in message mode only a CMS object is found here).
      mode: encrypted ? 'object' : mode,
      ...(opts.signal ? { signal: opts.signal } : {}),
      ...(opts.timeoutMs !== undefined ? { timeoutMs: opts.timeoutMs } : {}),
      ...(opts.name ? { name: opts.name } : {}),
    });
    // The scanner saw ciphertext: its "clean" says nothing about the content. Infected (or another
    // reason not to scan) still stands.
    if (encrypted && verdict.verdict === 'clean') {
      return {
        verdict: 'unscanned',
        reason: 'not_scannable',
        message: `${encrypted}; nobody decrypted it, so no scanner saw its content: decrypt and scan it with unseal open --scanner URL`,
        engine: verdict.engine,
      };
    }
    return verdict;
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
  const timeoutMs = timeoutOption(args);
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
