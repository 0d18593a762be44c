/**
 * Tiny scripted servers for framing and error paths that a real clamd/c-icap will not produce on
 * demand (vendor verdict shapes, hangs, resets, garbage). Verdict logic is tested against the
 * real servers elsewhere.
 */
import { createServer, type Server, type Socket } from 'node:net';

export interface FakeIcapRequest {
  method: string;
  uri: string;
  head: string;
  headers: Record<string, string>;
  /** De-chunked body, including what came after a 100 Continue. */
  body: Buffer;
  previewUsed: boolean;
  ieof: boolean;
}

export type FakeReply = string | Buffer | { hang: true } | { close: string | Buffer };

export interface FakeIcapOptions {
  /** Extra OPTIONS headers, e.g. `Preview: 4\r\nMax-Connections: 1\r\n`. */
  optionsHeaders?: string;
  istag?: string;
  /** Final answer to a RESPMOD once its whole body arrived. */
  respmod: (req: FakeIcapRequest) => FakeReply;
  /** After a preview without ieof: reply here instead of 100 Continue (undefined ⇒ 100). */
  onPreview?: (req: FakeIcapRequest) => FakeReply | undefined;
  /** Send a 100 Continue even after ieof (some servers do). */
  continueAfterIeof?: boolean;
  /** Raw answer to OPTIONS instead of the generated one. */
  optionsReply?: FakeReply;
}

export interface FakeServer {
  port: number;
  url(service?: string): string;
  requests: FakeIcapRequest[];
  optionsCount: number;
  maxConcurrent: number;
  close(): Promise<void>;
}

function sendReply(sock: Socket, r: FakeReply): void {
  if (typeof r === 'string' || Buffer.isBuffer(r)) {
    sock.end(r);
  } else if ('close' in r) {
    sock.end(r.close);
  }
  // hang: say nothing, keep the connection open.
}

/** Encapsulated-body ICAP response helper: ICAP status + headers, HTTP head, chunked body. */
export function icapResponse(status: string, icapHeaders: string[], httpHead?: string, body?: Buffer | string): string | Buffer {
  const h = httpHead ? `${httpHead.replace(/\r?\n/g, '\r\n').replace(/(\r\n)*$/, '')}\r\n\r\n` : '';
  const enc = httpHead === undefined ? 'null-body=0' : body === undefined ? `res-hdr=0, null-body=${h.length}` : `res-hdr=0, res-body=${h.length}`;
  const head = `ICAP/1.0 ${status}\r\n${icapHeaders.map((x) => `${x}\r\n`).join('')}Encapsulated: ${enc}\r\n\r\n${h}`;
  if (body === undefined) return head;
  const b = Buffer.isBuffer(body) ? body : Buffer.from(body);
  const chunks = b.length > 0 ? Buffer.concat([Buffer.from(`${b.length.toString(16)}\r\n`), b, Buffer.from('\r\n')]) : Buffer.alloc(0);
  return Buffer.concat([Buffer.from(head), chunks, Buffer.from('0\r\n\r\n')]);
}

