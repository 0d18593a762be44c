import type { Socket } from 'node:net';
import { isIP } from 'node:net';
import type { ConnectionOptions } from 'node:tls';
import type { EngineInfo } from '../../protocol/scan.js';
import { UnsealError } from '../../core/errors.js';
import {
  DEFAULT_PROFILE,
  Headers,
  IcapParseError,
  nameFromBlockPage,
  parseEncapsulated,
  parseHttpStatusLine,
  parseIcapStatusLine,
  parseHeaderLines,
  parseOptionsResponse,
  reasonForStatus,
  splitHeaderBlock,
  verdictFromHeaders,
  type IcapOptionsInfo,
  type IcapProfile,
  type StatusLine,
} from './icap-parse.js';
import {
  deadline,
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
  type Deadline,
  type Endpoint,
} from './net.js';
import { DEFAULT_TIMEOUT_MS, type PartVerdict, type ScanOptions, type Scanner, type StreamScanOptions } from './types.js';

const CHUNK = 64 * 1024;
const MAX_HEADER_BYTES = 64 * 1024;
/** How much of a replaced body we keep to look for a virus name in a vendor's block page. */
const KEEP_BODY = 64 * 1024;
/** Re-read OPTIONS at least this often even if the server allows longer: ISTag is the re-scan key. */
const MAX_OPTIONS_TTL_S = 3600;
const DEFAULT_OPTIONS_TTL_S = 300;

export interface IcapTlsOptions {
  ca?: string | Buffer | Array<string | Buffer>;
  cert?: string | Buffer;
  key?: string | Buffer;
  /** Default true. Turning it off is for lab setups only. */
  rejectUnauthorized?: boolean;
  servername?: string;
}

export interface IcapScannerOptions {
  timeoutMs?: number;
  profile?: IcapProfile;
  tls?: IcapTlsOptions;
}

export interface IcapTarget {
  /** `icap://host:port/service?query` without credentials: the ICAP request URI and the public URL. */
  uri: string;
  host: string;
  port: number;
  secure: boolean;
  /** `user:password` from the URL, sent as Basic authorization. */
  credentials?: string;
}

/**
 * TLS options for icaps://. SNI must carry a host name, never an IP literal (RFC 6066; Node warns),
 * and certificate checking stays on unless explicitly disabled.
 */
export function icapTlsOptions(target: IcapTarget, tls: IcapTlsOptions = {}): ConnectionOptions | undefined {
  if (!target.secure) return undefined;
  const servername = tls.servername ?? (isIP(target.host) ? undefined : target.host);
  const out: ConnectionOptions = {
    rejectUnauthorized: tls.rejectUnauthorized ?? true,
  };
  if (servername) out.servername = servername;
  if (tls.ca !== undefined) out.ca = tls.ca;
  if (tls.cert !== undefined) out.cert = tls.cert;
  if (tls.key !== undefined) out.key = tls.key;
  return out;
}

interface IcapResponse {
  status: StatusLine;
  headers: Headers;
  http?: { status?: StatusLine; headers: Headers };
  body?: { identical: boolean; isPrefix: boolean; received: number; kept: Buffer };
}

