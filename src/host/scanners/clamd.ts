import type { Socket } from 'node:net';
import type { EngineInfo } from '../../protocol/scan.js';
import { UnsealError } from '../../core/errors.js';
import {
  deadline,
  describeEndpoint,
  failureToVerdict,
  onePiece,
  openSocket,
  PeerClosed,
  ScanFailure,
  SocketReader,
  SourceFailed,
  SourceReader,
  TooLong,
  unscanned,
  writeAll,
  type Endpoint,
} from './net.js';
import { DEFAULT_TIMEOUT_MS, type PartVerdict, type ScanOptions, type Scanner, type StreamScanOptions } from './types.js';

const CHUNK = 64 * 1024;
const MAX_REPLY = 64 * 1024;
/**
 * How long a VERSION answer is reused. Staleness is safe in one direction only: the version is
 * fetched BEFORE the scan, so a verdict never claims a newer database than the one that produced
 * it (a reload mid-scan at worst causes one extra re-scan later, never a skipped one).
 */
const VERSION_TTL_MS = 10_000;

export interface ClamdOptions {
  timeoutMs?: number;
}

/** `ClamAV 1.4.6/27531/Tue Dec  2 09:24:01 2026` → engine + signatures. */
export function parseClamdVersion(reply: string): { engine: string; signatures?: string } {
  const text = reply.replace(/[\0\n]+$/, '').trim();
  const slash = text.indexOf('/');
  if (slash < 0) return { engine: text };
  return { engine: text.slice(0, slash), signatures: text.slice(slash + 1) };
}

/** Maps a clamd INSTREAM reply (without terminator) to a verdict. */
export function parseClamdReply(reply: string): PartVerdict {
  const lines = reply
    .split(/[\0\n]/)
    .map((l) => l.trim())
    .filter((l) => l.length > 0);
  if (lines.length === 0) return unscanned('engine_error', 'clamd sent an empty reply');
  const found: string[] = [];
  const limits: string[] = [];
  for (const raw of lines) {
    // Session replies are prefixed with the request id ("1: stream: OK").
    const line = raw.replace(/^\d+: /, '');
    if (/size limit exceeded/i.test(line)) {
      return unscanned('too_large', `clamd refused the stream: ${line} (raise StreamMaxLength in clamd.conf)`);
    }
    const m = /^(?:[^:]*: )?(.+) FOUND$/.exec(line);
    if (m) {
      const sig = m[1]!.trim();
      // AlertExceedsMax reports "I stopped looking" as a detection. It is neither a virus nor clean.
      if (sig.startsWith('Heuristics.Limits.Exceeded')) limits.push(sig);
      else found.push(sig);
      continue;
    }
    if (/ ERROR$/.test(line)) return unscanned('engine_error', `clamd: ${line}`);
    if (/^(?:[^:]*: )?OK$/.test(line)) continue;
    return unscanned('protocol_error', `clamd sent an unexpected reply: ${JSON.stringify(line.slice(0, 200))}`);
  }
  if (found.length > 0) return { verdict: 'infected', signatures: found };
  if (limits.length > 0) {
    return unscanned(
      'too_large',
      `clamd did not scan everything: ${limits.join(', ')} (raise MaxFileSize/MaxScanSize/MaxRecursion in clamd.conf)`,
    );
  }
  return { verdict: 'clean' };
}

export class ClamdScanner implements Scanner {
  readonly kind = 'clamd' as const;
  private version: { at: number; info: EngineInfo } | undefined;
  private readonly timeoutMs: number;

  constructor(
    readonly url: string,
    private readonly endpoint: Endpoint,
    opts: ClamdOptions = {},
  ) {
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  }

  private async command(cmd: string, signal: AbortSignal | undefined, what: string): Promise<string> {
    const dl = deadline(Math.min(this.timeoutMs, 10_000), signal);
    let sock: Socket | undefined;
    try {
      sock = await openSocket(this.endpoint, dl.signal, what);
      const s = sock;
      dl.signal.addEventListener('abort', () => s.destroy(), { once: true });
      const reader = new SocketReader(s);
      s.write(`z${cmd}\0`);
      return (await reader.readUntil(0, MAX_REPLY)).toString('utf8');
    } catch (e) {
      if (dl.why()) throw dl.failure(what);
      if (e instanceof ScanFailure) throw e;
      throw new ScanFailure('engine_error', `${what}: ${e instanceof Error ? e.message : String(e)}`);
    } finally {
      sock?.destroy();
      dl.dispose();
    }
  }

  async engineInfo(signal?: AbortSignal): Promise<EngineInfo> {
    if (this.version && Date.now() - this.version.at < VERSION_TTL_MS) return this.version.info;
    try {
      const v = parseClamdVersion(await this.command('VERSION', signal, `clamd ${this.url} VERSION`));
      const info: EngineInfo = { ...v, scanner: this.url };
      this.version = { at: Date.now(), info };
      return info;
    } catch (e) {
      throw this.ioError(e);
    }
  }

  async ping(signal?: AbortSignal): Promise<void> {
    let reply: string;
    try {
      reply = await this.command('PING', signal, `clamd ${this.url} PING`);
    } catch (e) {
      throw this.ioError(e);
    }
    if (reply !== 'PONG') throw new UnsealError('io', `clamd at ${this.url} answered PING with ${JSON.stringify(reply)}, not PONG`);
  }

