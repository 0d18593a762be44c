/**
 * Keys managed by the organisation through the built host: a key directory + passwords file in
 * host-config.json, the add-on's client (NativeHostClient over a real child process, as
 * connectNative) listing them, and a real message opened with no user key — the core matches the
 * recipient and decrypts the content, the host only unwraps the content-encryption key.
 * Also `unseal host install --managed-keys` and `doctor` on the passwords file's mode.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { webcrypto } from 'node:crypto';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseEnvelope } from '../../../src/core/cms/enveloped-parse.js';
import { UnsealError } from '../../../src/core/errors.js';
import { loadKeyFile } from '../../../src/core/keys/load.js';
import { openMessage } from '../../../src/core/unwrap/open.js';
import { ManagedKeys } from '../../../src/background/managed-keys.js';
import { NativeHostClient } from '../../../src/platform/native-host.js';
import { ADDON_ID } from '../../../src/protocol/native.js';
import { CORPUS } from '../../helpers/corpus.js';
import { NodeHostPort } from '../native-client/node-port.js';

const subtle = webcrypto.subtle as SubtleCrypto;
const DEMO = resolve('test/fixtures/demo');
const CLI = resolve('dist/cli/unseal.mjs');
let work: string;
const ports: NodeHostPort[] = [];
const clients: NativeHostClient[] = [];

beforeAll(() => {
  execFileSync(process.execPath, ['build.mjs'], { stdio: 'inherit' });
  work = mkdtempSync(join(tmpdir(), 'unseal-managed-it-'));
});
afterAll(async () => {
  for (const c of clients) c.close();
  for (const p of ports) if (p.child.exitCode === null) p.child.kill('SIGKILL');
  rmSync(work, { recursive: true, force: true });
});

/** A key directory with alice.p12 (and optionally more files) and a passwords file of the given mode. */
function keyDir(opts: { mode?: number; passwords?: Record<string, string>; extra?: Record<string, string> } = {}) {
  const base = mkdtempSync(join(work, 'org-'));
  const dir = join(base, 'keys');
  mkdirSync(dir, { mode: 0o755 });
  chmodSync(dir, 0o755);
  copyFileSync(join(DEMO, 'alice.p12'), join(dir, 'alice.p12'));
  for (const [name, from] of Object.entries(opts.extra ?? {})) copyFileSync(from, join(dir, name));
  const passwords = join(base, 'passwords.json');
  writeFileSync(passwords, JSON.stringify(opts.passwords ?? { 'alice.p12': readFileSync(join(DEMO, 'alice.pass'), 'utf8').trim() }));
  chmodSync(passwords, opts.mode ?? 0o600);
  return { dir, passwords };
}

function client(managedKeys: { dir: string; passwords: string }) {
  const home = mkdtempSync(join(work, 'home-'));
  const config = join(home, 'host-config.json');
  writeFileSync(config, JSON.stringify({ managedKeys, auditLog: false }));
  const c = new NativeHostClient({
    clientVersion: '0.1.0-it',
    connect: () => {
      const p = new NodeHostPort({ args: [join(home, 'unseal_host.json'), ADDON_ID], cwd: home, env: { HOME: home, UNSEAL_HOST_CONFIG: config } });
      ports.push(p);
      return p;
    },
  });
  clients.push(c);
  return c;
}

