import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, runCli } from '../../helpers/cli.js';

/**
 * `--timeout MS` above 2^31 − 1 ms: Node's timers turn such a delay into 1 ms (with a
 * TimeoutOverflowWarning), so every scan would time out at once. Each command that takes the
 * option refuses it as a usage error instead; the largest value that works is still accepted.
 */
const DEMO = join(ROOT, 'test/fixtures/demo');
const KEY = ['--key', join(DEMO, 'alice.p12'), '--pass-file', join(DEMO, 'alice.pass')];
const MSG = join(DEMO, 'encrypted-signed.eml');
let dir: string;
let scanner: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'unseal-timeout-'));
  writeFileSync(join(dir, 'plain.eml'), 'Content-Type: text/plain\r\n\r\nhello\r\n');
  copyFileSync(MSG, join(dir, 'encrypted.eml')); // for rescan: one message it decrypts and cannot scan
  // Nobody listens: a scan is unscanned (exit 11) quickly, whatever the timeout.
  scanner = `clamd+unix://${join(dir, 'none.ctl')}`;
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const commands: Record<string, (timeout: string) => string[]> = {
  scan: (t) => ['scan', '--scanner', scanner, '--timeout', t, join(dir, 'plain.eml')],
  open: (t) => ['open', ...KEY, '--scanner', scanner, '--timeout', t, MSG],
  rescan: (t) => ['rescan', ...KEY, '--scanner', scanner, `--timeout=${t}`, dir],
};

describe.concurrent('--timeout bounds', () => {
  it.each(Object.keys(commands))('%s: 2147483648 and more is a usage error (exit 2), nothing on stdout', async (name) => {
    for (const t of ['2147483648', '9007199254740991']) {
      const r = await runCli(commands[name]!(t));
      expect(r.code, `${t}: ${r.stderr}`).toBe(2);
      expect(r.stdout.length).toBe(0);
      expect(r.stderr).toBe(`unseal: usage: --timeout ${t} is too large: at most 2147483647 milliseconds (about 24.8 days)\n`);
    }
    // Digits only: what Number() would also read (exponents, hex, padding) is refused too.
    for (const t of ['0', '-5', '1.5', 'soon', '1e3', '1e10', '0x10', ' 100']) {
      const r = await runCli(commands[name]!(t));
      expect(r.code, t).toBe(2);
      expect(r.stderr).toBe(`unseal: usage: --timeout must be a positive whole number of milliseconds, got '${t}'\n`);
    }
  });

  it.each(Object.keys(commands))('%s: 2147483647 is accepted and no timer overflows', async (name) => {
    const r = await runCli(commands[name]!('2147483647'));
    expect(r.code, r.stderr).toBe(11);
    expect(r.stderr).not.toMatch(/TimeoutOverflowWarning/);
  });
});
