/**
 * The add-on's client for the Unseal native-messaging host (`unseal_host`): protocol in
 * src/protocol/native.ts, described for people in docs/native-host.md.
 *
 * Shape (after Bitwarden's nativeMessaging.background.ts, style-by-example practice 9): one port,
 * one pending-call map keyed by correlation id, a timeout on every call, and every pending call
 * failed when the port goes away. Scans are multiplexed on the same port by `scanId`.
 *
 * Trust: nothing the host sends is used before `parseResponse` accepted it, and a reply must also
 * fit the request it answers (type, scanId, seq, running byte count). Anything else is a
 * `protocol_error` — never a verdict. `scan()` turns every host or transport failure into an
 * `unscanned` verdict, so the caller's rule "render only on clean" needs no try/catch to be safe.
 *
 * Connections: lazy. The first call connects and sends `hello`; every other request on that
 * connection waits for the hello to succeed. After a disconnect the next call reconnects; after a
 * connection that failed before its hello (host missing, crashed at start, incompatible), calls
 * fail fast with the same error until a backoff has passed, so a missing host does not spin.
 */
import { base64Decode, base64Encode, sha256Hex } from '../core/bytes.js';
import type { RemoteUnwrapRequest } from '../core/cms/decrypt.js';
import { UnsealError } from '../core/errors.js';
import {
  AUDIT_READ_MAX_LIMIT,
  NATIVE_HOST_NAME,
  PROTOCOL_VERSION,
  RECOMMENDED_CHUNK_BYTES,
  isProtocolError,
  parseAuditEvent,
  parseResponse,
  type AuditEvent,
  type AuditLogRecord,
  type CanaryStatus,
  type ManagedKeyInfo,
  type ProtocolErrorKind,
  type Request,
  type Response,
  type ScanMeta,
} from '../protocol/native.js';
import type { EngineInfo, ScanVerdict, UnscannedReason } from '../protocol/scan.js';
import { webext } from './webext.js';

/** What the client needs of a `runtime.Port`; tests pass a scripted fake or a Node child process. */
export interface PortLike {
  postMessage(m: unknown): void;
  onMessage: { addListener(f: (m: unknown) => void): void };
  onDisconnect: { addListener(f: (p: { error?: { message: string } | null }) => void): void };
  disconnect(): void;
  error?: { message: string } | null;
}

/** The host's `hello` reply. */
export interface HostInfo {
  readonly hostVersion: string;
  readonly protocolVersion: number;
  /** Scanner URL without credentials; null when the host has none configured (every scan is then unscanned). */
  readonly scanner: string | null;
  readonly engine?: EngineInfo;
  readonly canary: CanaryStatus;
}

/** The host's `health` reply. */
export interface HostHealth {
  /** True only if the scanner answered and the canaries did not fail. */
  readonly ok: boolean;
  readonly scanner: string | null;
  readonly reachable: boolean;
  readonly engine?: EngineInfo;
  readonly problem?: string;
  readonly canary: CanaryStatus;
}

export type NativeHostErrorKind =
  /** No host process to talk to: not installed, not allowed, exited, or the port closed. */
  | 'unavailable'
  /** Host and add-on speak different protocol versions. */
  | 'host_incompatible'
  | 'timeout'
  /** The host sent something the guards refused, or a reply that does not fit the request. */
  | 'protocol_error'
  /** The host answered with a well-formed `error` reply. */
  | 'host_error'
  | 'cancelled';

/** What `hello()`, `health()` reject with: an expected failure with a message a person can act on. */
export class NativeHostError extends Error {
  override readonly name = 'NativeHostError';
  constructor(
    readonly kind: NativeHostErrorKind,
    message: string,
    readonly detail: {
      /** Thunderbird reported that no manifest named `unseal_host` is installed. */
      readonly notInstalled?: boolean;
      /** For `host_incompatible`: the host's protocol version when it could be read. */
      readonly hostProtocol?: number | null;
      readonly clientProtocol?: number;
      /** For `host_error`: the error kind the host sent. */
      readonly hostErrorKind?: ProtocolErrorKind;
    } = {},
  ) {
    super(message);
  }
}

