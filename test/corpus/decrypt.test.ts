import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { EXIT_FOR_KIND, producerCases, publicCases, sha256, tortureCases, type DecryptCase } from '../helpers/corpus.js';

/**
 * The whole shared corpus through the real CLI: every decryptable object gives exactly the
 * expected plaintext hash, every error case the right exit code with nothing on stdout and no
 * output file left behind.
 */
function check(c: DecryptCase) {
  return async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'unseal-out-')), 'plain.bin');
    const r = await runCli(['decrypt', ...c.args, '-o', out, c.input]);
    expect(r.stdout.length, 'stdout must stay empty with -o').toBe(0);
    const e = c.expected;
    if (e.outcome === 'decrypts') {
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(sha256(readFileSync(out))).toBe(e.plaintext_sha256);
    } else {
      expect(r.code, r.stderr).toBe(EXIT_FOR_KIND[e.error_kind!]);
      expect(r.stderr).toMatch(new RegExp(`^unseal: ${e.error_kind}: .+\\n$`));
      expect(existsSync(out)).toBe(false);
      if (e.max_seconds) expect(r.ms).toBeLessThan(e.max_seconds * 1000);
    }
  };
}

describe.concurrent('public corpus (other projects\' test suites)', () => {
  for (const c of publicCases()) it(c.id, check(c));
});

describe.concurrent('producer corpus (OpenSSL, NSS, pkijs)', () => {
  for (const c of producerCases()) it(c.id, check(c));
});

describe.concurrent('torture corpus (public bug reports)', () => {
  for (const c of tortureCases()) it(c.id, check(c));
});

describe.concurrent('decrypt writes to stdout exactly the plaintext', () => {
  const c = tortureCases().find((x) => x.id.endsWith('04-x-pkcs7-mime-legacy-type'))!;
  it('stdout', async () => {
    const r = await runCli(['decrypt', ...c.args, c.input]);
    expect(r.code, r.stderr).toBe(0);
    expect(sha256(r.stdout)).toBe(c.expected.plaintext_sha256);
  });
  it('stdin input', async () => {
    const r = await runCli(['decrypt', ...c.args, '-'], { stdin: readFileSync(c.input) });
    expect(r.code, r.stderr).toBe(0);
    expect(sha256(r.stdout)).toBe(c.expected.plaintext_sha256);
  });
});
