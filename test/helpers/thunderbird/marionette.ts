/**
 * A raw Marionette client (no geckodriver): Thunderbird is started with `--marionette` and listens
 * on `marionette.port`. Framing is `<byte length>:<json>`; the server first sends a hello object,
 * then answers each `[0, id, "Command", params]` with `[1, id, error|null, result]`.
 * Only the commands the e2e harness needs are wrapped; `send()` reaches any other.
 */
import { connect, type Socket } from 'node:net';

export class MarionetteError extends Error {
  override readonly name = 'MarionetteError';
  constructor(
    readonly command: string,
    readonly error: string,
    message: string,
    readonly stacktrace?: string,
  ) {
    super(`${command}: ${error}: ${message}`);
  }
}

interface Pending {
  command: string;
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

export class Marionette {
  private buffer: Buffer = Buffer.alloc(0);
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private hello: ((v: unknown) => void) | undefined;
  private closed: Error | undefined;

  private constructor(private readonly socket: Socket) {
    socket.on('data', (chunk) => this.onData(chunk));
    socket.on('close', () => this.failAll(new Error('marionette socket closed')));
    socket.on('error', (e) => this.failAll(e));
  }

  /** Connects, retrying until Thunderbird listens (it opens the port late in start-up). */
  static async connect(port: number, timeoutMs = 60_000): Promise<Marionette> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        const socket = await new Promise<Socket>((resolve, reject) => {
          const s = connect({ host: '127.0.0.1', port }, () => resolve(s));
          s.once('error', reject);
        });
        const m = new Marionette(socket);
        await withTimeout(new Promise((r) => (m.hello = r)), 10_000, 'marionette hello');
        return m;
      } catch (e) {
        if (Date.now() > deadline) throw new Error(`marionette on port ${port} not reachable: ${String(e)}`);
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  }

  private onData(chunk: Buffer): void {
    this.buffer = this.buffer.length ? Buffer.concat([this.buffer, chunk]) : chunk;
    for (;;) {
      const colon = this.buffer.indexOf(0x3a);
      if (colon < 0) return;
      const len = Number(this.buffer.subarray(0, colon).toString('ascii'));
      if (!Number.isSafeInteger(len)) return this.failAll(new Error('bad marionette frame'));
      if (this.buffer.length < colon + 1 + len) return;
      const body = this.buffer.subarray(colon + 1, colon + 1 + len).toString('utf8');
      this.buffer = this.buffer.subarray(colon + 1 + len);
      this.onMessage(JSON.parse(body) as unknown);
    }
  }

  private onMessage(msg: unknown): void {
    if (!Array.isArray(msg)) {
      this.hello?.(msg);
      this.hello = undefined;
      return;
    }
    const [, id, error, result] = msg as [number, number, { error: string; message: string; stacktrace?: string } | null, unknown];
    const p = this.pending.get(id);
    if (!p) return;
    this.pending.delete(id);
    clearTimeout(p.timer);
    if (error) p.reject(new MarionetteError(p.command, error.error, error.message, error.stacktrace));
    else p.resolve(result);
  }

  private failAll(e: Error): void {
    this.closed ??= e;
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(e);
    }
    this.pending.clear();
  }

  /** Sends one command; every call has a timeout because some Thunderbird paths never answer. */
  send(command: string, params: Record<string, unknown> = {}, timeoutMs = 30_000): Promise<unknown> {
    if (this.closed) return Promise.reject(this.closed);
    const id = this.nextId++;
    const body = Buffer.from(JSON.stringify([0, id, command, params]), 'utf8');
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`marionette ${command} timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, { command, resolve, reject, timer });
      this.socket.write(Buffer.concat([Buffer.from(`${body.length}:`, 'ascii'), body]));
    });
  }

  async newSession(): Promise<void> {
    await this.send('WebDriver:NewSession', { capabilities: { alwaysMatch: { 'moz:accessibilityChecks': false } } });
  }

  async setContext(context: 'chrome' | 'content'): Promise<void> {
    await this.send('Marionette:SetContext', { value: context });
  }

  /**
   * Runs `script` as a function body (`arguments[0..]` = args; `return` a JSON-able value). An
   * async script can `return (async () => {...})()`: Marionette awaits a returned promise.
   */
  async execute<T = unknown>(script: string, args: unknown[] = [], timeoutMs = 30_000): Promise<T> {
    const r = (await this.send('WebDriver:ExecuteScript', { script, args, sandbox: 'unseal', newSandbox: false, scriptTimeout: timeoutMs }, timeoutMs + 5_000)) as { value: T };
    return r.value;
  }

  /** PNG of the whole chrome window (in chrome context), also under --headless. */
  async screenshot(): Promise<Buffer> {
    const r = (await this.send('WebDriver:TakeScreenshot', { full: false, hash: false }, 30_000)) as { value: string };
    return Buffer.from(r.value, 'base64');
  }

  async quit(): Promise<void> {
    try {
      await this.send('Marionette:Quit', { flags: ['eForceQuit'] }, 15_000);
    } catch {
      // the socket closes while Thunderbird shuts down; that is the expected end
    }
    this.socket.destroy();
  }

  close(): void {
    this.socket.destroy();
  }
}

export async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