export interface NativeHostClientOptions {
  /** Opens a port to the host; `connectUnsealHost` in the add-on. May throw. */
  readonly connect: () => PortLike;
  /** The add-on version, sent in `hello`. */
  readonly clientVersion: string;
  /** Per request (hello, scan.begin, each chunk ack, cancel, audit). Default 15 s. */
  readonly requestTimeoutMs?: number;
  /** `health` runs ping + engine info + canaries on the host (up to ~30 s there). Default 45 s. */
  readonly healthTimeoutMs?: number;
  /** Whole scan, upload and scanning included. Default 200 s: above the host's own 180 s limit, so its `timeout` verdict normally arrives first. */
  readonly scanTimeoutMs?: number;
  /** Raw bytes per `scan.chunk`. Default RECOMMENDED_CHUNK_BYTES (768 KiB → 1 MiB of base64). */
  readonly chunkBytes?: number;
  /** Unacknowledged chunks allowed in flight per scan. Default 4 (docs/native-host.md). */
  readonly window?: number;
  /** Backoff after a connection that failed before its hello: doubles from `initialMs` up to `maxMs`. Default 500 ms … 15 s. */
  readonly reconnectBackoff?: { readonly initialMs: number; readonly maxMs: number };
  /** WebCrypto for the SHA-256 that `scan.begin` announces. Default `globalThis.crypto.subtle`. */
  readonly subtle?: SubtleCrypto;
  readonly now?: () => number;
  /** Diagnostics (never content). Default: none. */
  readonly log?: (line: string) => void;
}

export interface ScanOptions {
  readonly signal?: AbortSignal;
  /** Called with the bytes the host has acknowledged so far and the total. */
  readonly onProgress?: (sent: number, total: number) => void;
}

type RequestBody = Request extends infer R ? (R extends { id: string } ? Omit<R, 'id'> : never) : never;

interface Connection {
  readonly port: PortLike;
  readonly n: number;
  open: boolean;
  helloDone: boolean;
  ready: Promise<HostInfo>;
}

interface Pending {
  readonly conn: Connection;
  readonly type: Request['type'];
  resolve(r: Response): void;
  reject(e: NativeHostError): void;
}

const INSTALL_HINT = 'run `unseal host install --scanner <scanner URL>` on this computer, then open the message again; `unseal host doctor` checks an installation';

/** Fields the host's guard limits; longer values are cut rather than failing the scan. */
const META_LIMITS = { messageId: 998, folder: 1024, subject: 998 } as const;

export class NativeHostClient {
  private readonly o: Required<Omit<NativeHostClientOptions, 'subtle' | 'log'>> & Pick<NativeHostClientOptions, 'subtle' | 'log'>;
  private readonly pending = new Map<string, Pending>();
  private conn: Connection | null = null;
  private seq = 0;
  private connections = 0;
  private failures = 0;
  private retryAt = 0;
  private lastFailure: NativeHostError | null = null;

  constructor(opts: NativeHostClientOptions) {
    this.o = {
      requestTimeoutMs: 15_000,
      healthTimeoutMs: 45_000,
      scanTimeoutMs: 200_000,
      chunkBytes: RECOMMENDED_CHUNK_BYTES,
      window: 4,
      reconnectBackoff: { initialMs: 500, maxMs: 15_000 },
      now: () => Date.now(),
      ...opts,
    };
    if (!(this.o.chunkBytes >= 1)) throw new RangeError('chunkBytes must be at least 1');
    if (!(this.o.window >= 1)) throw new RangeError('window must be at least 1');
  }

  /** Connects if needed and returns what this connection's `hello` said. */
  async hello(): Promise<HostInfo> {
    const conn = await this.ready();
    return conn.ready;
  }

  async health(): Promise<HostHealth> {
    const conn = await this.ready();
    const r = await this.request(conn, { type: 'health' }, this.o.healthTimeoutMs);
    if (r.type === 'error') throw hostError('health', r);
    if (r.type !== 'health') throw mismatch('health', r);
    const { id: _id, type: _type, ...health } = r;
    return health;
  }

