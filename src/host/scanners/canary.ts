import type { EngineInfo } from '../../protocol/scan.js';
import { eicarBytes } from './eicar.js';
import type { PartVerdict, Scanner, ScannerKind } from './types.js';
import { concatBytes, storedZip } from './zip.js';

/** Past c-icap's stock MaxObjectSize (5M), under clamd's stream limits. */
export const PADDED_CANARY_BYTES = 6 * 1024 * 1024;
/**
 * Between c-icap's stock StartSendPercentDataAfter (2M) and MaxObjectSize (5M): the window where
 * the stock virus_scan service streams 5 % of the object back and then drops the verdict
 * (measured: 200, truncated body, no infection header).
 */
export const MID_CANARY_BYTES = 3 * 1024 * 1024;

export type CanaryName =
  | 'eicar-plain'
  | 'eicar-padded'
  | 'eicar-padded-3m'
  | 'eicar-pdf'
  | 'eicar-zip'
  | 'eicar-mime'
  | 'clean-control';

const PADDED: CanaryName[] = ['eicar-padded', 'eicar-padded-3m'];

export interface CanaryResult {
  canary: CanaryName;
  expected: 'infected' | 'clean';
  got: PartVerdict;
  /**
   * Whether the answer is safe. An honest refusal (unscanned 'too_large') of the padded canary
   * passes: it fails closed. Anything else that is not the expected verdict fails.
   */
  pass: boolean;
  bytes: number;
  ms: number;
}

export interface CanaryReport {
  ok: boolean;
  results: CanaryResult[];
  /** What exactly to change, one instruction per entry. */
  advice: string[];
  engine?: EngineInfo;
  checkedAt: number;
}

export interface Canary {
  name: CanaryName;
  expected: 'infected' | 'clean';
  data: Uint8Array;
  contentType: string;
  fileName: string;
}

const enc = new TextEncoder();

/** Clean, plain text padding: no scanner should object to it, and it cannot hide a signature. */
function padding(bytes: number): Uint8Array {
  const line = enc.encode('Unseal scanner self-test padding. This line is harmless text.\n');
  const out = new Uint8Array(bytes);
  for (let o = 0; o < bytes; o += line.length) out.set(line.subarray(0, Math.min(line.length, bytes - o)), o);
  return out;
}

/** A one-page PDF carrying the test file as an embedded file (what a PDF attachment with a payload looks like). */
export function pdfWithEmbedded(name: string, payload: Uint8Array): Uint8Array {
  const parts: Uint8Array[] = [];
  const offsets: number[] = [];
  let size = 0;
  const push = (b: Uint8Array | string) => {
    const u = typeof b === 'string' ? enc.encode(b) : b;
    parts.push(u);
    size += u.length;
  };
  push('%PDF-1.4\n%\xe2\xe3\xcf\xd3\n');
  const obj = (n: number, body: string | (() => void)) => {
    offsets[n] = size;
    push(`${n} 0 obj\n`);
    if (typeof body === 'string') push(body);
    else body();
    push('\nendobj\n');
  };
  obj(1, `<< /Type /Catalog /Pages 2 0 R /Names << /EmbeddedFiles << /Names [(${name}) 4 0 R] >> >> >>`);
  obj(2, '<< /Type /Pages /Kids [3 0 R] /Count 1 >>');
  obj(3, '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>');
  obj(4, `<< /Type /Filespec /F (${name}) /EF << /F 5 0 R >> >>`);
  obj(5, () => {
    push(`<< /Type /EmbeddedFile /Length ${payload.length} >>\nstream\n`);
    push(payload);
    push('\nendstream');
  });
  const xref = size;
  let x = `xref\n0 6\n0000000000 65535 f \n`;
  for (let i = 1; i <= 5; i++) x += `${String(offsets[i]).padStart(10, '0')} 00000 n \n`;
  push(x);
  push(`trailer\n<< /Size 6 /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`);
  return concatBytes(parts);
}

function base64Lines(data: Uint8Array): string {
  return (Buffer.from(data).toString('base64').match(/.{1,76}/g) ?? []).join('\r\n');
}

/** A mail message with the payload as a base64 attachment, as it reaches a scanner after decryption. */
export function mimeWithAttachment(fileName: string, payload: Uint8Array, contentType = 'application/octet-stream'): Uint8Array {
  const b = 'unseal-canary-boundary';
  return enc.encode(
    [
      'From: Unseal self-test <self-test@unseal.invalid>',
      'To: Unseal self-test <self-test@unseal.invalid>',
      'Subject: Unseal scanner self-test',
      'Date: Thu, 01 Jan 2026 00:00:00 +0000',
      'Message-ID: <canary@unseal.invalid>',
      'MIME-Version: 1.0',
      `Content-Type: multipart/mixed; boundary="${b}"`,
      '',
      `--${b}`,
      'Content-Type: text/plain; charset=us-ascii',
      '',
      'This message checks that the scanner looks inside attachments.',
      `--${b}`,
      `Content-Type: ${contentType}; name="${fileName}"`,
      `Content-Disposition: attachment; filename="${fileName}"`,
      'Content-Transfer-Encoding: base64',
      '',
      base64Lines(payload),
      `--${b}--`,
      '',
    ].join('\r\n'),
  );
}

