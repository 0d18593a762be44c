import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, runCli } from '../helpers/cli.js';
import { CORPUS, passFile, sha256, tortureCases } from '../helpers/corpus.js';

const tmp = mkdtempSync(join(tmpdir(), 'unseal-cli-'));
const t04 = tortureCases().find((c) => c.id.endsWith('04-x-pkcs7-mime-legacy-type'))!;
const DEMO = join(ROOT, 'test/fixtures/demo');
/** RFC 4134 ExContent, "This is some sample content." */
const EXCONTENT_SHA256 = 'c875df2a4210704a9edddbb6dfcc870471168f904d183318bbf184ac0b045e53';

function expectError(r: { code: number; stdout: Buffer; stderr: string }, code: number, kind: string) {
  expect(r.code, r.stderr).toBe(code);
  expect(r.stdout.length).toBe(0);
  expect(r.stderr).toMatch(new RegExp(`^unseal: ${kind}: .+\\n$`));
}

describe.concurrent('CLI contract', () => {
  it('usage errors exit 2: unknown command, unknown option, no key, two inputs', async () => {
    expectError(await runCli(['frobnicate']), 2, 'usage');
    expectError(await runCli(['decrypt', '--nope', t04.input]), 2, 'usage');
    expectError(await runCli(['decrypt', t04.input]), 2, 'usage');
    expectError(await runCli(['decrypt', ...t04.args, t04.input, t04.input]), 2, 'usage');
  });

  it('no command at all (bare unseal, bare unseal host): exit 2, the usage on stderr, nothing on stdout', async () => {
    const bare = await runCli([]);
    expect(bare.code).toBe(2);
    expect(bare.stdout.length).toBe(0);
    expect(bare.stderr).toMatch(/^usage: unseal <command> \[options\]\n/);
    const host = await runCli(['host']);
    expect(host.code).toBe(2);
    expect(host.stdout.length).toBe(0);
    expect(host.stderr).toMatch(/^usage: unseal host install /);
    // Asked for, help is output: stdout, exit 0.
    for (const args of [['--help'], ['host', '--help']]) {
      const h = await runCli(args);
      expect(h.code).toBe(0);
      expect(h.stdout.toString()).toMatch(/^usage: unseal /);
      expect(h.stderr).toBe('');
    }
  });

  it('wrong password exits 7 with "wrong password", and leaves no -o file', async () => {
    const out = join(tmp, 'wrong-pw.out');
    const r = await runCli(['decrypt', '--key', join(t04.dir, 'key.p12'), '--pass-file', passFile('not-the-password'), '-o', out, t04.input]);
    expectError(r, 7, 'wrong_password');
    expect(existsSync(out)).toBe(false);
  });

  it('unreadable or garbage key files exit 7', async () => {
    expectError(await runCli(['decrypt', '--key', join(tmp, 'missing.p12'), t04.input]), 7, 'key_unreadable');
    const junk = join(tmp, 'junk.p12');
    writeFileSync(junk, 'this is not a key\n');
    expectError(await runCli(['decrypt', '--key', junk, t04.input]), 7, 'key_unreadable');
  });

  it('a certificate-only file is not a key (exit 7)', async () => {
    expectError(await runCli(['decrypt', '--key', join(t04.dir, 'cert.pem'), t04.input]), 7, 'no_private_key');
  });

  it('PEM key + certificate instead of PKCS#12', async () => {
    const r = await runCli(['decrypt', '--key', join(t04.dir, 'key.pem'), '--cert', join(t04.dir, 'cert.pem'), t04.input]);
    expect(r.code, r.stderr).toBe(0);
    expect(sha256(r.stdout)).toBe(t04.expected.plaintext_sha256);
  });

  it('several keys: the matching one is chosen by recipient id, in any order', async () => {
    const other = tortureCases().find((c) => c.id.endsWith('31-wrong-key-no-recipient'))!;
    const r = await runCli(['decrypt', '--key', join(other.dir, 'key.pem'), '--cert', join(other.dir, 'cert.pem'), '--key', join(t04.dir, 'key.pem'), '--cert', join(t04.dir, 'cert.pem'), t04.input]);
    expect(r.code, r.stderr).toBe(0);
    expect(sha256(r.stdout)).toBe(t04.expected.plaintext_sha256);
  });

  it('no matching recipient names the recipients the message is for', async () => {
    const c = tortureCases().find((x) => x.id.endsWith('31-wrong-key-no-recipient'))!;
    const r = await runCli(['decrypt', ...c.args, c.input]);
    expectError(r, 3, 'no_matching_recipient');
    expect(r.stderr).toMatch(/issuer=.*serial=/);
  });

  it('PEM and bare base64 CMS input are detected', async () => {
    const der = readFileSync(join(CORPUS, 'producers/enveloped/ossl-ktri-rsa15-aes256cbc.der'));
    const b64 = der.toString('base64').replace(/.{64}/g, '$&\n');
    const pem = join(tmp, 'in.pem');
    writeFileSync(pem, `-----BEGIN CMS-----\n${b64}\n-----END CMS-----\n`);
    const bare = join(tmp, 'in.b64');
    writeFileSync(bare, b64);
    const keys = ['--key', join(CORPUS, 'producers/keys/rsa2048.key'), '--cert', join(CORPUS, 'producers/keys/rsa2048.pem')];
    const want = sha256(readFileSync(join(CORPUS, 'producers/plain.txt')));
    for (const f of [pem, bare]) {
      const r = await runCli(['decrypt', ...keys, f]);
      expect(r.code, r.stderr).toBe(0);
      expect(sha256(r.stdout)).toBe(want);
    }
  });

  it('X25519 with HKDF (RFC 8418) and AES-GCM: the RFC 9216 example for Dana', async () => {
    const P = join(CORPUS, 'public/cryptosys-examples-cms');
    const keys = ['--key', join(P, 'lamps-dana.decrypt.p8.pem'), '--cert', join(P, 'lamps-dana.encrypt.crt')];
    for (const f of ['authEnvelopedForDanaX25519HKDF.p7m', 'encryptedForBobAndDana.p7m']) {
      const r = await runCli(['decrypt', ...keys, join(P, f)]);
      expect(r.code, r.stderr).toBe(0);
      expect(sha256(r.stdout)).toBe(EXCONTENT_SHA256);
    }
  });

  it('inspect needs no key and lists recipients and algorithms', async () => {
    const r = await runCli(['inspect', t04.input]);
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout.toString());
    expect(j.input).toBe('mime');
    expect(j.objects[0]).toMatchObject({ cmsType: 'enveloped', contentAlgorithm: 'AES-128-CBC' });
    expect(j.objects[0].recipients[0]).toMatchObject({ type: 'ktri', algorithm: 'RSAES-PKCS1-v1_5' });
    expect(j.objects[0].recipients[0].id).toMatch(/^issuer=.*; serial=[0-9a-f]+$/);
  });

  it('the demo message opens: layers, signature status, text and attachment', async () => {
    const r = await runCli(['open', '--json', '--key', join(DEMO, 'alice.p12'), '--pass-file', join(DEMO, 'alice.pass'), '--trust', join(DEMO, 'ca.pem'), join(DEMO, 'encrypted-signed.eml')]);
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout.toString());
    expect(j.layers.map((l: { type: string }) => l.type)).toEqual(['enveloped', 'signed']);
    expect(j.layers[0]).toMatchObject({ contentAlgorithm: 'AES-256-CBC', encoding: 'DER' });
    expect(j.layers[1].signers[0]).toMatchObject({ signatureValid: true, certificateStatus: 'valid' });
    expect(j.message.text).toContain('Grüße, Bob');
    expect(j.message.attachments).toEqual([expect.objectContaining({ filename: 'figures.csv', contentType: 'text/csv', size: 40 })]);
  });
});