  /**
   * Scans decrypted plaintext in the host. Never rejects for host, transport or scanner trouble:
   * those are `unscanned` verdicts with a reason and a message for the user.
   */
  async scan(plaintext: Uint8Array, meta: ScanMeta = {}, opts: ScanOptions = {}): Promise<ScanVerdict> {
    const { signal, onProgress } = opts;
    if (signal?.aborted) return unscanned('cancelled', 'the scan was cancelled before it started');
    // One signal for the scan: the caller's abort or the whole-scan deadline, whichever comes first.
    const stop = new AbortController();
    const onAbort = () => stop.abort(new NativeHostError('cancelled', 'the scan was cancelled'));
    signal?.addEventListener('abort', onAbort, { once: true });
    const deadline = setTimeout(
      () => stop.abort(new NativeHostError('timeout', `the native host gave no verdict within ${Math.round(this.o.scanTimeoutMs / 1000)} s`)),
      this.o.scanTimeoutMs,
    );
    const scanId = `s${++this.seq}`;
    let conn: Connection | null = null;
    let begun = false;
    try {
      const subtle = this.o.subtle ?? globalThis.crypto.subtle;
      const sha256 = await abortable(sha256Hex(subtle, plaintext), stop.signal);
      conn = await abortable(this.ready(), stop.signal);
      const total = plaintext.length;
      begun = true;
      const begin = await this.request(conn, { type: 'scan.begin', scanId, size: total, sha256, meta: cleanMeta(meta) }, this.o.requestTimeoutMs, stop.signal);
      if (begin.type === 'error') return verdictForHostError(begin.error);
      if (begin.type !== 'ack' || begin.scanId !== scanId || (begin.received !== undefined && begin.received !== 0)) throw mismatch('scan.begin', begin);
      onProgress?.(0, total);

      let acked = 0;
      const inFlight: Promise<ScanVerdict | null>[] = [];
      const { chunkBytes } = this.o;
      for (let seq = 0, offset = 0; offset < total; seq++, offset += chunkBytes) {
        if (inFlight.length >= this.o.window) {
          const failed = await inFlight.shift()!;
          if (failed) return failed;
        }
        const end = Math.min(offset + chunkBytes, total);
        const data = base64Encode(plaintext.subarray(offset, end));
        const ack = this.request(conn, { type: 'scan.chunk', scanId, seq, data }, this.o.requestTimeoutMs, stop.signal).then((r) => {
          if (r.type === 'error') return verdictForHostError(r.error);
          if (r.type !== 'ack' || r.scanId !== scanId || r.seq !== seq || r.received !== end) throw mismatch(`scan.chunk ${seq}`, r);
          acked += end - offset;
          onProgress?.(acked, total);
          return null;
        });
        ack.catch(() => {}); // awaited below, in order; this only keeps an early failure from being "unhandled"
        inFlight.push(ack);
      }
      for (const ack of inFlight) {
        const failed = await ack;
        if (failed) return failed;
      }

      const result = await this.request(conn, { type: 'scan.end', scanId }, this.o.scanTimeoutMs, stop.signal);
      begun = false; // the host has finished with this scanId either way
      if (result.type === 'error') return verdictForHostError(result.error);
      if (result.type !== 'scan.result' || result.scanId !== scanId) throw mismatch('scan.end', result);
      return result.verdict;
    } catch (e) {
      if (!(e instanceof NativeHostError)) throw e; // a bug, not host trouble
      if (begun && conn?.open && e.kind !== 'unavailable') this.cancelQuietly(conn, scanId);
      return unscanned(reasonFor(e), e.message);
    } finally {
      clearTimeout(deadline);
      signal?.removeEventListener('abort', onAbort);
    }
  }

  /**
   * Appends an event to the host's audit log. Never throws; resolves `true` when the host
   * acknowledged it. An event the protocol guard refuses is not sent at all.
   */
  async audit(event: AuditEvent): Promise<boolean> {
    try {
      const checked = parseAuditEvent(event);
      if (isProtocolError(checked)) {
        this.o.log?.(`audit event not sent: ${checked.message}`);
        return false;
      }
      const conn = await this.ready();
      const r = await this.request(conn, { type: 'audit', event: checked }, this.o.requestTimeoutMs);
      if (r.type === 'ack') return true;
      this.o.log?.(`audit event not recorded: ${r.type === 'error' ? `${r.error.kind}: ${r.error.message}` : `unexpected ${r.type} reply`}`);
      return false;
    } catch (e) {
      this.o.log?.(`audit event not recorded: ${(e as Error).message}`);
      return false;
    }
  }