/**
 * The canaries. Every infected one keeps EICAR as a whole file of its own (a zip member, a PDF
 * stream, a MIME attachment): production signature sets match EICAR by hash of the whole file,
 * so an EICAR glued to other bytes would be missed by a correctly configured scanner.
 */
export function buildCanaries(): Canary[] {
  const eicar = eicarBytes();
  const pad = padding(PADDED_CANARY_BYTES);
  const paddedZip = (bytes: number) =>
    storedZip([
      { name: 'padding.txt', data: pad.subarray(0, bytes) },
      { name: 'eicar.com', data: eicar },
    ]);
  return [
    { name: 'eicar-plain', expected: 'infected', data: eicar, contentType: 'application/octet-stream', fileName: 'eicar.com' },
    {
      // EICAR as the LAST member after 6 MiB: a scanner that only looks at a prefix, stops at a
      // size limit or skips big objects cannot see it.
      name: 'eicar-padded',
      expected: 'infected',
      data: paddedZip(PADDED_CANARY_BYTES),
      contentType: 'application/zip',
      fileName: 'large.zip',
    },
    { name: 'eicar-padded-3m', expected: 'infected', data: paddedZip(MID_CANARY_BYTES), contentType: 'application/zip', fileName: 'medium.zip' },
    { name: 'eicar-pdf', expected: 'infected', data: pdfWithEmbedded('eicar.com', eicar), contentType: 'application/pdf', fileName: 'document.pdf' },
    { name: 'eicar-zip', expected: 'infected', data: storedZip([{ name: 'eicar.com', data: eicar }]), contentType: 'application/zip', fileName: 'eicar.zip' },
    { name: 'eicar-mime', expected: 'infected', data: mimeWithAttachment('eicar.com', eicar), contentType: 'message/rfc822', fileName: 'message.eml' },
    {
      name: 'clean-control',
      expected: 'clean',
      data: enc.encode('Unseal scanner self-test: this object is harmless text and must be reported clean.\n'),
      contentType: 'text/plain',
      fileName: 'control.txt',
    },
  ];
}

function passes(c: Canary, got: PartVerdict): boolean {
  if (c.expected === 'clean') return got.verdict === 'clean';
  if (got.verdict === 'infected') return true;
  return PADDED.includes(c.name) && got.verdict === 'unscanned' && got.reason === 'too_large';
}

function flavour(kind: ScannerKind | undefined, engine: EngineInfo | undefined): 'clamd' | 'c-icap' | 'icap' | 'command' | 'unknown' {
  if (kind === 'icap') return engine && /c-icap/i.test(engine.engine) ? 'c-icap' : 'icap';
  if (kind === 'clamd') return 'clamd';
  if (kind === 'command') return 'command';
  return 'unknown';
}

