/**
 * A `PortLike` over a real child process, standing in for `runtime.connectNative` in Node: the
 * same framing Gecko uses (4-byte little-endian length + UTF-8 JSON) on the child's stdin/stdout,
 * and Gecko's port semantics as far as the client can see them:
 * - messages arrive asynchronously, one `onMessage` per frame;
 * - `onDisconnect` fires once, with `error`, when the process cannot be started, exits, or sends
 *   a frame over 1 MiB (Gecko's MAX_READ; it closes the port then);
 * - our own `disconnect()` fires no `onDisconnect`, closes stdin and kills the process if it
 *   lingers; `postMessage` on a closed port throws.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { FrameDecoder } from '../../../src/host/framing.js';
import type { PortLike } from '../../../src/platform/native-host.js';
import { MAX_HOST_TO_EXTENSION_BYTES } from '../../../src/protocol/native.js';

export const HOST_BUNDLE = resolve('dist/host/unseal-host.mjs');

export interface NodePortOptions {
  /** Default: this Node running dist/host/unseal-host.mjs. */
  readonly command?: string;
  /** Appended after the bundle (default command) or the whole argv (own command). */
  readonly args?: readonly string[];
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
}

type DisconnectListener = (p: { error?: { message: string } | null }) => void;

export class NodeHostPort implements PortLike {
  readonly child: ChildProcess;
  error: { message: string } | null = null;
  stderr = '';
  /** Every frame body written to the host, in order (for assertions on what the client sent). */
  readonly sent: unknown[] = [];
  private readonly messageListeners: ((m: unknown) => void)[] = [];
  private readonly disconnectListeners: DisconnectListener[] = [];
  private closed = false;
  readonly exited: Promise<void>;

  readonly onMessage = { addListener: (f: (m: unknown) => void) => void this.messageListeners.push(f) };
  readonly onDisconnect = { addListener: (f: DisconnectListener) => void this.disconnectListeners.push(f) };

  constructor(opts: NodePortOptions = {}) {
    const command = opts.command ?? process.execPath;
    // `args` are what Thunderbird passes: [manifest path, add-on id] (after the bundle for the default command).
    const args = opts.command ? [...(opts.args ?? [])] : [HOST_BUNDLE, ...(opts.args ?? [])];
    this.child = spawn(command, args, {
      env: { PATH: process.env['PATH'], ...opts.env },
      stdio: ['pipe', 'pipe', 'pipe'],
      ...(opts.cwd ? { cwd: opts.cwd } : {}),
    });
    this.exited = new Promise((res) => this.child.once('close', () => res()));
    const decoder = new FrameDecoder({ endianness: 'LE', maxFrameBytes: 64 * 1024 * 1024 });
    this.child.stdout!.on('data', (d: Buffer) => {
      for (const f of decoder.push(d)) {
        if (this.closed) return;
        if (!f.ok) return this.hostGone(`host sent an unreadable message: ${f.message}`);
        if (f.bytes > MAX_HOST_TO_EXTENSION_BYTES) {
          return this.hostGone(`Native application tried to send a message of ${f.bytes} bytes, which exceeds the limit of ${MAX_HOST_TO_EXTENSION_BYTES} bytes.`);
        }
        for (const l of this.messageListeners) l(f.value);
      }
    });
    this.child.stderr!.on('data', (d: Buffer) => (this.stderr += d.toString()));
    this.child.stdin!.on('error', () => {
      /* EPIPE after the host died: the 'close' event reports it */
    });
    this.child.once('error', (e) => this.hostGone(e.message));
    this.child.once('close', (code, signal) => this.hostGone(signal ? `native host killed by ${signal}` : code ? `native host exited with code ${code}` : null));
  }

  postMessage(m: unknown): void {
    if (this.closed) throw new Error('Attempt to postMessage on disconnected port');
    this.sent.push(m);
    const body = Buffer.from(JSON.stringify(m), 'utf8');
    const head = Buffer.alloc(4);
    head.writeUInt32LE(body.length);
    this.child.stdin!.write(Buffer.concat([head, body]));
  }

  disconnect(): void {
    if (this.closed) return;
    this.closed = true;
    this.child.stdin!.end();
    const t = setTimeout(() => this.child.kill('SIGKILL'), 5_000);
    t.unref();
    void this.exited.then(() => clearTimeout(t));
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    this.child.kill(signal);
  }

  private hostGone(error: string | null): void {
    if (this.closed) return;
    this.closed = true;
    this.error = error ? { message: error } : null;
    this.child.stdin!.destroy();
    for (const l of this.disconnectListeners) l({ error: this.error });
  }
}
