import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, existsSync, ftruncateSync, mkdtempSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ROOT, runCli } from '../helpers/cli.js';
import { CORPUS } from '../helpers/corpus.js';
import { MAX_MESSAGE_BYTES } from '../../src/core/unwrap/input-detect.js';

/**
 * Findings of the QA run on a fresh clone, through the built CLI: input forms OpenSSL accepts,
 * exit codes and messages of the key options, the size bound.
 */
const DEMO = join(ROOT, 'test/fixtures/demo');
const ALICE_P12 = ['--key', join(DEMO, 'alice.p12'), '--pass-file', join(DEMO, 'alice.pass')];
const BOB = { key: join(CORPUS, 'producers/keys/bob.key'), cert: join(CORPUS, 'producers/keys/bob.pem') };
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const tmp = mkdtempSync(join(tmpdir(), 'unseal-qa-'));
const plain = Buffer.from('Content-Type: text/plain\r\nSubject: qa\r\n\r\nQA-PLAINTEXT\r\n');
let eml: string; // openssl's S/MIME output (CRLF), encrypted to Alice
let pemCms: string;

function expectError(r: { code: number; stdout: Buffer; stderr: string }, code: number, kind: string, message?: RegExp) {
  expect(r.code, r.stderr).toBe(code);
  expect(r.stdout.length).toBe(0);
  expect(r.stderr).toMatch(new RegExp(`^unseal: ${kind}: .+\\n$`));
  if (message) expect(r.stderr).toMatch(message);
}

beforeAll(() => {
  writeFileSync(join(tmp, 'plain.eml'), plain);
  eml = join(tmp, 'alice.eml');
  execFileSync('openssl', ['cms', '-encrypt', '-binary', '-aes128', '-in', join(tmp, 'plain.eml'), '-out', eml, join(DEMO, 'alice.pem')]);
  pemCms = join(tmp, 'alice.pem.cms');
  execFileSync('openssl', ['cms', '-encrypt', '-binary', '-aes128', '-in', join(tmp, 'plain.eml'), '-outform', 'PEM', '-out', pemCms, join(DEMO, 'alice.pem')]);
  execFileSync('openssl', ['cms', '-encrypt', '-binary', '-aes128', '-secretkey', '000102030405060708090a0b0c0d0e0f', '-secretkeyid', 'c0ffee', '-in', join(tmp, 'plain.eml'), '-outform', 'DER', '-out', join(tmp, 'kek.der')]);
  execFileSync('openssl', ['cms', '-EncryptedData_encrypt', '-aes128', '-secretkey', '000102030405060708090a0b0c0d0e0f', '-in', join(tmp, 'plain.eml'), '-outform', 'DER', '-out', join(tmp, 'encdata.der')]);
}, 60_000);

describe.concurrent('input forms OpenSSL accepts', () => {
  it('PEM with text before the armour', async () => {
    const f = join(tmp, 'prefixed.pem');
    writeFileSync(f, `Here is the message you asked for:\n\n${readFileSync(pemCms, 'latin1')}`);
    const r = await runCli(['decrypt', ...ALICE_P12, f]);
    expect(r.code, r.stderr).toBe(0);
    expect(sha(r.stdout)).toBe(sha(plain));
  });

  it('a UTF-8 BOM before an .eml', async () => {
    const f = join(tmp, 'bom.eml');
    writeFileSync(f, Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), readFileSync(eml)]));
    const r = await runCli(['decrypt', ...ALICE_P12, f]);
    expect(r.code, r.stderr).toBe(0);
    expect(sha(r.stdout)).toBe(sha(plain));
  });

  it('an outer message with bare CR line endings', async () => {
    const f = join(tmp, 'cr.eml');
    writeFileSync(f, readFileSync(eml, 'latin1').replace(/\r?\n/g, '\r'), 'latin1');
    const r = await runCli(['decrypt', ...ALICE_P12, f]);
    expect(r.code, r.stderr).toBe(0);
    expect(sha(r.stdout)).toBe(sha(plain));
    const o = await runCli(['open', '--json', ...ALICE_P12, f]);
    expect(o.code, o.stderr).toBe(0);
    expect(JSON.parse(o.stdout.toString()).message.text).toContain('QA-PLAINTEXT');
  });
});

