import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, runCli } from '../../helpers/cli.js';

/**
 * How deep `open` unwraps: counted in S/MIME layers (each encryption and each signature), not in
 * the MIME wrapper + CMS object steps that one opaque signature in a mail takes. Messages made
 * with OpenSSL: a text, signed (opaque, S/MIME output) N times, then encrypted.
 */
const DEMO = join(ROOT, 'test/fixtures/demo');
const KEY = ['--key', join(DEMO, 'alice.p12'), '--pass-file', join(DEMO, 'alice.pass')];
let dir: string;

function wrapped(signatures: number, encrypt: boolean): string {
  let file = join(dir, `l-${signatures}-${encrypt}-0.eml`);
  writeFileSync(file, 'Content-Type: text/plain\r\n\r\nDEPTH-MARKER inside every layer\r\n');
  for (let i = 1; i <= signatures; i++) {
    const next = join(dir, `l-${signatures}-${encrypt}-${i}.eml`);
    execFileSync('openssl', ['smime', '-sign', '-nodetach', '-in', file, '-out', next, '-signer', join(DEMO, 'alice.pem'), '-inkey', join(DEMO, 'alice.key')]);
    file = next;
  }
  if (!encrypt) return file;
  const out = join(dir, `l-${signatures}-enc.eml`);
  execFileSync('openssl', ['smime', '-encrypt', '-aes256', '-in', file, '-out', out, join(DEMO, 'alice.pem')]);
  return out;
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'unseal-depth-'));
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('unwrap depth', () => {
  it.each([
    [4, ' then encrypted', 5],
    [5, '', 5],
    [9, ' then encrypted', 10],
  ])('%i opaque signatures%s: %i layers, all opened and verified, the text shown', async (sigs, how, layers) => {
    const enc = how !== '';
    const r = await runCli(['open', '--json', ...KEY, '--trust', join(DEMO, 'ca.pem'), wrapped(sigs, enc)]);
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout.toString()) as { layers: { type: string }[]; message: { text: string } };
    expect(j.layers).toHaveLength(layers);
    expect(j.layers.filter((l) => l.type === 'signed')).toHaveLength(sigs);
    expect(j.message.text).toContain('DEPTH-MARKER');
  }, 60_000);

  it('more than 10 layers is malformed (exit 4), not a hang', async () => {
    const r = await runCli(['open', '--json', ...KEY, wrapped(10, true)]);
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(/^unseal: malformed_cms: more than 10 nested S\/MIME layers/);
    expect(r.stdout.length).toBe(0);
  }, 60_000);
});
