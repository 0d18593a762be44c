import { execFileSync, spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, ROOT } from '../../helpers/cli.js';

/**
 * The CLI as it is really started: through a symlink (what `npm link` and a package `bin` install)
 * and with a standard output that fails (a reader that closes the pipe, a full disk).
 */
const DEMO = join(ROOT, 'test/fixtures/demo');
const KEY = ['--key', join(DEMO, 'alice.p12'), '--pass-file', join(DEMO, 'alice.pass')];
let dir: string;
let big: string;
let plain: Buffer;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'unseal-entry-'));
  // Larger than a pipe buffer, so a closed reader is noticed while writing.
  plain = randomBytes(3_000_000);
  writeFileSync(join(dir, 'plain.bin'), plain);
  big = join(dir, 'big.der');
  execFileSync('openssl', ['cms', '-encrypt', '-binary', '-aes256', '-in', join(dir, 'plain.bin'), '-outform', 'DER', '-out', big, join(DEMO, 'alice.pem')]);
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function run(cmd: string, args: string[], stdout: 'pipe' | number = 'pipe', closeAfter?: number): Promise<{ code: number | null; out: Buffer; err: string }> {
  return new Promise((res, rej) => {
    const p = spawn(cmd, args, { stdio: ['ignore', stdout, 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let got = 0;
    p.stdout?.on('data', (d: Buffer) => {
      out.push(d);
      got += d.length;
      // Like `| head -c N`: stop reading and close the pipe.
      if (closeAfter !== undefined && got >= closeAfter) p.stdout!.destroy();
    });
    p.stderr!.on('data', (d: Buffer) => err.push(d));
    p.on('error', rej);
    p.on('close', (code) => res({ code, out: Buffer.concat(out), err: Buffer.concat(err).toString('utf8') }));
  });
}

describe('the unseal entry point', () => {
  it('runs when started through a symlink (npm link / bin)', async () => {
    const link = join(dir, 'unseal');
    symlinkSync(CLI, link);
    const help = await run(link, ['--help']);
    expect(help.code).toBe(0);
    expect(help.out.toString()).toMatch(/^usage: unseal <command>/);
    const missing = await run(link, ['decrypt', ...KEY, join(dir, 'no-such.eml')]);
    expect(missing.code).toBe(2);
    expect(missing.err).toMatch(/^unseal: io: cannot read .*no such file/);
    const ok = await run(link, ['decrypt', ...KEY, big]);
    expect(ok.code).toBe(0);
    expect(ok.out.equals(plain)).toBe(true);
  });

  it('a reader that closes the pipe early ⇒ exit 2 with one io line, no stack trace', async () => {
    const r = await run(process.execPath, [CLI, 'decrypt', ...KEY, big], 'pipe', 10);
    expect(r.code).toBe(2);
    expect(r.err.trim().split('\n')).toEqual(['unseal: io: cannot write to standard output: the reader closed the pipe (EPIPE)']);
  });

  it('a verdict keeps its exit code when its report cannot be written (the reader is gone)', async () => {
    const r = await new Promise<{ code: number | null; err: string }>((res, rej) => {
      // A scanner nobody listens on: the verdict is "not scanned" (11), with a report to print.
      const p = spawn(process.execPath, [CLI, 'scan', '--scanner', 'clamd://127.0.0.1:9', '--json', join(dir, 'plain.bin')], { stdio: ['ignore', 'pipe', 'pipe'] });
      p.stdout!.destroy();
      const err: Buffer[] = [];
      p.stderr!.on('data', (d: Buffer) => err.push(d));
      p.on('error', rej);
      p.on('close', (code) => res({ code, err: Buffer.concat(err).toString('utf8') }));
    });
    expect(r.code).toBe(11);
    expect(r.err).toContain('unseal: io: cannot write to standard output: the reader closed the pipe (EPIPE)');
  });

  it('a full disk on standard output ⇒ exit 2 with one io line', async () => {
    const fd = openSync('/dev/full', 'w');
    try {
      const r = await run(process.execPath, [CLI, 'decrypt', ...KEY, big], fd);
      expect(r.code).toBe(2);
      expect(r.err.trim().split('\n')).toEqual(['unseal: io: cannot write to standard output: no space left on the device (ENOSPC)']);
    } finally {
      closeSync(fd);
    }
  });
});