  /**
   * One page of the host's audit log (oldest first). `cursor` is the previous page's `next`.
   * A host from before `audit.read` answers `bad_request`: that is `host_incompatible` here.
   */
  async auditRead(opts: { since?: string; cursor?: number; limit?: number } = {}): Promise<{ events: readonly AuditLogRecord[]; next: number | null }> {
    const conn = await this.ready();
    const r = await this.request(
      conn,
      {
        type: 'audit.read',
        limit: Math.max(1, Math.min(opts.limit ?? 500, AUDIT_READ_MAX_LIMIT)),
        ...(opts.since !== undefined ? { since: opts.since } : {}),
        ...(opts.cursor !== undefined ? { cursor: opts.cursor } : {}),
      },
      this.o.requestTimeoutMs,
    );
    if (r.type === 'error') {
      // Our request is well-formed by construction: a bad_request is an older host's unknown type.
      if (r.error.kind === 'bad_request') {
        throw new NativeHostError('host_incompatible', 'this native host cannot read its audit log for the add-on (it predates audit.read); update it with `unseal host install`', { hostErrorKind: r.error.kind });
      }
      throw hostError('audit.read', r);
    }
    if (r.type !== 'audit.events') throw mismatch('audit.read', r);
    return { events: r.events, next: r.next };
  }

  /**
   * The organisation's keys the host holds (public parts only). A host from before `keys.list`
   * answers `bad_request`: that is `host_incompatible` here.
   */
  async managedKeys(): Promise<{ keys: readonly ManagedKeyInfo[]; problems: readonly string[] }> {
    const conn = await this.ready();
    const r = await this.request(conn, { type: 'keys.list' }, this.o.requestTimeoutMs);
    if (r.type === 'error') {
      if (r.error.kind === 'bad_request') {
        throw new NativeHostError('host_incompatible', 'this native host cannot serve managed keys (it predates keys.list); update it with `unseal host install`', { hostErrorKind: r.error.kind });
      }
      throw hostError('keys.list', r);
    }
    if (r.type !== 'keys.managed') throw mismatch('keys.list', r);
    return { keys: r.keys, problems: r.problems };
  }

  /**
   * The content-encryption key of one recipient, unwrapped by the host with a managed key
   * (DecryptionMaterial.remote). Rejects with an UnsealError: the host's own failure kind, or
   * `decryption_failed` naming the host trouble, so the core's error handling stays the same.
   */
  async unwrapManaged(req: RemoteUnwrapRequest): Promise<Uint8Array> {
    let r: Response;
    try {
      const conn = await this.ready();
      r = await this.request(
        conn,
        {
          type: 'keys.unwrap',
          keyId: req.keyId,
          recipientInfo: base64Encode(req.recipientInfo),
          ...(req.rekIndex !== undefined ? { rekIndex: req.rekIndex } : {}),
          ...(req.cekLengths !== undefined && req.cekLengths.length > 0 ? { cekLengths: [...req.cekLengths] } : {}),
        },
        this.o.requestTimeoutMs,
      );
    } catch (e) {
      throw new UnsealError('decryption_failed', `the native host that holds your organisation's keys did not unwrap the message key: ${messageOf(e)}`, { cause: e });
    }
    if (r.type === 'keys.cek') return base64Decode(r.cek);
    if (r.type === 'keys.unwrap_failed') throw new UnsealError(r.error.kind, `organisation key (native host): ${r.error.message}`);
    const why = r.type === 'error' ? `${r.error.kind}: ${r.error.message}` : `unexpected ${r.type} reply`;
    throw new UnsealError('decryption_failed', `the native host that holds your organisation's keys did not unwrap the message key (${why})`);
  }

