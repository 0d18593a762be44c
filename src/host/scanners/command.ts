import { spawn } from 'node:child_process';
import { basename } from 'node:path';
import type { EngineInfo } from '../../protocol/scan.js';
import { UnsealError } from '../../core/errors.js';
import { parseClamdVersion } from './clamd.js';
import { deadline, onePiece, SourceFailed, SourceReader, unscanned } from './net.js';
import type { Writable } from 'node:stream';
import { DEFAULT_TIMEOUT_MS, type PartVerdict, type ScanOptions, type Scanner, type StreamScanOptions } from './types.js';

const KEEP_OUTPUT = 64 * 1024;
const VERSION_TTL_MS = 10_000;

export interface CommandScannerOptions {
  timeoutMs?: number;
}

interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  spawnError?: NodeJS.ErrnoException;
  ended?: 'timeout' | 'cancelled';
  /** The input source failed: the process was killed before its stdin was closed. */
  sourceError?: SourceFailed;
}

interface RunInput {
  source: AsyncIterable<Uint8Array>;
  size?: number;
  /** Streamed: the timeout counts from the last piece. */
  streamed: boolean;
}

/** Resolves when `w` can take more (drain) or is gone (close/error): never hangs on a dead child. */
function writable(w: Writable): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      w.off('drain', done);
      w.off('close', done);
      w.off('error', done);
      resolve();
    };
    w.on('drain', done);
    w.on('close', done);
    w.on('error', done);
  });
}

/** Runs argv without a shell, feeding `input` on stdin; kills the whole run on timeout/abort. */
function run(argv: string[], input: RunInput | undefined, timeoutMs: number, signal?: AbortSignal): Promise<RunResult> {
  return new Promise((resolve) => {
    const dl = deadline(timeoutMs, signal);
    let stdout = '';
    let stderr = '';
    let spawnError: NodeJS.ErrnoException | undefined;
    let sourceError: SourceFailed | undefined;
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'], shell: false });
    const kill = () => child.kill('SIGKILL');
    dl.signal.addEventListener('abort', kill, { once: true });
    child.stdout.on('data', (d: Buffer) => {
      if (stdout.length < KEEP_OUTPUT) stdout += d.toString('utf8');
    });
    child.stderr.on('data', (d: Buffer) => {
      if (stderr.length < KEEP_OUTPUT) stderr += d.toString('utf8');
    });
    // A scanner may exit (e.g. on a usage error) before reading all of stdin: EPIPE is not our verdict.
    child.stdin.on('error', () => undefined);
    child.on('error', (e: NodeJS.ErrnoException) => {
      spawnError = e;
    });
    child.on('close', (code, sig) => {
      const ended = dl.why();
      dl.dispose();
      resolve({ code, signal: sig, stdout, stderr, spawnError, ended, ...(sourceError ? { sourceError } : {}) });
    });
    if (!input) {
      child.stdin.end();
      return;
    }
    // stdin is closed (EOF: "that is the whole object") only after the source ended normally; a
    // failing source kills the process instead, so it never reports on a truncated object.
    const src = new SourceReader(input.source, dl.signal, input.size, input.streamed ? () => dl.rearm() : undefined);
    void (async () => {
      for (;;) {
        const p = await src.next();
        if (p === undefined) break;
        if (child.stdin.destroyed) return;
        if (!child.stdin.write(p)) await writable(child.stdin);
      }
      if (input.streamed) dl.rearm();
      child.stdin.end();
    })().catch((e: unknown) => {
      sourceError = e instanceof SourceFailed ? e : new SourceFailed(e instanceof Error ? e.message : String(e));
      kill();
    });
  });
}

/** Turns a scanner's exit status and output into a verdict (clamdscan/clamscan conventions). */
export function commandVerdict(code: number | null, output: string): PartVerdict {
  const found: string[] = [];
  const limits: string[] = [];
  for (const line of output.split(/\r?\n/)) {
    const m = /: (.+) FOUND$/.exec(line.trim());
    if (!m) continue;
    const sig = m[1]!.trim();
    if (sig.startsWith('Heuristics.Limits.Exceeded')) limits.push(sig);
    else found.push(sig);
  }
  if (/size limit exceeded/i.test(output)) {
    return unscanned('too_large', `the scanner refused the input: size limit exceeded (raise StreamMaxLength in clamd.conf)`);
  }
  if (code !== 0 && /could not connect|connection refused|no such file or directory.*(socket|clamd)/i.test(output)) {
    return unscanned('unavailable', `the scanner cannot reach its engine: ${output.trim().split(/\r?\n/)[0]?.slice(0, 200) ?? ''}`);
  }
  if (code === 1 && found.length > 0) return { verdict: 'infected', signatures: found };
  if (code === 1 && limits.length > 0) {
    return unscanned('too_large', `the scanner did not scan everything: ${limits.join(', ')} (raise MaxFileSize/MaxScanSize in clamd.conf)`);
  }
  if (code === 0 && found.length === 0 && limits.length === 0) return { verdict: 'clean' };
  const tail = output.trim().split(/\r?\n/).slice(-3).join(' | ').slice(0, 300);
  return unscanned('engine_error', `the scanner exited with status ${code ?? 'none'}${tail ? `: ${tail}` : ''}`);
}