  private ioError(e: unknown): UnsealError {
    const detail = e instanceof Error ? e.message : String(e);
    const hint =
      this.endpoint.type === 'unix'
        ? `is clamd running and is LocalSocket ${this.endpoint.path} in clamd.conf (readable: LocalSocketMode 666 or group)?`
        : `is clamd running with TCPSocket ${this.endpoint.port} / TCPAddr ${this.endpoint.host} in clamd.conf?`;
    return new UnsealError('io', `clamd at ${this.url} is not reachable (${detail}); ${hint}`, { cause: e });
  }

  async scan(data: Uint8Array, opts: ScanOptions = {}): Promise<PartVerdict> {
    return this.instream(onePiece(data), { ...opts, size: data.length }, false);
  }

  /** INSTREAM as the pieces arrive; the zero-length terminator only after the source ended normally. */
  async scanStream(source: AsyncIterable<Uint8Array>, opts: StreamScanOptions = {}): Promise<PartVerdict> {
    return this.instream(source, opts, true);
  }

  private async instream(source: AsyncIterable<Uint8Array>, opts: StreamScanOptions, streamed: boolean): Promise<PartVerdict> {
    const what = `clamd ${this.url}`;
    const dl = deadline(opts.timeoutMs ?? this.timeoutMs, opts.signal);
    let engine: EngineInfo | undefined;
    let sock: Socket | undefined;
    const src = new SourceReader(source, dl.signal, opts.size, streamed ? () => dl.rearm() : undefined);
    try {
      engine = await this.engineInfo(dl.signal).catch(() => undefined);
      if (dl.why()) throw dl.failure(what);
      sock = await openSocket(this.endpoint, dl.signal, what);
      const s = sock;
      dl.signal.addEventListener('abort', () => s.destroy(), { once: true });
      const reader = new SocketReader(s);
      const replyP = reader.readUntil(0, MAX_REPLY);
      // The reply may arrive (and the socket close) while we are still writing, e.g. on
      // StreamMaxLength: the writer just stops and the reply decides.
      replyP.catch(() => undefined);
      const progress = { sent: 0 };
      const uploaded = await this.upload(s, src, reader, progress);
      if (streamed) dl.rearm();
      let reply: string;
      try {
        reply = (await replyP).toString('utf8');
      } catch (e) {
        if (dl.why()) throw dl.failure(what);
        if (e instanceof TooLong) throw new ScanFailure('protocol_error', `${what}: ${e.message}`);
        if (!(e instanceof PeerClosed)) throw e;
        if (uploaded) throw new ScanFailure('engine_error', `${what} closed the connection without a verdict (clamd crashed or was stopped?)`);
        throw await this.explainReset(progress.sent, opts.size, dl);
      }
      const v = parseClamdReply(reply);
      return engine ? { ...v, engine } : v;
    } catch (e) {
      const v = dl.why()
        ? failureToVerdict(dl.failure(what), what)
        : e instanceof SourceFailed
          ? unscanned('cancelled', `${what}: ${e.message}; the stream was abandoned without a verdict`)
          : failureToVerdict(e, what);
      return engine ? { ...v, engine } : v;
    } finally {
      sock?.destroy();
      dl.dispose();
    }
  }

  /**
   * clamd refuses an over-long stream by writing "INSTREAM size limit exceeded" and closing while
   * our next chunks are still in flight; the kernel then resets the connection and the reply is
   * often lost (measured: ~half the time over TCP, ~1 in 40 over a Unix socket). A clamd that still
   * answers PING right after did that on purpose; one that does not has gone away.
   */
  private async explainReset(sent: number, total: number | undefined, dl: { signal: AbortSignal }): Promise<ScanFailure> {
    const what = `clamd ${this.url}`;
    const of = total === undefined ? `${sent}` : `${sent} of ${total}`;
    const alive = await this.command('PING', dl.signal, `${what} PING`).then(
      (r) => r === 'PONG',
      () => false,
    );
    return alive
      ? new ScanFailure(
          'too_large',
          `${what} cut the stream off after ${of} bytes without a verdict and is still running: the object exceeds clamd's StreamMaxLength (raise it in clamd.conf)`,
        )
      : new ScanFailure('engine_error', `${what} went away during the scan after ${of} bytes (crashed or stopped?)`);
  }

  /**
   * Streams `zINSTREAM` chunks; false if the connection went away before the terminator was sent.
   * Throws SourceFailed (without writing the terminator) when the source does not deliver the object.
   */
  private async upload(sock: Socket, src: SourceReader, reader: SocketReader, progress: { sent: number }): Promise<boolean> {
    if (!(await writeAll(sock, Buffer.from('zINSTREAM\0', 'latin1')))) return false;
    for (;;) {
      const part = await src.next(CHUNK);
      if (part === undefined) break;
      // clamd only speaks before the end of the stream to refuse it; stop feeding it.
      if (reader.buffered > 0 || reader.closed) return false;
      // Length prefix and payload in one writev, without copying the payload into a new frame.
      const head = Buffer.allocUnsafe(4);
      head.writeUInt32BE(part.length, 0);
      if (!(await writeAll(sock, head, part))) return false;
      progress.sent += part.length;
    }
    return writeAll(sock, Buffer.alloc(4));
  }

  async close(): Promise<void> {
    this.version = undefined;
  }

  toString(): string {
    return `clamd(${describeEndpoint(this.endpoint)})`;
  }
}
