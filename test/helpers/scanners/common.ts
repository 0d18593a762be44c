import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const INSTALL_HINT = 'apt-get install clamav-daemon clamav c-icap libc-icap-mod-virus-scan (or run .ci/install-scanners.sh)';

/** Finds an executable in the usual places; a missing scanner must fail with the install command, not ENOENT. */
export function requireBinary(name: string, candidates: string[]): string {
  for (const p of candidates) {
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      /* try the next one */
    }
  }
  throw new Error(`${name} is not installed (looked in ${candidates.join(', ')}): ${INSTALL_HINT}`);
}

/**
 * A private directory the dropped-privilege c-icap user can traverse: mkdtemp gives 0700, which
 * would keep c-icap out of its own config and out of clamd's socket directory.
 */
export function makeTempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  chmodSync(dir, 0o755);
  return dir;
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** One request/response on a fresh connection; resolves with everything read until `done` says so or the peer closes. */
export function exchange(
  target: { path: string } | { host: string; port: number },
  request: string | Uint8Array,
  done: (reply: Buffer) => boolean,
  timeoutMs = 1000,
): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const sock = 'path' in target ? connect(target.path) : connect(target.port, target.host);
    const parts: Buffer[] = [];
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error('no reply'));
    }, timeoutMs);
    sock.on('connect', () => sock.write(request));
    sock.on('data', (d) => {
      parts.push(d);
      const all = Buffer.concat(parts);
      if (done(all)) {
        clearTimeout(timer);
        sock.destroy();
        resolve(all);
      }
    });
    sock.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    sock.on('close', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(parts));
    });
  });
}

export interface Managed {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

export function spawnManaged(cmd: string, args: string[]): Managed {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const keep = (d: Buffer) => {
    // Only the tail matters for diagnosing a failed start.
    out = (out + d.toString()).slice(-8000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<number | null>((resolve) => {
    child.on('exit', (code) => resolve(code));
    child.on('error', () => resolve(-1));
  });
  return { child, output: () => out, exited };
}

/** Polls `ready` until it resolves true; fails fast (with the process output) if the process dies. */
export async function waitUntilReady(
  what: string,
  m: Managed,
  ready: () => Promise<boolean>,
  deadlineMs: number,
  extraDiagnostics: () => string = () => '',
): Promise<void> {
  const until = Date.now() + deadlineMs;
  let dead = false;
  void m.exited.then(() => {
    dead = true;
  });
  while (Date.now() < until) {
    if (dead) throw new Error(`${what} exited during start-up:\n${m.output()}\n${extraDiagnostics()}`);
    if (await ready().catch(() => false)) return;
    await sleep(25);
  }
  m.child.kill('SIGKILL');
  throw new Error(`${what} not ready after ${deadlineMs} ms:\n${m.output()}\n${extraDiagnostics()}`);
}

export async function stopManaged(m: Managed, graceMs = 5000): Promise<void> {
  if (m.child.exitCode !== null || m.child.signalCode !== null) return;
  // A SIGSTOPped process would never act on SIGTERM.
  m.child.kill('SIGCONT');
  m.child.kill('SIGTERM');
  const t = setTimeout(() => m.child.kill('SIGKILL'), graceMs);
  await m.exited;
  clearTimeout(t);
}