export function formatCommandUrl(argv: string[]): string {
  const plain = argv.every((a) => /^[^\s"'\\[\]]+$/.test(a));
  return `command:${plain ? argv.join(' ') : JSON.stringify(argv)}`;
}

export class CommandScanner implements Scanner {
  readonly kind = 'command' as const;
  readonly url: string;
  private readonly timeoutMs: number;
  private version: { at: number; info: EngineInfo } | undefined;

  constructor(
    private readonly argv: string[],
    opts: CommandScannerOptions = {},
  ) {
    if (argv.length === 0 || !argv[0]) throw new UnsealError('usage', 'command scanner: empty command');
    this.url = formatCommandUrl(argv);
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  }

  private get isClamd(): boolean {
    return /^clamd?scan$/.test(basename(this.argv[0]!));
  }

  /** Arguments that tell clamdscan which clamd to talk to, reused for --version/--ping. */
  private configArgs(): string[] {
    const out: string[] = [];
    for (let i = 1; i < this.argv.length; i++) {
      const a = this.argv[i]!;
      if (a.startsWith('--config-file=')) out.push(a);
      else if ((a === '--config-file' || a === '-c') && this.argv[i + 1]) out.push(a, this.argv[++i]!);
    }
    return out;
  }

  async engineInfo(signal?: AbortSignal): Promise<EngineInfo> {
    return this.fetchVersion(signal, 10_000);
  }

  private async fetchVersion(signal: AbortSignal | undefined, timeoutMs: number): Promise<EngineInfo> {
    if (this.version && Date.now() - this.version.at < VERSION_TTL_MS) return this.version.info;
    let info: EngineInfo = { engine: basename(this.argv[0]!), scanner: this.url };
    if (this.isClamd) {
      const r = await run([this.argv[0]!, '--version', ...this.configArgs()], undefined, timeoutMs, signal);
      if (r.spawnError) throw this.spawnProblem(r.spawnError);
      if (r.code !== 0) throw new UnsealError('io', `${this.url}: --version failed: ${(r.stderr || r.stdout).trim().slice(0, 300)}`);
      info = { ...parseClamdVersion(r.stdout.trim()), scanner: this.url };
    }
    this.version = { at: Date.now(), info };
    return info;
  }

  private spawnProblem(e: NodeJS.ErrnoException): UnsealError {
    return new UnsealError(
      'io',
      e.code === 'ENOENT'
        ? `scanner command not found: ${this.argv[0]} (install it or give its absolute path)`
        : `cannot run scanner command ${this.argv[0]}: ${e.message}`,
      { cause: e },
    );
  }

  async ping(signal?: AbortSignal): Promise<void> {
    const argv = this.isClamd && basename(this.argv[0]!) === 'clamdscan'
      ? [this.argv[0]!, '--ping', '1', ...this.configArgs()]
      : [this.argv[0]!, '--version'];
    const r = await run(argv, undefined, 10_000, signal);
    if (r.spawnError) throw this.spawnProblem(r.spawnError);
    if (r.ended) throw new UnsealError('io', `${this.url}: no answer to ${argv.slice(1).join(' ')} within 10 s`);
    if (r.code !== 0) {
      throw new UnsealError('io', `${this.url}: ${argv.slice(1).join(' ')} failed (is clamd running?): ${(r.stderr || r.stdout).trim().slice(0, 300)}`);
    }
  }

  async scan(data: Uint8Array, opts: ScanOptions = {}): Promise<PartVerdict> {
    return this.runScan({ source: onePiece(data), size: data.length, streamed: false }, opts);
  }

  /** Pipes the pieces into the command's stdin as they arrive. */
  async scanStream(source: AsyncIterable<Uint8Array>, opts: StreamScanOptions = {}): Promise<PartVerdict> {
    const { size, ...rest } = opts;
    return this.runScan({ source, ...(size !== undefined ? { size } : {}), streamed: true }, rest);
  }

  private async runScan(input: RunInput, opts: ScanOptions): Promise<PartVerdict> {
    const timeoutMs = opts.timeoutMs ?? this.timeoutMs;
    const t0 = Date.now();
    // The version query shares the scan's time budget: a hung engine must not cost 10 s here first.
    const engine = await this.fetchVersion(opts.signal, Math.min(timeoutMs, 10_000)).catch(() => undefined);
    const withEngine = (v: PartVerdict): PartVerdict => (engine ? { ...v, engine } : v);
    if (opts.signal?.aborted) return withEngine(unscanned('cancelled', `${this.url}: cancelled`));
    const left = timeoutMs - (Date.now() - t0);
    if (left <= 0) return withEngine(unscanned('timeout', `${this.url}: no verdict within ${timeoutMs} ms`));
    let r: RunResult;
    try {
      r = await run(this.argv, input, left, opts.signal);
    } catch (e) {
      // spawn() throws synchronously on invalid arguments (e.g. a NUL byte in argv).
      return withEngine(unscanned('engine_error', `${this.url}: cannot run: ${e instanceof Error ? e.message : String(e)}`));
    }
    if (r.spawnError) {
      return withEngine(unscanned('unavailable', this.spawnProblem(r.spawnError).message));
    }
    if (r.ended === 'timeout') return withEngine(unscanned('timeout', `${this.url}: no verdict within ${timeoutMs} ms (killed)`));
    if (r.ended === 'cancelled') return withEngine(unscanned('cancelled', `${this.url}: cancelled`));
    if (r.sourceError) return withEngine(unscanned('cancelled', `${this.url}: ${r.sourceError.message}; the scanner was stopped without a verdict`));
    if (r.signal) return withEngine(unscanned('engine_error', `${this.url}: killed by ${r.signal}`));
    const v = commandVerdict(r.code, `${r.stdout}\n${r.stderr}`);
    return withEngine(v.verdict === 'unscanned' ? { ...v, message: `${this.url}: ${v.message}` } : v);
  }

  async close(): Promise<void> {
    this.version = undefined;
  }
}