export async function startFakeIcap(opts: FakeIcapOptions): Promise<FakeServer> {
  const state = { requests: [] as FakeIcapRequest[], optionsCount: 0, active: 0, maxConcurrent: 0 };
  const sockets = new Set<Socket>();
  const server: Server = createServer((sock) => {
    sockets.add(sock);
    // "Busy" lasts from accept to the final answer: a TCP close reaches the server later than the
    // client's next connect, so counting until 'close' would race.
    state.active++;
    state.maxConcurrent = Math.max(state.maxConcurrent, state.active);
    let busy = true;
    const idle = () => {
      if (busy) state.active--;
      busy = false;
    };
    sock.on('close', () => {
      idle();
      sockets.delete(sock);
    });
    const send = (sk: Socket, r: FakeReply) => {
      idle();
      sendReply(sk, r);
    };
    sock.on('error', () => undefined);
    let buf = Buffer.alloc(0);
    let req: FakeIcapRequest | undefined;
    let bodyStart = -1;
    let phase: 'head' | 'body' | 'done' = 'head';
    const parts: Buffer[] = [];
    sock.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      for (;;) {
        if (phase === 'head') {
          const end = buf.indexOf('\r\n\r\n');
          if (end < 0) return;
          const head = buf.subarray(0, end).toString('latin1');
          buf = buf.subarray(end + 4);
          const [start, ...lines] = head.split('\r\n');
          const [method = '', uri = ''] = (start ?? '').split(' ');
          const headers: Record<string, string> = {};
          for (const l of lines) {
            const i = l.indexOf(':');
            if (i > 0) headers[l.slice(0, i).toLowerCase()] = l.slice(i + 1).trim();
          }
          req = { method, uri, head, headers, body: Buffer.alloc(0), previewUsed: 'preview' in headers, ieof: false };
          if (method === 'OPTIONS') {
            state.optionsCount++;
            phase = 'done';
            send(
              sock,
              opts.optionsReply ??
                `ICAP/1.0 200 OK\r\nMethods: RESPMOD\r\nService: Fake ICAP 1.0\r\nISTag: "${opts.istag ?? 'FAKE-1'}"\r\nAllow: 204\r\n${opts.optionsHeaders ?? ''}Encapsulated: null-body=0\r\n\r\n`,
            );
            return;
          }
          const enc = /res-body=(\d+)/.exec(headers['encapsulated'] ?? '');
          bodyStart = enc ? Number(enc[1]) : -1;
          if (bodyStart < 0) {
            phase = 'done';
            send(sock, opts.respmod(req));
            return;
          }
          phase = 'body';
        }
        if (phase === 'body' && req) {
          if (bodyStart > 0) {
            if (buf.length < bodyStart) return;
            buf = buf.subarray(bodyStart);
            bodyStart = 0;
          }
          const nl = buf.indexOf('\r\n');
          if (nl < 0) return;
          const line = buf.subarray(0, nl).toString('latin1');
          const size = Number.parseInt(line, 16);
          if (size === 0) {
            if (buf.length < nl + 4) return;
            buf = buf.subarray(nl + 4);
            req.body = Buffer.concat(parts);
            if (/ieof/.test(line)) {
              req.ieof = true;
              phase = 'done';
              state.requests.push(req);
              if (opts.continueAfterIeof) sock.write('ICAP/1.0 100 Continue\r\n\r\n');
              send(sock, opts.respmod(req));
              return;
            }
            if (req.previewUsed && !(req as FakeIcapRequest & { continued?: boolean }).continued) {
              const early = opts.onPreview?.(req);
              if (early !== undefined) {
                phase = 'done';
                state.requests.push(req);
                send(sock, early);
                return;
              }
              (req as FakeIcapRequest & { continued?: boolean }).continued = true;
              sock.write('ICAP/1.0 100 Continue\r\n\r\n');
              continue;
            }
            phase = 'done';
            state.requests.push(req);
            send(sock, opts.respmod(req));
            return;
          }
          if (buf.length < nl + 2 + size + 2) return;
          parts.push(Buffer.from(buf.subarray(nl + 2, nl + 2 + size)));
          buf = buf.subarray(nl + 2 + size + 2);
          continue;
        }
        return;
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  return {
    port,
    url: (service = 'avscan') => `icap://127.0.0.1:${port}/${service}`,
    get requests() {
      return state.requests;
    },
    get optionsCount() {
      return state.optionsCount;
    },
    get maxConcurrent() {
      return state.maxConcurrent;
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/** A fake clamd: collects the INSTREAM frames and answers with `reply(data)` (or hangs/closes). */
export async function startFakeClamd(
  reply: (data: Buffer, frames: number[]) => FakeReply,
  opts: { version?: string } = {},
): Promise<FakeServer & { frames: number[][] }> {
  const frames: number[][] = [];
  const sockets = new Set<Socket>();
  const server = createServer((sock) => {
    sockets.add(sock);
    sock.on('close', () => sockets.delete(sock));
    sock.on('error', () => undefined);
    let buf = Buffer.alloc(0);
    let cmd: string | undefined;
    const parts: Buffer[] = [];
    const sizes: number[] = [];
    sock.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      if (cmd === undefined) {
        const z = buf.indexOf(0);
        if (z < 0) return;
        cmd = buf.subarray(0, z).toString('latin1');
        buf = buf.subarray(z + 1);
        if (cmd === 'zPING') return void sock.end('PONG\0');
        if (cmd === 'zVERSION') return void sock.end(`${opts.version ?? 'ClamAV 9.9.9/12345/Thu Jan  1 00:00:00 2026'}\0`);
        if (cmd !== 'zINSTREAM') return void sock.end('UNKNOWN COMMAND\0');
      }
      for (;;) {
        if (buf.length < 4) return;
        const n = buf.readUInt32BE(0);
        if (buf.length < 4 + n) return;
        if (n === 0) {
          frames.push(sizes);
          sendReply(sock, reply(Buffer.concat(parts), sizes));
          buf = Buffer.alloc(0);
          return;
        }
        sizes.push(n);
        parts.push(Buffer.from(buf.subarray(4, 4 + n)));
        buf = buf.subarray(4 + n);
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  return {
    port,
    url: () => `clamd://127.0.0.1:${port}`,
    requests: [],
    optionsCount: 0,
    maxConcurrent: 0,
    frames,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
