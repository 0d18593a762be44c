import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { senderAddress } from '../../../src/core/unwrap/open.js';
import { ROOT, runCli } from '../../helpers/cli.js';

/**
 * A good signature by someone other than the message's sender (RFC 8551 §3: the signer's address
 * should match From) is flagged: senderMatches false in `open --json`, "NOT the sender" in the text.
 * Messages signed with Alice's key by OpenSSL, with different From lines.
 */
const DEMO = join(ROOT, 'test/fixtures/demo');
const KEY = ['--key', join(DEMO, 'alice.p12'), '--pass-file', join(DEMO, 'alice.pass'), '--trust', join(DEMO, 'ca.pem')];
let dir: string;

function signedFrom(name: string, from: string | undefined): string {
  const inner = join(dir, `${name}.inner`);
  writeFileSync(inner, 'Content-Type: text/plain\r\n\r\nsigned text\r\n');
  const p7m = execFileSync('openssl', ['smime', '-sign', '-nodetach', '-in', inner, '-signer', join(DEMO, 'alice.pem'), '-inkey', join(DEMO, 'alice.key')]).toString('latin1');
  const file = join(dir, `${name}.eml`);
  writeFileSync(file, `${from !== undefined ? `From: ${from}\r\n` : ''}Subject: s\r\n${p7m.replace(/\r?\n/g, '\r\n')}`, 'latin1');
  return file;
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'unseal-sender-'));
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('signer vs sender', () => {
  it.each([
    ['Alice Demo <ALICE@demo.example>', true],
    ['alice@demo.example', true],
    ['Bob <bob@demo.example>', false],
    [undefined, undefined],
  ] as const)('From %s ⇒ senderMatches %s', async (from, expected) => {
    const r = await runCli(['open', '--json', ...KEY, signedFrom(`m${Math.random().toString(36).slice(2)}`, from)]);
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout.toString()) as { layers: { signers: { signatureValid: boolean; emails?: string[]; senderMatches?: boolean }[] }[] };
    const s = j.layers[0]!.signers[0]!;
    expect(s.signatureValid).toBe(true);
    expect(s.emails).toEqual(['alice@demo.example']);
    expect(s.senderMatches).toBe(expected);
  });

  it('the demo message (From Bob, signed by Alice) says so in the text report', async () => {
    const r = await runCli(['open', ...KEY, join(DEMO, 'encrypted-signed.eml')]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.toString()).toMatch(/signature valid, certificate valid, NOT the sender \(From\)/);
  });

  it('senderAddress reads one address from a From header', () => {
    expect(senderAddress('"Doe, Jane" <Jane@Example.org>')).toBe('jane@example.org');
    expect(senderAddress('jane@example.org')).toBe('jane@example.org');
    expect(senderAddress('a <a@x.org>, b <b@x.org>')).toBeUndefined();
    expect(senderAddress('undisclosed')).toBeUndefined();
    expect(senderAddress(undefined)).toBeUndefined();
  });
});
