/**
 * Drives the built host (dist/host/unseal-host.mjs) the way Thunderbird does: a child process
 * with native-messaging frames on stdin/stdout. Replies are matched by correlation id.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { resolve } from 'node:path';
import { FrameDecoder } from '../../../src/host/framing.js';

export const HOST_BUNDLE = resolve('dist/host/unseal-host.mjs');

export interface HostReply {
  id: string | null;
  type: string;
  [k: string]: unknown;
}

export class HostProcess {
  readonly child: ChildProcess;
  readonly replies: HostReply[] = [];
  stderr = '';
  private readonly waiters: { match: (r: HostReply) => boolean; resolve: (r: HostReply) => void }[] = [];
  readonly exited: Promise<number | null>;

  /** `launch` starts something else than the bundle, e.g. the launcher script install wrote. */
  constructor(env: NodeJS.ProcessEnv, args: string[] = [], launch?: { command: string; args: string[]; cwd: string }) {
    const opts = { env: { PATH: process.env['PATH'], ...env }, stdio: ['pipe', 'pipe', 'pipe'] as ('pipe')[] };
    this.child = launch
      ? spawn(launch.command, launch.args, { ...opts, cwd: launch.cwd })
      : spawn(process.execPath, [HOST_BUNDLE, ...args], opts);
    const decoder = new FrameDecoder();
    this.child.stdout!.on('data', (d: Buffer) => {
      for (const f of decoder.push(d)) {
        if (!f.ok) throw new Error(`host wrote a bad frame: ${f.message}`);
        const r = f.value as HostReply;
        this.replies.push(r);
        const i = this.waiters.findIndex((w) => w.match(r));
        if (i >= 0) this.waiters.splice(i, 1)[0]!.resolve(r);
      }
    });
    this.child.stderr!.on('data', (d: Buffer) => (this.stderr += d.toString()));
    this.exited = new Promise((res) => this.child.on('exit', (code) => res(code)));
  }

  writeRaw(bytes: Uint8Array): void {
    this.child.stdin!.write(bytes);
  }

  send(msg: object): void {
    this.writeRaw(frame(msg));
  }

  /** Resolves with the first reply (already received or future) that matches. */
  waitFor(match: (r: HostReply) => boolean, timeoutMs = 30_000): Promise<HostReply> {
    const seen = this.replies.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((res, rej) => {
      const t = setTimeout(() => rej(new Error(`no matching reply within ${timeoutMs} ms; got ${JSON.stringify(this.replies).slice(-2000)}\nstderr: ${this.stderr}`)), timeoutMs);
      this.waiters.push({ match, resolve: (r) => (clearTimeout(t), res(r)) });
    });
  }

  request(msg: { id: string; [k: string]: unknown }, timeoutMs?: number): Promise<HostReply> {
    this.send(msg);
    return this.waitFor((r) => r.id === msg.id, timeoutMs);
  }

  /** begin + chunks (acks awaited in a window) + end; resolves with the scan.end reply. */
  async scan(scanId: string, bytes: Uint8Array, opts: { chunk?: number; meta?: object } = {}): Promise<HostReply> {
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const begin = await this.request({ id: `${scanId}-b`, type: 'scan.begin', scanId, size: bytes.length, sha256, meta: opts.meta ?? {} });
    if (begin.type !== 'ack') return begin;
    const size = opts.chunk ?? 768 * 1024;
    const acks: Promise<HostReply>[] = [];
    for (let seq = 0, o = 0; o < bytes.length; seq++, o += size) {
      acks.push(this.request({ id: `${scanId}-c${seq}`, type: 'scan.chunk', scanId, seq, data: Buffer.from(bytes.subarray(o, o + size)).toString('base64') }));
    }
    for (const a of await Promise.all(acks)) if (a.type !== 'ack') return a;
    return this.request({ id: `${scanId}-e`, type: 'scan.end', scanId }, 60_000);
  }

  async close(): Promise<number | null> {
    this.child.stdin!.end();
    return this.exited;
  }
}

export function frame(msg: object): Uint8Array {
  const body = Buffer.from(JSON.stringify(msg));
  const head = Buffer.alloc(4);
  head.writeUInt32LE(body.length);
  return Buffer.concat([head, body]);
}

export function sha256Hex(b: Uint8Array): string {
  return createHash('sha256').update(b).digest('hex');
}