describe('managed keys through the built host', () => {
  it('lists public parts only and opens the demo message with no user key (keySource: the host unwraps, the core decrypts)', async () => {
    const c = client(keyDir());
    const listed = await c.managedKeys();
    expect(listed.problems).toEqual([]);
    expect(listed.keys).toHaveLength(1);
    const alice = (await loadKeyFile(subtle, new Uint8Array(readFileSync(join(DEMO, 'alice.p12'))), { password: 'demo' })).keys[0]!;
    expect(listed.keys[0]).toEqual({ id: alice.id, label: expect.any(String), certificate: Buffer.from(alice.certificate!.der).toString('base64') });
    // Nothing that looks like a private key crossed the port.
    expect(JSON.stringify(listed)).not.toMatch(/PRIVATE|MIIE[vw]/);

    const managed = new ManagedKeys(c);
    const view = await managed.list();
    expect(view.keys[0]).toMatchObject({ id: alice.id, usage: { encryption: true }, summary: { emails: ['alice@demo.example'] } });
    const remote = await managed.source({ retired: true });
    const opened = await openMessage(subtle, new Uint8Array(readFileSync(join(DEMO, 'encrypted-signed.eml'))), { keys: [], remote });
    const enc = opened.layers.find((l) => l.type !== 'signed');
    expect(enc).toMatchObject({ type: 'enveloped', usedKeyId: alice.id, usedRemoteKey: true, contentAlgorithm: 'AES-256-CBC' });
    expect(opened.message.text ?? '').toContain('Hello Alice');
  });

  it('the host refuses a recipient that is not addressed to its key, and unknown key ids', async () => {
    const c = client(keyDir());
    const [k] = (await c.managedKeys()).keys;
    const ri = parseEnvelope(new Uint8Array(readFileSync(join(CORPUS, 'producers', 'enveloped', 'ossl-ktri-rsa15-aes256cbc.der')))).recipients[0]!;
    if (ri.type !== 'ktri') throw new Error('expected ktri');
    const e1 = await c.unwrapManaged({ keyId: k!.id, recipientInfo: ri.der, cekLengths: [32] }).catch((e: unknown) => e);
    expect(e1).toBeInstanceOf(UnsealError);
    expect((e1 as UnsealError).kind).toBe('no_matching_recipient');
    const e2 = await c.unwrapManaged({ keyId: 'f'.repeat(64), recipientInfo: ri.der, cekLengths: [32] }).catch((e: unknown) => e);
    expect((e2 as UnsealError).kind).toBe('no_matching_recipient');
  });

  it('a passwords file others can read: no keys at all, and the reason', async () => {
    const c = client(keyDir({ mode: 0o644 }));
    const r = await c.managedKeys();
    expect(r.keys).toEqual([]);
    expect(r.problems.join('\n')).toMatch(/passwords\.json has mode 644: others can read or change it; run `chmod 600/);
  });

  it('a wrong or missing password names the file, the other keys still load', async () => {
    const c = client(keyDir({ passwords: { 'alice.p12': 'demo' }, extra: { 'old.p12': join(DEMO, 'alice.p12'), 'other.pfx': join(DEMO, 'alice.p12') } }));
    // old.p12 / other.pfx are the same key: no password for them, so they are reported, alice.p12 loads.
    const r = await c.managedKeys();
    expect(r.keys).toHaveLength(1);
    expect(r.problems).toEqual(['old.p12: no password for it in the passwords file', 'other.pfx: no password for it in the passwords file']);
    const c2 = client(keyDir({ passwords: { 'alice.p12': 'wrong' } }));
    expect((await c2.managedKeys()).problems).toEqual(['alice.p12: wrong password in the passwords file']);
  });

  it('a host without managed keys answers an empty list', async () => {
    const home = mkdtempSync(join(work, 'home-'));
    const c = new NativeHostClient({ clientVersion: '0.1.0-it', connect: () => {
      const p = new NodeHostPort({ args: [join(home, 'unseal_host.json'), ADDON_ID], cwd: home, env: { HOME: home, UNSEAL_AUDIT_LOG: 'off' } });
      ports.push(p);
      return p;
    } });
    clients.push(c);
    expect(await c.managedKeys()).toEqual({ keys: [], problems: [] });
  });
});

describe('unseal host install --managed-keys / doctor', () => {
  function cli(args: string[], env: NodeJS.ProcessEnv) {
    const r = spawnSync(process.execPath, [CLI, ...args], { env: { PATH: process.env['PATH'], ...env }, encoding: 'utf8' });
    return { code: r.status, out: r.stdout, err: r.stderr };
  }

  it('writes managedKeys into host-config.json; doctor reports the keys, and fails on a passwords file others can read', () => {
    const home = mkdtempSync(join(work, 'home-'));
    const k = keyDir();
    const inst = cli(['host', 'install', '--managed-keys', k.dir, '--managed-passwords', k.passwords], { HOME: home });
    expect(inst.code, inst.err).toBe(0);
    expect(inst.out).toContain(`managed keys ${k.dir}`);
    const cfg = JSON.parse(readFileSync(join(home, '.mozilla', 'native-messaging-hosts', 'host-config.json'), 'utf8')) as unknown;
    expect(cfg).toEqual({ managedKeys: { dir: k.dir, passwords: k.passwords } });
    const ok = cli(['host', 'doctor', '--no-scan'], { HOME: home });
    expect(ok.out + ok.err).toMatch(/ok\s+managed keys\s+1 key from /);
    chmodSync(k.passwords, 0o640);
    const bad = cli(['host', 'doctor', '--no-scan'], { HOME: home });
    expect(bad.code).toBe(1);
    expect(bad.out + bad.err).toMatch(/fail\s+managed keys\s+.*mode 640/);
    expect(cli(['host', 'install', '--managed-keys', k.dir], { HOME: home }).code).toBe(2);
  });
});