function sanitizeToken(s: string): string {
  return s.replace(/[^\x20-\x7e]/g, '_').replace(/["\\]/g, '_');
}

function chunkHeader(n: number): Buffer {
  return Buffer.from(`${n.toString(16)}\r\n`, 'latin1');
}

const CRLF = Buffer.from('\r\n', 'latin1');

/**
 * The pieces sent so far (views, no copies): an echoed body is compared with them. `total` is the
 * announced size of the whole object.
 */
export class SentLog {
  private readonly pieces: Uint8Array[] = [];
  private readonly starts: number[] = [];
  length = 0;
  constructor(readonly total: number) {}

  push(p: Uint8Array): void {
    this.pieces.push(p);
    this.starts.push(this.length);
    this.length += p.length;
  }

  /** Whether `piece` equals the sent bytes at `offset` (false if they were not all sent). */
  matches(offset: number, piece: Uint8Array): boolean {
    if (offset + piece.length > this.length) return false;
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.starts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    let done = 0;
    for (let i = lo; done < piece.length; i++) {
      const src = this.pieces[i]!;
      const from = offset + done - this.starts[i]!;
      const n = Math.min(src.length - from, piece.length - done);
      if (!Buffer.from(src.buffer, src.byteOffset + from, n).equals(piece.subarray(done, done + n))) return false;
      done += n;
    }
    return true;
  }
}

class Semaphore {
  private active = 0;
  private waiters: (() => void)[] = [];
  constructor(public limit: number) {}
  async acquire(signal: AbortSignal): Promise<() => void> {
    if (this.active >= this.limit) {
      await new Promise<void>((resolve, reject) => {
        const w = () => {
          signal.removeEventListener('abort', onAbort);
          resolve();
        };
        const onAbort = () => {
          this.waiters = this.waiters.filter((x) => x !== w);
          reject(new Error('aborted while waiting for a free ICAP connection'));
        };
        this.waiters.push(w);
        signal.addEventListener('abort', onAbort, { once: true });
      });
    }
    this.active++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.active--;
      this.waiters.shift()?.();
    };
  }
}

export class IcapScanner implements Scanner {
  readonly kind = 'icap' as const;
  readonly url: string;
  private readonly endpoint: Endpoint;
  private readonly timeoutMs: number;
  private readonly profile: IcapProfile;
  private options: { at: number; ttlMs: number; info: IcapOptionsInfo } | undefined;
  private optionsInFlight: Promise<IcapOptionsInfo> | undefined;
  private readonly slots = new Semaphore(Number.POSITIVE_INFINITY);

  constructor(
    private readonly target: IcapTarget,
    opts: IcapScannerOptions = {},
  ) {
    this.url = target.uri;
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.profile = opts.profile ?? DEFAULT_PROFILE;
    this.endpoint = { type: 'tcp', host: target.host, port: target.port, tls: icapTlsOptions(target, opts.tls) };
  }

  private commonHeaders(): string {
    const auth = this.target.credentials
      ? `Authorization: Basic ${Buffer.from(this.target.credentials).toString('base64')}\r\n`
      : '';
    return `Host: ${this.target.host}:${this.target.port}\r\nUser-Agent: Unseal\r\n${auth}`;
  }

  private async getOptions(dl: Deadline): Promise<IcapOptionsInfo> {
    const o = this.options;
    if (o && Date.now() - o.at < o.ttlMs) return o.info;
    this.optionsInFlight ??= this.fetchOptions(dl).finally(() => {
      this.optionsInFlight = undefined;
    });
    return this.optionsInFlight;
  }

  private async fetchOptions(dl: Deadline): Promise<IcapOptionsInfo> {
    const what = `ICAP ${this.url} OPTIONS`;
    let sock: Socket | undefined;
    try {
      sock = await openSocket(this.endpoint, dl.signal, what);
      const s = sock;
      const onAbort = () => s.destroy();
      dl.signal.addEventListener('abort', onAbort, { once: true });
      const reader = new SocketReader(s);
      s.write(`OPTIONS ${this.url} ICAP/1.0\r\n${this.commonHeaders()}Encapsulated: null-body=0\r\n\r\n`);
      const { status, headers } = await readIcapHead(reader);
      dl.signal.removeEventListener('abort', onAbort);
      if (status.code !== 200) {
        throw new ScanFailure(reasonForStatus(status.code), `${what}: ${status.code} ${status.reason}`);
      }
      const info = parseOptionsResponse(headers);
      const ttl = Math.min(info.ttlSeconds ?? DEFAULT_OPTIONS_TTL_S, MAX_OPTIONS_TTL_S);
      this.options = { at: Date.now(), ttlMs: ttl * 1000, info };
      if (info.maxConnections && info.maxConnections > 0) this.slots.limit = info.maxConnections;
      return info;
    } catch (e) {
      throw this.asFailure(e, dl, what);
    } finally {
      sock?.destroy();
    }
  }

  private asFailure(e: unknown, dl: Deadline, what: string): ScanFailure {
    if (dl.why()) return dl.failure(what);
    if (e instanceof ScanFailure) return e;
    if (e instanceof IcapParseError || e instanceof TooLong) return new ScanFailure('protocol_error', `${what}: ${e.message}`);
    if (e instanceof PeerClosed) return new ScanFailure('engine_error', `${what}: the server closed the connection before a complete answer (${e.message})`);
    return new ScanFailure('engine_error', `${what}: ${e instanceof Error ? e.message : String(e)}`);
  }

  async engineInfo(signal?: AbortSignal): Promise<EngineInfo> {
    const dl = deadline(Math.min(this.timeoutMs, 10_000), signal);
    try {
      const o = await this.getOptions(dl);
      return { engine: o.service ?? 'ICAP server', signatures: o.istag, scanner: this.url };
    } catch (e) {
      throw this.ioError(e);
    } finally {
      dl.dispose();
    }
  }

  async ping(signal?: AbortSignal): Promise<void> {
    const dl = deadline(Math.min(this.timeoutMs, 10_000), signal);
    let o: IcapOptionsInfo;
    try {
      this.options = undefined;
      o = await this.getOptions(dl);
    } catch (e) {
      throw this.ioError(e);
    } finally {
      dl.dispose();
    }
    if (!o.methods.includes('RESPMOD')) {
      throw new UnsealError(
        'io',
        `ICAP service ${this.url} does not offer RESPMOD (Methods: ${o.methods.join(', ') || 'none'}); use the server's anti-virus service URL (c-icap: /avscan)`,
      );
    }
  }

  private ioError(e: unknown): UnsealError {
    const detail = e instanceof Error ? e.message : String(e);
    return new UnsealError(
      'io',
      `ICAP server ${this.url} is not usable (${detail}); check that it is running, the host/port, and the service name${this.target.secure ? ', and its TLS certificate (NODE_EXTRA_CA_CERTS)' : ''}`,
      { cause: e },
    );
  }

  async scan(data: Uint8Array, opts: ScanOptions = {}): Promise<PartVerdict> {
    return this.respmodScan(onePiece(data), data.length, opts, false);
  }

  /**
   * RESPMOD with the body sent as the pieces arrive. ICAP needs the size up front (Content-Length
   * of the synthetic HTTP response): without `opts.size` the pieces are collected first.
   */
  async scanStream(source: AsyncIterable<Uint8Array>, opts: StreamScanOptions = {}): Promise<PartVerdict> {
    const { size, ...rest } = opts;
    if (size === undefined) {
      const pieces: Uint8Array[] = [];
      try {
        const r = new SourceReader(source, opts.signal ?? new AbortController().signal, undefined);
        for (let p = await r.next(); p !== undefined; p = await r.next()) pieces.push(p);
      } catch (e) {
        return unscanned('cancelled', `ICAP ${this.url}: ${e instanceof Error ? e.message : String(e)}; nothing was scanned`);
      }
      return this.scan(Buffer.concat(pieces), rest);
    }
    return this.respmodScan(source, size, rest, true);
  }

  private async respmodScan(source: AsyncIterable<Uint8Array>, size: number, opts: ScanOptions, streamed: boolean): Promise<PartVerdict> {
    const what = `ICAP ${this.url}`;
    const dl = deadline(opts.timeoutMs ?? this.timeoutMs, opts.signal);
    let engine: EngineInfo | undefined;
    let release: (() => void) | undefined;
    let sock: Socket | undefined;
    const withEngine = (v: PartVerdict): PartVerdict => (engine ? { ...v, engine } : v);
    const body = { src: new SourceReader(source, dl.signal, size, streamed ? () => dl.rearm() : undefined), sent: new SentLog(size), streamed, dl };
    try {
      const o = await this.getOptions(dl);
      engine = { engine: o.service ?? 'ICAP server', signatures: o.istag, scanner: this.url };
      if (o.methods.length > 0 && !o.methods.includes('RESPMOD')) {
        return withEngine(
          unscanned('misconfigured', `${what} does not offer RESPMOD (Methods: ${o.methods.join(', ')}); use the anti-virus service URL`),
        );
      }
      release = await this.slots.acquire(dl.signal).catch(() => {
        throw dl.failure(what);
      });
      sock = await openSocket(this.endpoint, dl.signal, what);
      const s = sock;
      dl.signal.addEventListener('abort', () => s.destroy(), { once: true });
      const reader = new SocketReader(s);
      const res = await this.respmod(s, reader, body, opts, o.preview);
      const istag = res.headers.get('ISTag')?.replace(/^"(.*)"$/, '$1');
      if (istag && istag !== o.istag) {
        // The engine or its signatures changed under us: report what answered, refresh OPTIONS next time.
        engine = { ...engine, signatures: istag };
        this.options = undefined;
      }
      return withEngine(this.verdict(res, size));
    } catch (e) {
      if (!dl.why() && e instanceof SourceFailed) {
        return withEngine(unscanned('cancelled', `${what}: ${e.message}; the request was abandoned without a verdict`));
      }
      return withEngine(failureToVerdict(this.asFailure(e, dl, what), what));
    } finally {
      sock?.destroy();
      release?.();
      dl.dispose();
    }
  }

  private async respmod(
    sock: Socket,
    reader: SocketReader,
    body: { src: SourceReader; sent: SentLog; streamed: boolean; dl: Deadline },
    opts: ScanOptions,
    serverPreview: number | undefined,
  ): Promise<IcapResponse> {
    const size = body.sent.total;
    const name = sanitizeToken(opts.name ?? 'message');
    const ct = sanitizeToken(opts.contentType ?? 'application/octet-stream');
    const reqHdr = `GET http://unseal.invalid/${encodeURIComponent(name)} HTTP/1.1\r\nHost: unseal.invalid\r\n\r\n`;
    const resHdr =
      `HTTP/1.1 200 OK\r\nContent-Type: ${ct}\r\nContent-Length: ${size}\r\n` +
      `Content-Disposition: attachment; filename="${name}"\r\n\r\n`;
    const preview = serverPreview === undefined ? undefined : Math.min(serverPreview, size);
    const ieof = preview !== undefined && preview === size;
    const head =
      `RESPMOD ${this.url} ICAP/1.0\r\n${this.commonHeaders()}Allow: 204\r\n` +
      (preview !== undefined ? `Preview: ${preview}\r\n` : '') +
      `Encapsulated: req-hdr=0, res-hdr=${Buffer.byteLength(reqHdr)}, res-body=${Buffer.byteLength(reqHdr) + Buffer.byteLength(resHdr)}\r\n\r\n` +
      reqHdr +
      resHdr;

    if (preview === undefined) {
      // No preview: stream everything, but read concurrently — a server may answer (and close)
      // before the body is complete. A source that fails takes the connection down with it, so
      // the server never sees the terminating chunk.
      let failed: unknown;
      const writer = (async () => {
        if (!(await writeAll(sock, Buffer.from(head, 'latin1')))) return;
        await this.writeBody(sock, reader, body);
      })();
      writer.catch((e: unknown) => {
        failed = e;
        sock.destroy();
      });
      try {
        return await this.readFinal(reader, body.sent, true);
      } catch (e) {
        throw failed ?? e;
      }
    }

    // The preview bytes (and, with ieof, the proof that there is nothing more) come from the source
    // before anything is written: head, preview and terminator go out in one write.
    const first: Uint8Array[] = [];
    for (let got = 0; got < preview; ) {
      const p = await body.src.next(preview - got);
      if (p === undefined) break;
      first.push(p);
      body.sent.push(p);
      got += p.length;
    }
    if (ieof && (await body.src.next()) !== undefined) throw new SourceFailed('the object is longer than announced');
    await writeAll(
      sock,
      Buffer.concat([
        Buffer.from(head, 'latin1'),
        ...(preview > 0 ? [chunkHeader(preview), ...first, CRLF] : []),
        Buffer.from(ieof ? '0; ieof\r\n\r\n' : '0\r\n\r\n', 'latin1'),
      ]),
    );
    if (body.streamed) body.dl.rearm();
    if (ieof) return this.readFinal(reader, body.sent, true);
    const res = await this.readResponse(reader, body.sent);
    if (res.status.code !== 100) return res;
    await this.writeBody(sock, reader, body);
    return this.readFinal(reader, body.sent, false);
  }

  /** Reads responses until one is final; a 100 is only legitimate while the server still waits for data. */
  private async readFinal(reader: SocketReader, sent: SentLog, ignore100: boolean): Promise<IcapResponse> {
    for (;;) {
      const r = await this.readResponse(reader, sent);
      if (r.status.code !== 100) return r;
      if (!ignore100) throw new IcapParseError('server sent 100 Continue after the whole body');
      // After ieof (or with everything sent) a 100 carries no meaning; some servers send it anyway.
      ignore100 = true;
    }
  }

  /** The rest of the body as chunks; the terminating chunk only once the source ended normally. */
  private async writeBody(sock: Socket, reader: SocketReader, body: { src: SourceReader; sent: SentLog; streamed: boolean; dl: Deadline }): Promise<void> {
    for (;;) {
      // Anything the server says now is its final answer: stop feeding it.
      if (reader.buffered > 0 || reader.closed) return;
      const part = await body.src.next(CHUNK);
      if (part === undefined) break;
      body.sent.push(part);
      if (!(await writeAll(sock, Buffer.concat([chunkHeader(part.length), part, CRLF])))) return;
    }
    await writeAll(sock, Buffer.from('0\r\n\r\n', 'latin1'));
    if (body.streamed) body.dl.rearm();
  }

  private async readResponse(reader: SocketReader, sent: SentLog): Promise<IcapResponse> {
    const { status, headers } = await readIcapHead(reader);
    if (status.code === 100 || status.code === 204) return { status, headers };
    const encValue = headers.get('Encapsulated');
    if (encValue === undefined) return { status, headers };
    const enc = parseEncapsulated(encValue);
    const res: IcapResponse = { status, headers };
    if (enc.bodyOffset > MAX_HEADER_BYTES) throw new IcapParseError(`encapsulated headers of ${enc.bodyOffset} bytes`);
    const hdrBytes = enc.bodyOffset > 0 ? (await reader.readExact(enc.bodyOffset)).toString('latin1') : '';
    const resHdr = enc.sections.find((s) => s.name === 'res-hdr');
    if (resHdr) {
      const next = enc.sections.find((s) => s.offset > resHdr.offset);
      const block = hdrBytes.slice(resHdr.offset, next ? next.offset : undefined).replace(/\r?\n\r?\n$/, '');
      const { start, headers: httpHeaders } = splitHeaderBlock(block);
      res.http = { status: parseHttpStatusLine(start), headers: httpHeaders };
    }
    if (enc.body) res.body = await readChunkedCompare(reader, sent);
    else if (status.code >= 200 && status.code < 300) res.body = { identical: sent.total === 0, isPrefix: true, received: 0, kept: Buffer.alloc(0) };
    return res;
  }

  private verdict(res: IcapResponse, sentLength: number): PartVerdict {
    const code = res.status.code;
    const hv = verdictFromHeaders(res.headers, this.profile);
    // Some vendors put the verdict headers on the encapsulated HTTP response instead.
    const hh = res.http ? verdictFromHeaders(res.http.headers, this.profile) : { names: [], blocked: false };
    const names = [...new Set([...hv.names, ...hh.names])];
    const blocked = hv.blocked || hh.blocked;
    if (blocked) return { verdict: 'infected', signatures: names.length > 0 ? names : [`ICAP-${code}-blocked`] };
    if (code === 204) return { verdict: 'clean' };
    if (code === 403) return { verdict: 'infected', signatures: [`ICAP-403 ${res.status.reason}`.trim()] };
    if (code === 200 || code === 201 || code === 206) {
      const httpCode = res.http?.status?.code;
      const page = res.body && !res.body.isPrefix ? res.body.kept.toString('latin1') : '';
      if (httpCode === 403) {
        const n = nameFromBlockPage(page);
        return { verdict: 'infected', signatures: [n ?? `HTTP-403 ${res.http?.status?.reason ?? ''}`.trim()] };
      }
      if (httpCode !== undefined && httpCode !== 200) {
        return unscanned('engine_error', `ICAP ${this.url} replaced the object with HTTP ${httpCode} ${res.http?.status?.reason ?? ''} without naming a threat`);
      }
      if (code === 200 && res.body?.identical) return { verdict: 'clean' };
      if (res.body && !res.body.isPrefix) {
        const n = nameFromBlockPage(page);
        if (n) return { verdict: 'infected', signatures: [n] };
      }
      const got = res.body ? `${res.body.received} of ${sentLength} bytes${res.body.isPrefix ? ', truncated' : ', altered'}` : 'no body';
      return unscanned(
        'engine_error',
        `ICAP ${this.url} answered ${code} with a modified object (${got}) and no verdict header: not a positive clean answer (c-icap: SendPercentData/MaxObjectSize?)`,
      );
    }
    return unscanned(reasonForStatus(code), `ICAP ${this.url} answered ${code} ${res.status.reason}`.trim());
  }

  async close(): Promise<void> {
    this.options = undefined;
  }
}

/** Status line + ICAP headers (until the empty line). */
async function readIcapHead(reader: SocketReader): Promise<{ status: StatusLine; headers: Headers }> {
  const first = (await reader.readUntil('\n', 8192)).toString('latin1').replace(/\r$/, '');
  const status = parseIcapStatusLine(first);
  const lines: string[] = [];
  let total = 0;
  for (;;) {
    const line = (await reader.readUntil('\n', MAX_HEADER_BYTES)).toString('latin1').replace(/\r$/, '');
    if (line === '') break;
    total += line.length;
    if (total > MAX_HEADER_BYTES) throw new TooLong(MAX_HEADER_BYTES);
    lines.push(line);
  }
  return { status, headers: parseHeaderLines(lines) };
}

/**
 * Reads a chunked body, comparing it with what was sent instead of storing it: a 25 MB echo
 * costs no memory, and "identical" is exact rather than a length check.
 */
async function readChunkedCompare(
  reader: SocketReader,
  sent: SentLog,
): Promise<{ identical: boolean; isPrefix: boolean; received: number; kept: Buffer }> {
  let received = 0;
  let isPrefix = true;
  const kept: Buffer[] = [];
  let keptLen = 0;
  for (;;) {
    const line = (await reader.readUntil('\n', 1024)).toString('latin1').replace(/\r$/, '');
    const m = /^([0-9a-fA-F]+)\s*(?:;.*)?$/.exec(line);
    if (!m) throw new IcapParseError(`bad chunk size line: ${JSON.stringify(line.slice(0, 80))}`);
    const size = Number.parseInt(m[1]!, 16);
    if (size === 0) {
      // Trailer fields until the empty line.
      for (;;) {
        const t = (await reader.readUntil('\n', 8192)).toString('latin1').replace(/\r$/, '');
        if (t === '') break;
      }
      break;
    }
    let left = size;
    while (left > 0) {
      const piece = await reader.readSome(left);
      left -= piece.length;
      if (isPrefix) {
        if (!sent.matches(received, piece)) isPrefix = false;
      }
      if (keptLen < KEEP_BODY) {
        const k = piece.subarray(0, KEEP_BODY - keptLen);
        kept.push(Buffer.from(k));
        keptLen += k.length;
      }
      received += piece.length;
    }
    const crlf = (await reader.readUntil('\n', 16)).toString('latin1');
    if (crlf !== '' && crlf !== '\r') throw new IcapParseError('chunk not followed by CRLF');
  }
  return { identical: isPrefix && received === sent.total, isPrefix, received, kept: Buffer.concat(kept) };
}
