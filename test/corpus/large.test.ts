import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, runCli } from '../helpers/cli.js';

/**
 * 100 MB messages made by OpenSSL at test time (nothing large is stored): DER, and the S/MIME
 * mail form (BER from -stream, base64 in a MIME message).
 */
const MB = 1024 * 1024;
const DEMO = join(ROOT, 'test/fixtures/demo');
const keys = ['--key', join(DEMO, 'alice.p12'), '--pass-file', join(DEMO, 'alice.pass')];
let dir: string;
let plainSha: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'unseal-large-'));
  const plain = randomBytes(100 * MB);
  plainSha = createHash('sha256').update(plain).digest('hex');
  writeFileSync(join(dir, 'plain.bin'), plain);
  execFileSync('openssl', ['cms', '-encrypt', '-binary', '-aes256', '-in', join(dir, 'plain.bin'), '-outform', 'DER', '-out', join(dir, 'big.der'), join(DEMO, 'alice.pem')]);
  execFileSync('openssl', ['cms', '-encrypt', '-binary', '-stream', '-aes128', '-in', join(dir, 'plain.bin'), '-out', join(dir, 'big.eml'), join(DEMO, 'alice.pem')]);
}, 120_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function sha(f: string) {
  return createHash('sha256').update(readFileSync(f)).digest('hex');
}

describe('100 MB messages', () => {
  it('DER AES-256-CBC', async () => {
    const out = join(dir, 'out-der');
    const r = await runCli(['decrypt', ...keys, '-o', out, join(dir, 'big.der')]);
    expect(r.code, r.stderr).toBe(0);
    expect(statSync(out).size).toBe(100 * MB);
    expect(sha(out)).toBe(plainSha);
  }, 120_000);

  it('S/MIME mail: BER (streamed) AES-128-CBC, base64 in MIME', async () => {
    const out = join(dir, 'out-eml');
    const r = await runCli(['decrypt', ...keys, '-o', out, join(dir, 'big.eml')]);
    expect(r.code, r.stderr).toBe(0);
    expect(sha(out)).toBe(plainSha);
  }, 120_000);
});
