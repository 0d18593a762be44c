import { execFileSync, spawn } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, ROOT, runCli } from '../../helpers/cli.js';

/**
 * `unseal decrypt -o PATH` writes where `openssl -out PATH` would: through a symlink (the link
 * stays, its target gets the content, still atomically next to the target), directly into a FIFO
 * or a character device (never renamed over), and on an error exit nothing is left behind.
 */
const DEMO = join(ROOT, 'test/fixtures/demo');
const KEY = ['--key', join(DEMO, 'alice.p12'), '--pass-file', join(DEMO, 'alice.pass')];
const plain = Buffer.from('Content-Type: text/plain\r\n\r\nOUTPUT-FILE-PLAINTEXT\r\n');
let dir: string;
let der: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'unseal-out-'));
  writeFileSync(join(dir, 'plain.eml'), plain);
  der = join(dir, 'msg.der');
  execFileSync('openssl', ['cms', '-encrypt', '-binary', '-aes128', '-in', join(dir, 'plain.eml'), '-outform', 'DER', '-out', der, join(DEMO, 'alice.pem')]);
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/**
 * `unseal … | cat` as a shell runs it: the CLI's standard output is a pipe(2). (Node gives a child
 * a socket for 'pipe', and a socket cannot be reopened through /proc/self/fd — not by openssl either.)
 */
function throughShellPipe(args: string[]): Promise<{ code: number | null; stdout: Buffer; stderr: string }> {
  return new Promise((res, rej) => {
    const p = spawn('bash', ['-c', 'set -o pipefail; "$@" | cat', 'bash', process.execPath, CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    p.stdout.on('data', (c: Buffer) => out.push(c));
    p.stderr.on('data', (c: Buffer) => err.push(c));
    p.on('error', rej);
    p.on('close', (code) => res({ code, stdout: Buffer.concat(out), stderr: Buffer.concat(err).toString('utf8') }));
  });
}

function fresh(name: string): string {
  const d = join(dir, name);
  mkdirSync(d);
  return d;
}

describe('decrypt -o through symlinks and into special files', () => {
  it('a symlink is followed: the link stays, its target (in another directory) gets the content, no temp file is left', async () => {
    const d = fresh('symlink');
    mkdirSync(join(d, 'real'));
    writeFileSync(join(d, 'real', 'target.eml'), 'old content');
    symlinkSync('real/target.eml', join(d, 'link.eml'));
    const r = await runCli(['decrypt', ...KEY, '-o', join(d, 'link.eml'), der]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.length).toBe(0);
    expect(lstatSync(join(d, 'link.eml')).isSymbolicLink()).toBe(true);
    expect(readlinkSync(join(d, 'link.eml'))).toBe('real/target.eml');
    expect(readFileSync(join(d, 'real', 'target.eml')).equals(plain)).toBe(true);
    expect(readdirSync(d).sort()).toEqual(['link.eml', 'real']);
    expect(readdirSync(join(d, 'real'))).toEqual(['target.eml']);
  });

  it('a chain of symlinks and a dangling symlink: the file the chain names is created', async () => {
    const d = fresh('dangling');
    symlinkSync(join(d, 'second'), join(d, 'first'));
    symlinkSync('made.eml', join(d, 'second'));
    const r = await runCli(['decrypt', ...KEY, '-o', join(d, 'first'), der]);
    expect(r.code, r.stderr).toBe(0);
    expect(lstatSync(join(d, 'first')).isSymbolicLink()).toBe(true);
    expect(lstatSync(join(d, 'second')).isSymbolicLink()).toBe(true);
    expect(readFileSync(join(d, 'made.eml')).equals(plain)).toBe(true);
  });

  it('a symlink loop is an io error (exit 2) and the links are left alone', async () => {
    const d = fresh('loop');
    symlinkSync('b', join(d, 'a'));
    symlinkSync('a', join(d, 'b'));
    const r = await runCli(['decrypt', ...KEY, '-o', join(d, 'a'), der]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^unseal: io: cannot write .*symbolic links \(ELOOP\)\n$/);
    expect(readlinkSync(join(d, 'a'))).toBe('b');
    expect(readdirSync(d).sort()).toEqual(['a', 'b']);
  });

  it('a FIFO is written into, not replaced', async () => {
    const d = fresh('fifo');
    const fifo = join(d, 'pipe');
    execFileSync('mkfifo', [fifo]);
    // The reader is a separate process, so a CLI that renamed over the FIFO cannot hang this one.
    const reader = spawn('cat', [fifo], { stdio: ['ignore', 'pipe', 'ignore'] });
    const got: Buffer[] = [];
    reader.stdout.on('data', (c: Buffer) => got.push(c));
    const done = new Promise<void>((res) => reader.on('close', () => res()));
    const r = await runCli(['decrypt', ...KEY, '-o', fifo, der]);
    const timer = setTimeout(() => reader.kill(), 5_000);
    await done;
    clearTimeout(timer);
    expect(r.code, r.stderr).toBe(0);
    expect(Buffer.concat(got).equals(plain)).toBe(true);
    expect(lstatSync(fifo).isFIFO()).toBe(true);
    expect(readdirSync(d)).toEqual(['pipe']);
  });

  // As root a regression would replace the machine's /dev/null, so root uses a device node of its own.
  it('a character device is written into, not replaced', async () => {
    let dev = '/dev/null';
    if (process.getuid?.() === 0) {
      dev = join(fresh('chardev'), 'null');
      execFileSync('mknod', [dev, 'c', '1', '3']);
    }
    const r = await runCli(['decrypt', ...KEY, '-o', dev, der]);
    expect(r.code, r.stderr).toBe(0);
    expect(lstatSync(dev).isCharacterDevice()).toBe(true);
    if (dev !== '/dev/null') expect(readdirSync(join(dir, 'chardev'))).toEqual(['null']);
  });

  // What /dev/stdout itself is; not /dev/stdout directly, since as root (CI) a regression would
  // replace the machine's real one.
  it('a link to /proc/self/fd/1 (what /dev/stdout is) writes into the pipe the standard output is; the link stays', async () => {
    const d = fresh('stdout');
    const link = join(d, 'stdout');
    symlinkSync('/proc/self/fd/1', link);
    const r = await throughShellPipe(['decrypt', ...KEY, '-o', link, der]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.equals(plain)).toBe(true);
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(readdirSync(d)).toEqual(['stdout']);
  });

  it('an error exit leaves the symlink target untouched and no temp file anywhere', async () => {
    const d = fresh('error');
    mkdirSync(join(d, 'real'));
    writeFileSync(join(d, 'real', 'target.eml'), 'keep me');
    symlinkSync(join(d, 'real', 'target.eml'), join(d, 'link.eml'));
    const r = await runCli(['decrypt', ...KEY, '-o', join(d, 'link.eml'), join(d, 'missing.der')]);
    expect(r.code).toBe(2);
    const wrong = join(d, 'garbage.der');
    writeFileSync(wrong, Buffer.from([0x30, 0x03, 0x02, 0x01, 0x00]));
    const m = await runCli(['decrypt', ...KEY, '-o', join(d, 'link.eml'), wrong]);
    expect(m.code).toBe(4);
    expect(readFileSync(join(d, 'real', 'target.eml'), 'utf8')).toBe('keep me');
    expect(readdirSync(join(d, 'real'))).toEqual(['target.eml']);
    expect(readdirSync(d).sort()).toEqual(['garbage.der', 'link.eml', 'real']);
    expect(existsSync(join(d, 'missing.der'))).toBe(false);
  });
});