  /** Closes the port; pending calls fail (scans: `unscanned`/`cancelled`). A later call reconnects. */
  close(): void {
    const conn = this.conn;
    if (conn) this.lose(conn, new NativeHostError('cancelled', 'the add-on closed the connection to the native host'), false);
  }

  // ————— connection —————

  private ready(): Promise<Connection> {
    const current = this.conn;
    if (current?.open) return current.ready.then(() => current);
    if (this.lastFailure && this.o.now() < this.retryAt) return Promise.reject(this.lastFailure);
    let port: PortLike;
    try {
      port = this.o.connect();
    } catch (e) {
      const err = describeDisconnect(messageOf(e), true);
      this.noteFailure(err);
      return Promise.reject(err);
    }
    const conn: Connection = { port, n: ++this.connections, open: true, helloDone: false, ready: Promise.resolve(null as never) };
    this.conn = conn;
    port.onMessage.addListener((m) => this.onMessage(conn, m));
    port.onDisconnect.addListener((p) => {
      const error = p?.error?.message ?? port.error?.message;
      this.lose(conn, describeDisconnect(error, !conn.helloDone));
    });
    conn.ready = this.handshake(conn);
    conn.ready.catch(() => {}); // callers await it; a failed hello must not be an unhandled rejection
    return conn.ready.then(() => conn);
  }

  private async handshake(conn: Connection): Promise<HostInfo> {
    try {
      const r = await this.request(conn, { type: 'hello', protocol: PROTOCOL_VERSION, client: this.o.clientVersion }, this.o.requestTimeoutMs);
      if (r.type === 'error') {
        if (r.error.kind === 'unsupported_version') throw incompatible(hostProtocolFrom(r.error.message));
        throw hostError('hello', r);
      }
      if (r.type !== 'hello') throw mismatch('hello', r);
      if (r.protocol !== PROTOCOL_VERSION) throw incompatible(r.protocol, r.host);
      conn.helloDone = true;
      this.failures = 0;
      this.retryAt = 0;
      this.lastFailure = null;
      this.o.log?.(`connected to unseal_host ${r.host} (protocol ${r.protocol}, scanner ${r.scanner ?? 'none'})`);
      return {
        hostVersion: r.host,
        protocolVersion: r.protocol,
        scanner: r.scanner,
        ...(r.engine ? { engine: r.engine } : {}),
        canary: r.canary,
      };
    } catch (e) {
      const err = e instanceof NativeHostError ? e : new NativeHostError('protocol_error', `hello failed: ${messageOf(e)}`);
      // Without a good hello the connection is useless; drop it (a no-op if it is already gone).
      this.lose(conn, err);
      throw err;
    }
  }

  private noteFailure(err: NativeHostError): void {
    this.failures++;
    const { initialMs, maxMs } = this.o.reconnectBackoff;
    this.retryAt = this.o.now() + Math.min(maxMs, initialMs * 2 ** Math.min(this.failures - 1, 20));
    this.lastFailure = err;
  }

  /** The connection is gone (or is being dropped): fail everything pending on it. */
  private lose(conn: Connection, err: NativeHostError, countAsFailure = true): void {
    if (!conn.open) return;
    conn.open = false;
    if (this.conn === conn) this.conn = null;
    if (!conn.helloDone && countAsFailure) this.noteFailure(err);
    this.o.log?.(`native host connection ${conn.n} closed: ${err.message}`);
    try {
      conn.port.disconnect();
    } catch {
      /* already disconnected */
    }
    for (const [id, p] of [...this.pending]) {
      if (p.conn !== conn) continue;
      this.pending.delete(id);
      p.reject(err);
    }
  }