export function adviceFor(results: CanaryResult[], kind: ScannerKind | undefined, engine: EngineInfo | undefined, url: string): string[] {
  const advice: string[] = [];
  const add = (s: string) => {
    if (!advice.includes(s)) advice.push(s);
  };
  const f = flavour(kind, engine);
  const clamdConf = f === 'c-icap' || f === 'icap' ? 'clamd.conf (of the clamd behind the ICAP server)' : 'clamd.conf';
  const by = new Map(results.map((r) => [r.canary, r]));
  const failed = (n: CanaryName) => by.get(n)?.pass === false;
  const got = (n: CanaryName) => by.get(n)?.got;

  const down = results.filter((r) => r.got.verdict === 'unscanned' && (r.got.reason === 'unavailable' || r.got.reason === 'timeout'));
  if (down.length > 0) {
    const g = down[0]!.got;
    add(`the scanner ${url} did not answer (${g.verdict === 'unscanned' ? g.message : ''}): start it or fix the URL, then re-run the check`);
  }
  if (failed('eicar-plain') && got('eicar-plain')?.verdict === 'clean') {
    add(
      f === 'c-icap'
        ? 'c-icap: the service reports clean without an engine: load clamd_mod (Module common clamd_mod.so, clamd_mod.ClamdSocket <clamd socket>, virus_scan.DefaultEngine clamd) and make sure clamd has signatures'
        : 'the engine does not detect the EICAR test file: make sure signatures are loaded (clamd: DatabaseDirectory with current databases; run freshclam)',
    );
  }
  const paddedFails = PADDED.filter(failed).map((n) => got(n)!);
  const paddedRefused = PADDED.map(got).filter((g) => g?.verdict === 'unscanned' && g.reason === 'too_large');
  if (paddedFails.length > 0) {
    const anyClean = paddedFails.some((g) => g.verdict === 'clean');
    const anyTruncated = paddedFails.some((g) => g.verdict === 'unscanned' && g.reason === 'engine_error');
    if (f === 'command' && anyClean) {
      add(`${clamdConf}: raise StreamMaxLength above your largest mail: clamdscan --stream silently sends only the first StreamMaxLength bytes and reports OK`);
    }
    if (f === 'clamd' || f === 'command') {
      add(`${clamdConf}: set AlertExceedsMax yes (content over MaxFileSize/MaxScanSize is otherwise reported OK without being scanned)`);
      add(`${clamdConf}: set MaxFileSize and MaxScanSize above your largest mail (e.g. MaxFileSize 100M, MaxScanSize 400M), and StreamMaxLength likewise`);
    } else if (f === 'c-icap' || f === 'icap') {
      if (anyClean) {
        add(
          f === 'c-icap'
            ? `use the avscan service URL (sizelimit=off), e.g. ${url.replace(/\/[^/]*$/, '/avscan')}, or raise virus_scan.MaxObjectSize in c-icap virus_scan.conf above your largest mail (objects over it are passed unscanned with 204)`
            : 'ICAP server: raise its maximum scanned object size above your largest mail and make it block (not pass) objects it cannot scan',
        );
      }
      if (anyTruncated) {
        add(
          f === 'c-icap'
            ? 'c-icap virus_scan.conf: set virus_scan.SendPercentData 0 and virus_scan.StartSendPercentDataAfter above virus_scan.MaxObjectSize, or use the avscan service URL (mode=simple) (the server otherwise streams a truncated object back without a verdict)'
            : 'ICAP server: disable "data trickling"/partial sending so that it returns a verdict for the whole object',
        );
      }
      add(`${clamdConf}: set AlertExceedsMax yes and MaxFileSize/MaxScanSize above your largest mail`);
    } else {
      add('the scanner misses EICAR at the end of a large object: raise its size limits and make it report objects it could not scan completely');
    }
  } else if (paddedRefused.length > 0) {
    add(
      f === 'c-icap' || f === 'icap'
        ? `optional: ${clamdConf} or the ICAP server refuses objects of a few MiB (safe, but such mail stays unscanned): raise StreamMaxLength/MaxFileSize/MaxScanSize`
        : `optional: ${clamdConf} refuses objects of a few MiB (safe, but such mail stays unscanned): raise StreamMaxLength, MaxFileSize and MaxScanSize`,
    );
  }
  if (failed('eicar-pdf')) {
    add(
      f === 'c-icap'
        ? 'c-icap virus_scan.conf: add DOCUMENT to virus_scan.ScanFileTypes (e.g. virus_scan.ScanFileTypes TEXT DATA EXECUTABLE ARCHIVE GRAPHICS STREAM DOCUMENT); PDFs are otherwise passed unscanned'
        : f === 'icap'
          ? 'ICAP server: scan all file types (PDF documents are being passed unscanned)'
          : `${clamdConf}: set ScanPDF yes`,
    );
  }
  if (failed('eicar-zip')) {
    add(f === 'c-icap' ? 'c-icap virus_scan.conf: add ARCHIVE to virus_scan.ScanFileTypes' : f === 'icap' ? 'ICAP server: scan inside archives' : `${clamdConf}: set ScanArchive yes`);
  }
  if (failed('eicar-mime')) {
    add(
      f === 'c-icap'
        ? `${clamdConf}: set ScanMail yes; c-icap virus_scan.conf: add TEXT to virus_scan.ScanFileTypes`
        : f === 'icap'
          ? 'ICAP server: scan mail messages (RFC 822) including their attachments'
          : `${clamdConf}: set ScanMail yes (attachments inside a mail message are otherwise not decoded)`,
    );
  }
  const control = by.get('clean-control');
  if (control && !control.pass) {
    if (control.got.verdict === 'infected') {
      add(`the scanner reports a harmless text object as infected (${control.got.signatures.join(', ')}): check the ICAP vendor profile (verdict headers) or the engine's signatures`);
    } else if (control.got.verdict === 'unscanned' && !down.includes(control)) {
      add(`the scanner cannot scan even a small harmless object: ${control.got.message}`);
    }
  }
  // Protocol-level trouble on any canary that no rule above explains.
  for (const r of results) {
    if (!r.pass && r.got.verdict === 'unscanned' && (r.got.reason === 'protocol_error' || r.got.reason === 'misconfigured')) {
      add(`${r.canary}: ${r.got.message}`);
    }
  }
  return advice;
}

export async function checkCanaries(scanner: Scanner, opts: { signal?: AbortSignal; timeoutMs?: number } = {}): Promise<CanaryReport> {
  const engine = await scanner.engineInfo(opts.signal).catch(() => undefined);
  const results: CanaryResult[] = [];
  // One after another: the check must not be what overloads a small scanner.
  for (const c of buildCanaries()) {
    const t0 = performance.now();
    const got = await scanner.scan(c.data, {
      name: c.fileName,
      contentType: c.contentType,
      ...(opts.signal ? { signal: opts.signal } : {}),
      ...(opts.timeoutMs ? { timeoutMs: opts.timeoutMs } : {}),
    });
    results.push({ canary: c.name, expected: c.expected, got, pass: passes(c, got), bytes: c.data.length, ms: Math.round(performance.now() - t0) });
  }
  const ok = results.every((r) => r.pass);
  const advice = adviceFor(results, scanner.kind, engine, scanner.url);
  return { ok, results, advice, ...(engine ? { engine } : {}), checkedAt: Date.now() };
}