describe.concurrent('exit codes and messages', () => {
  it('file-access errors are io, exit 2: missing input, a directory, -o into a missing directory', async () => {
    expectError(await runCli(['decrypt', ...ALICE_P12, join(tmp, 'missing.eml')]), 2, 'io', /no such file/);
    expectError(await runCli(['inspect', tmp]), 2, 'io', /directory/);
    expectError(await runCli(['decrypt', ...ALICE_P12, '-o', join(tmp, 'no/such/dir/out'), eml]), 2, 'io');
  });

  it('a PEM key without --cert: the no-recipient message says to add --cert', async () => {
    expectError(await runCli(['decrypt', '--key', join(DEMO, 'alice.key'), eml]), 3, 'no_matching_recipient', /has no certificate: add --cert/);
  });

  it('--key and a --cert of someone else: says the certificate does not belong to the key', async () => {
    expectError(await runCli(['decrypt', '--key', BOB.key, '--cert', join(DEMO, 'alice.pem'), eml]), 3, 'no_matching_recipient', /does not belong to the key/);
  });

  it('--kek with the wrong KEK id names the id the message wants', async () => {
    const r = await runCli(['decrypt', '--kek', '000102030405060708090a0b0c0d0e0f:beef', join(tmp, 'kek.der')]);
    expectError(r, 3, 'no_matching_recipient', /KEK id given \(beef\) is not the one it wants: KEK id c0ffee/);
    const ok = await runCli(['decrypt', '--kek', '000102030405060708090a0b0c0d0e0f:c0ffee', join(tmp, 'kek.der')]);
    expect(ok.code, ok.stderr).toBe(0);
  });

  it('--content-key of the wrong length is a usage error naming the length', async () => {
    expectError(await runCli(['decrypt', '--content-key', '0001020304', join(tmp, 'encdata.der')]), 2, 'usage', /has 5 bytes; .*AES-128-CBC needs 16 bytes/);
    const ok = await runCli(['decrypt', '--content-key', '000102030405060708090a0b0c0d0e0f', join(tmp, 'encdata.der')]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(sha(ok.stdout)).toBe(sha(plain));
  });

  it('open on an encrypted message without any key option is a usage error, like decrypt', async () => {
    expectError(await runCli(['open', eml]), 2, 'usage', /no key/);
  });

  it('input over MAX_MESSAGE_BYTES is refused up front with too_large (exit 4), by every command', async () => {
    const f = join(tmp, 'huge.eml');
    const fd = openSync(f, 'w');
    ftruncateSync(fd, MAX_MESSAGE_BYTES + 1); // sparse: nothing is written or read
    closeSync(fd);
    for (const args of [['decrypt', ...ALICE_P12, f], ['inspect', f], ['open', ...ALICE_P12, f]]) {
      const r = await runCli(args);
      expectError(r, 4, 'too_large', /limit is 805306368 bytes/);
      expect(r.ms).toBeLessThan(20_000);
    }
  });
});

describe('a message larger than the longest JS string', () => {
  // The QA case: a 637 MB .eml whose base64 body (> 0x1fffffe8 characters) could not be one string.
  let big: string;
  let bigPlainSha: string;
  beforeAll(() => {
    const p = randomBytes(410 * 1024 * 1024);
    bigPlainSha = sha(p);
    writeFileSync(join(tmp, 'big.bin'), p);
    execFileSync('openssl', ['cms', '-encrypt', '-binary', '-aes128', '-in', join(tmp, 'big.bin'), '-outform', 'DER', '-out', join(tmp, 'big.der'), join(DEMO, 'alice.pem')]);
    const der = readFileSync(join(tmp, 'big.der'));
    expect(Math.ceil(der.length / 3) * 4).toBeGreaterThan(0x1fffffe8);
    big = join(tmp, 'big.eml');
    const fd = openSync(big, 'w');
    writeFileSync(fd, 'MIME-Version: 1.0\r\nContent-Type: application/pkcs7-mime; smime-type=enveloped-data; name=smime.p7m\r\nContent-Transfer-Encoding: base64\r\n\r\n');
    // 57 bytes are one 76-character line; the base64 of the whole object cannot be one string.
    const step = 57 * 100_000;
    for (let i = 0; i < der.length; i += step) writeFileSync(fd, der.subarray(i, i + step).toString('base64').replace(/.{76}/g, '$&\r\n').replace(/\r\n$/, '') + '\r\n');
    closeSync(fd);
  }, 300_000);

  it('decrypt works and inspect lists the object', async () => {
    const out = join(tmp, 'big.out');
    const r = await runCli(['decrypt', ...ALICE_P12, '-o', out, big]);
    expect(r.code, r.stderr).toBe(0);
    expect(existsSync(out)).toBe(true);
    expect(sha(readFileSync(out))).toBe(bigPlainSha);
    const i = await runCli(['inspect', big]);
    expect(i.code, i.stderr).toBe(0);
    expect(JSON.parse(i.stdout.toString()).objects).toEqual([expect.objectContaining({ cmsType: 'enveloped', contentAlgorithm: 'AES-128-CBC' })]);
  }, 300_000);
});