  private onMessage(conn: Connection, raw: unknown): void {
    if (!conn.open) return;
    const r = parseResponse(raw);
    if (isProtocolError(r)) {
      const p = r.id === null ? undefined : this.pending.get(r.id);
      if (p && p.conn === conn) {
        this.pending.delete(r.id!);
        p.reject(new NativeHostError('protocol_error', `the native host sent a malformed reply to ${p.type}: ${r.message}`));
      } else {
        // Cannot tell which call it belonged to: a host that does this cannot be trusted with the others either.
        this.lose(conn, new NativeHostError('protocol_error', `the native host sent a malformed message: ${r.message}`));
      }
      return;
    }
    if (r.id === null) {
      // The host could not read one of our frames and cannot say which (docs/native-host.md: fail them all).
      const why = r.type === 'error' ? `${r.error.kind}: ${r.error.message}` : r.type;
      this.lose(conn, new NativeHostError('protocol_error', `the native host could not read a request (${why})`));
      return;
    }
    const p = this.pending.get(r.id);
    if (!p || p.conn !== conn) {
      this.o.log?.(`ignoring a late or unknown ${r.type} reply (${r.id})`);
      return;
    }
    this.pending.delete(r.id);
    p.resolve(r);
  }

  /** Sends one request; resolves with its validated reply (an `error` reply is a value here). */
  private request(conn: Connection, body: RequestBody, timeoutMs: number, signal?: AbortSignal): Promise<Response> {
    return new Promise<Response>((resolve, reject) => {
      if (!conn.open) return reject(new NativeHostError('unavailable', 'the connection to the native host is closed'));
      if (signal?.aborted) return reject(abortError(signal));
      const id = `r${++this.seq}`;
      const cleanup = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
      };
      const onAbort = () => {
        if (this.pending.delete(id)) {
          cleanup();
          reject(abortError(signal!));
        }
      };
      const timer = setTimeout(() => {
        if (this.pending.delete(id)) {
          cleanup();
          reject(new NativeHostError('timeout', `the native host did not answer ${body.type} within ${Math.round(timeoutMs / 100) / 10} s`));
        }
      }, timeoutMs);
      signal?.addEventListener('abort', onAbort, { once: true });
      this.pending.set(id, {
        conn,
        type: body.type,
        resolve: (r) => (cleanup(), resolve(r)),
        reject: (e) => (cleanup(), reject(e)),
      });
      try {
        conn.port.postMessage({ id, ...body });
      } catch (e) {
        this.lose(conn, describeDisconnect(messageOf(e), !conn.helloDone));
      }
    });
  }

  private cancelQuietly(conn: Connection, scanId: string): void {
    this.request(conn, { type: 'scan.cancel', scanId }, this.o.requestTimeoutMs).then(
      (r) => {
        if (r.type !== 'ack') this.o.log?.(`scan.cancel ${scanId}: ${r.type === 'error' ? r.error.message : `unexpected ${r.type} reply`}`);
      },
      (e: unknown) => this.o.log?.(`scan.cancel ${scanId}: ${messageOf(e)}`),
    );
  }
}

/** Opens the real port: `browser.runtime.connectNative('unseal_host')`. */
export function connectUnsealHost(): PortLike {
  const port = webext.runtime.connectNative(NATIVE_HOST_NAME);
  return {
    postMessage: (m) => port.postMessage(m as object),
    onMessage: { addListener: (f) => port.onMessage.addListener((m) => f(m)) },
    onDisconnect: {
      addListener: (f) => port.onDisconnect.addListener((p) => f({ error: p.error ? { message: String(p.error.message) } : null })),
    },
    disconnect: () => port.disconnect(),
    get error() {
      return port.error ? { message: String(port.error.message) } : null;
    },
  };
}

// ————— helpers —————

function unscanned(reason: UnscannedReason, message: string): ScanVerdict {
  return { verdict: 'unscanned', reason, message };
}

function reasonFor(e: NativeHostError): UnscannedReason {
  switch (e.kind) {
    case 'timeout':
      return 'timeout';
    case 'cancelled':
      return 'cancelled';
    case 'protocol_error':
      return 'protocol_error';
    case 'host_error':
      return e.detail.hostErrorKind ? reasonForHostError(e.detail.hostErrorKind) : 'protocol_error';
    case 'unavailable':
    case 'host_incompatible':
      return 'unavailable';
  }
}

/** How a host `error` reply to a scan request becomes an unscanned reason. */
function reasonForHostError(kind: ProtocolErrorKind): UnscannedReason {
  switch (kind) {
    case 'timeout':
      return 'timeout';
    case 'cancelled':
      return 'cancelled';
    case 'too_large':
      return 'too_large';
    case 'busy':
    case 'internal':
      return 'unavailable';
    default:
      // bad_frame, frame_too_large, bad_request, unsupported_version, unknown_scan, duplicate_scan, integrity
      return 'protocol_error';
  }
}

