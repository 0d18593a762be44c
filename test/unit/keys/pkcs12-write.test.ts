/**
 * The PKCS#12 encoder: its output imports with the core AND with OpenSSL (`openssl pkcs12 -info`),
 * uses PBES2 (PBKDF2-HMAC-SHA-256, AES-256-CBC) and an HMAC-SHA-256 MAC, and a wrong password fails.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadKeyFile } from '../../../src/core/keys/load.js';
import { writePkcs12 } from '../../../src/core/keys/pkcs12-write.js';
import { pkcs12Protection } from '../../../src/core/keys/preview.js';
import { ROOT } from '../../helpers/cli.js';
import { rejectionKind, subtle } from './corpus-paths.js';

const ALICE_P12 = new Uint8Array(readFileSync(resolve(ROOT, 'test/fixtures/demo/alice.p12')));
const ALICE_PASS = readFileSync(resolve(ROOT, 'test/fixtures/demo/alice.pass'), 'utf8').trim();
const dir = mkdtempSync(join(tmpdir(), 'unseal-p12w-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('writePkcs12', () => {
  it('round-trips through the core and through openssl pkcs12', async () => {
    const src = (await loadKeyFile(subtle, ALICE_P12, { password: ALICE_PASS })).keys[0]!;
    const password = 'new pässword';
    const p12 = await writePkcs12(subtle, { pkcs8: src.privateKey.pkcs8, certificates: [src.certificate!.der, ...src.chain.map((c) => c.der)], friendlyName: 'Alice (export)' }, password, { iterations: 10_000 });

    // 1. The core reads it back: same key, same certificate, the friendly name.
    const back = await loadKeyFile(subtle, p12, { password });
    expect(back.keys).toHaveLength(1);
    expect(back.keys[0]!.id).toBe(src.id);
    expect(back.keys[0]!.certificate?.sha256Fingerprint).toBe(src.certificate!.sha256Fingerprint);
    expect(back.keys[0]!.friendlyName).toBe('Alice (export)');
    expect(Buffer.from(back.keys[0]!.privateKey.pkcs8)).toEqual(Buffer.from(src.privateKey.pkcs8));
    expect(await rejectionKind(loadKeyFile(subtle, p12, { password: 'wrong' }))).toBe('wrong_password');
    expect(pkcs12Protection(p12)).toEqual(['PBES2']);

    // 2. OpenSSL: MAC verified (sha256), PBES2/PBKDF2/hmacWithSHA256/AES-256-CBC for both bags.
    const f = join(dir, 'out.p12');
    writeFileSync(f, p12);
    const info = execFileSync('openssl', ['pkcs12', '-info', '-nokeys', '-in', f, '-passin', `pass:${password}`], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    const infoErr = execFileSync('sh', ['-c', `openssl pkcs12 -info -noout -in "$1" -passin "pass:$2" 2>&1`, 'sh', f, password], { encoding: 'utf8' });
    expect(infoErr).toMatch(/MAC: sha256, Iteration 2048/);
    expect(infoErr).toMatch(/Shrouded Keybag: PBES2, PBKDF2, AES-256-CBC, Iteration 10000, PRF hmacWithSHA256/);
    expect(infoErr).toMatch(/PKCS7 Encrypted data: PBES2, PBKDF2, AES-256-CBC, Iteration 10000, PRF hmacWithSHA256/);
    expect(info).toContain('BEGIN CERTIFICATE');
    expect(info).toMatch(/friendlyName: Alice \(export\)/);
    // The key OpenSSL decrypts is the same key.
    const keyPem = execFileSync('openssl', ['pkcs12', '-in', f, '-nocerts', '-nodes', '-passin', `pass:${password}`], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    const fromOpenssl = await loadKeyFile(subtle, new TextEncoder().encode(keyPem), {});
    expect(fromOpenssl.keys[0]!.id).toBe(src.id);
    // A wrong password: OpenSSL reports the MAC failure.
    expect(() => execFileSync('openssl', ['pkcs12', '-info', '-noout', '-in', f, '-passin', 'pass:wrong'], { stdio: 'pipe' })).toThrow();
  }, 60_000);

  it('writes a key without certificates', async () => {
    const src = (await loadKeyFile(subtle, ALICE_P12, { password: ALICE_PASS })).keys[0]!;
    const p12 = await writePkcs12(subtle, { pkcs8: src.privateKey.pkcs8, certificates: [] }, 'x', { iterations: 1000 });
    const back = await loadKeyFile(subtle, p12, { password: 'x' });
    expect(back.keys[0]!.id).toBe(src.id);
    expect(back.keys[0]!.certificate).toBeUndefined();
  });
});