function verdictForHostError(error: { kind: ProtocolErrorKind; message: string }): ScanVerdict {
  const what = error.kind === 'busy' ? 'the native host is busy with other scans; open the message again in a moment' : `the native host refused the scan (${error.kind})`;
  return unscanned(reasonForHostError(error.kind), `${what}: ${error.message}`);
}

function hostError(what: string, r: Extract<Response, { type: 'error' }>): NativeHostError {
  return new NativeHostError('host_error', `the native host answered ${what} with ${r.error.kind}: ${r.error.message}`, { hostErrorKind: r.error.kind });
}

function mismatch(what: string, r: Response): NativeHostError {
  const scan = 'scanId' in r && r.scanId !== undefined ? ` for scan ${r.scanId}` : '';
  return new NativeHostError('protocol_error', `the native host answered ${what} with an unexpected ${r.type} reply${scan}`);
}

function incompatible(hostProtocol: number | null, hostVersion?: string): NativeHostError {
  const host = hostProtocol === null ? 'a different protocol version' : `protocol ${hostProtocol}`;
  return new NativeHostError(
    'host_incompatible',
    `Unseal's native host${hostVersion ? ` ${hostVersion}` : ''} speaks ${host}, this add-on protocol ${PROTOCOL_VERSION}: install the host that comes with this add-on version (\`unseal host install\`)`,
    { hostProtocol, clientProtocol: PROTOCOL_VERSION },
  );
}

/** The host's unsupported_version message says "this host speaks protocol N". */
function hostProtocolFrom(message: string): number | null {
  const m = /speaks protocol (\d+)/.exec(message);
  return m ? Number(m[1]) : null;
}

/**
 * Turns Thunderbird's disconnect error into something a user can act on. "No such native
 * application" is Gecko's error when no manifest is found (the most common support issue).
 */
function describeDisconnect(error: string | undefined, beforeHello: boolean): NativeHostError {
  const said = error ? ` (Thunderbird said: ${error})` : '';
  if (error && /no such native application/i.test(error)) {
    return new NativeHostError('unavailable', `Unseal's native host is not installed: ${INSTALL_HINT}.${said}`, { notInstalled: true });
  }
  if (error && /forbidden|not allowed/i.test(error)) {
    return new NativeHostError('unavailable', `Thunderbird refused to start Unseal's native host: its manifest must allow this add-on; run \`unseal host install\` again.${said}`);
  }
  if (error && /exceeds the limit/i.test(error)) {
    return new NativeHostError('protocol_error', `the native host sent a message larger than Thunderbird accepts (1 MiB); the connection was closed.${said}`);
  }
  if (beforeHello) {
    return new NativeHostError('unavailable', `Unseal's native host did not start or exited before answering. If it is not installed, ${INSTALL_HINT}.${said}`);
  }
  return new NativeHostError('unavailable', `the connection to Unseal's native host was lost; it is restarted on the next request. If this repeats, run \`unseal host doctor\`.${said || ' (the host exited)'}`);
}

function abortError(signal: AbortSignal): NativeHostError {
  return signal.reason instanceof NativeHostError ? signal.reason : new NativeHostError('cancelled', 'the scan was cancelled');
}

/** Races a promise against the scan's stop signal (connecting and hashing are not cancellable themselves). */
function abortable<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(abortError(signal));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(abortError(signal));
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => (signal.removeEventListener('abort', onAbort), resolve(v)),
      (e: unknown) => (signal.removeEventListener('abort', onAbort), reject(e)),
    );
  });
}

function cleanMeta(meta: ScanMeta): ScanMeta {
  const out: { messageId?: string; folder?: string; subject?: string } = {};
  for (const k of ['messageId', 'folder', 'subject'] as const) {
    const v = meta[k];
    if (typeof v === 'string' && v !== '') out[k] = v.slice(0, META_LIMITS[k]);
  }
  return out;
}

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : typeof e === 'object' && e && 'message' in e ? String((e as { message: unknown }).message) : String(e);
}
