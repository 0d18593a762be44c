/**
 * `unseal host install|doctor|uninstall` and `unseal scan` through the built CLI, with a temp HOME
 * so the real files land where Thunderbird would look for this user, and a real clamd.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eicarBytes } from '../../../src/host/scanners/eicar.js';
import { startClamd, TEST_SIGNATURE_REPORTED, type ClamdHandle } from '../../helpers/scanners/index.js';
import { HostProcess } from '../../helpers/host/host-process.js';
import { messageWithAttachment, plainMessage } from '../../helpers/host/messages.js';

const CLI = resolve('dist/cli/unseal.mjs');
const HOST = resolve('dist/host/unseal-host.mjs');
let clamd: ClamdHandle;
let work: string;

function cli(args: string[], env: NodeJS.ProcessEnv, input?: Uint8Array) {
  const r = spawnSync(process.execPath, [CLI, ...args], { env: { PATH: process.env['PATH'], ...env }, encoding: 'utf8', ...(input ? { input } : {}) });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

beforeAll(async () => {
  execFileSync(process.execPath, ['build.mjs'], { stdio: 'inherit' });
  work = mkdtempSync(join(tmpdir(), 'unseal-cli-it-'));
  clamd = await startClamd({ alertExceedsMax: true });
});
afterAll(async () => {
  await clamd?.stop();
  rmSync(work, { recursive: true, force: true });
});

describe('unseal host install / doctor / uninstall', () => {
  it('dry-run prints the plan and writes nothing', () => {
    const home = mkdtempSync(join(work, 'home-'));
    const r = cli(['host', 'install', '--dry-run', '--scanner', clamd.url], { HOME: home });
    expect(r.code).toBe(0);
    const dir = join(home, '.mozilla', 'native-messaging-hosts');
    expect(r.out).toContain(`write ${dir}/unseal_host.json:`);
    expect(r.out).toContain(`exec "${process.execPath}" "${HOST}" "$@"`);
    expect(r.out).toContain('"allowed_extensions": [');
    expect(existsSync(dir)).toBe(false);
  });

  it('installs real files that doctor accepts, and the launcher starts a host that reads host-config.json', async () => {
    const home = mkdtempSync(join(work, 'home-'));
    const env = { HOME: home };
    const inst = cli(['host', 'install', '--scanner', clamd.url], env);
    expect(inst.code, inst.err).toBe(0);
    const dir = join(home, '.mozilla', 'native-messaging-hosts');
    const manifest = JSON.parse(readFileSync(join(dir, 'unseal_host.json'), 'utf8')) as Record<string, unknown>;
    expect(manifest).toEqual({ name: 'unseal_host', description: expect.any(String), path: join(dir, 'unseal-host'), type: 'stdio', allowed_extensions: ['unseal@unseal.example'] });
    expect(statSync(join(dir, 'unseal-host')).mode & 0o777).toBe(0o755);
    expect(readFileSync(join(dir, 'unseal-host'), 'utf8')).toBe(`#!/bin/sh\nexec "${process.execPath}" "${HOST}" "$@"\n`);
    expect(JSON.parse(readFileSync(join(dir, 'host-config.json'), 'utf8'))).toEqual({ scanner: clamd.url });

    const doc = cli(['host', 'doctor', '--clamd-conf', clamd.configPath], env);
    expect(doc.code, doc.err).toBe(0);
    const lines = doc.out.trim().split('\n');
    for (const what of ['host manifest', 'manifest JSON', 'allowed_extensions', 'launcher', 'host script', 'node for the launcher', 'scanner reachable', 'canary check', 'clamd AlertExceedsMax']) {
      expect(lines.some((l) => l.startsWith('ok    ') && l.includes(`  ${what}  `)), `${what} in\n${doc.out}`).toBe(true);
    }
    expect(lines.some((l) => l.startsWith('fail'))).toBe(false);

    // Thunderbird's way of starting it: the launcher, argv [manifest, add-on id], cwd = its dir,
    // and no UNSEAL_* variables: the scanner must come from host-config.json.
    const launched = new HostProcess({ HOME: home }, [], { command: join(dir, 'unseal-host'), args: [join(dir, 'unseal_host.json'), 'unseal@unseal.example'], cwd: dir });
    const hello = await launched.request({ id: 'l1', type: 'hello', protocol: 1, client: 'test' });
    expect(hello).toMatchObject({ type: 'hello', scanner: clamd.url });
    expect(await launched.close()).toBe(0);

    const un = cli(['host', 'uninstall'], env);
    expect(un.code).toBe(0);
    expect(un.out).toContain(join(dir, 'unseal_host.json'));
    expect(existsSync(join(dir, 'unseal_host.json'))).toBe(false);
    expect(existsSync(join(dir, 'unseal-host'))).toBe(false);
  });

  it('install refuses a scanner URL scan --scanner would refuse: usage error, exit 2, nothing written', () => {
    const home = mkdtempSync(join(work, 'home-'));
    const dir = join(home, '.mozilla', 'native-messaging-hosts');
    for (const bad of ['bogus://x', 'clamd://', '']) {
      for (const extra of [[], ['--dry-run']]) {
        const r = cli(['host', 'install', ...extra, '--scanner', bad], { HOME: home });
        expect(r.code, `${bad} ${extra.join(' ')}: ${r.err}`).toBe(2);
        expect(r.out).toBe('');
        expect(r.err).toMatch(/^unseal: usage: invalid scanner URL .*; expected clamd\+unix:/);
        // The same words as unseal scan uses for it (which takes an empty --scanner as none given).
        if (bad) expect(r.err).toBe(cli(['scan', '--scanner', bad, '-'], {}, plainMessage()).err);
      }
    }
    expect(existsSync(dir)).toBe(false);
    // A config already there is not touched either.
    expect(cli(['host', 'install', '--scanner', clamd.url], { HOME: home }).code).toBe(0);
    const before = readFileSync(join(dir, 'host-config.json'), 'utf8');
    expect(cli(['host', 'install', '--scanner', 'bogus://x'], { HOME: home }).code).toBe(2);
    expect(readFileSync(join(dir, 'host-config.json'), 'utf8')).toBe(before);
  });

  it('dry-run shows the host-config.json the install writes: merged into the existing one (auditLog, limits, managedKeys kept)', () => {
    const home = mkdtempSync(join(work, 'home-'));
    const dir = join(home, '.mozilla', 'native-messaging-hosts');
    mkdirSync(dir, { recursive: true });
    const existing = { scanner: 'clamd://127.0.0.1:9', auditLog: join(home, 'audit.jsonl'), limits: { maxScanBytes: 1000000 }, managedKeys: { dir: join(home, 'keys'), passwords: join(home, 'pw.json') } };
    writeFileSync(join(dir, 'host-config.json'), JSON.stringify(existing));
    const dry = cli(['host', 'install', '--dry-run', '--scanner', clamd.url], { HOME: home });
    expect(dry.code, dry.err).toBe(0);
    const m = /^ {2}write (\S+) \(merged into the existing file\):\n((?: {4}.*\n?)+)/m.exec(dry.out);
    expect(m, dry.out).not.toBeNull();
    expect(m![1]).toBe(join(dir, 'host-config.json'));
    const shown = m![2]!.replace(/^ {4}/gm, '');
    expect(JSON.parse(shown)).toEqual({ ...existing, scanner: clamd.url });
    expect(JSON.parse(readFileSync(join(dir, 'host-config.json'), 'utf8'))).toEqual(existing); // dry run: unchanged

    const inst = cli(['host', 'install', '--scanner', clamd.url], { HOME: home });
    expect(inst.code, inst.err).toBe(0);
    // Exactly what the preview showed.
    expect(readFileSync(join(dir, 'host-config.json'), 'utf8')).toBe(`${shown.trimEnd()}\n`);
  });

  it('an invalid existing host-config.json is not overwritten (exit 2, names the file and the problem) unless --force', () => {
    for (const [content, problem] of [
      ['{"scanner": "clamd://127.0.0.1:9", ', /: not valid JSON \(/],
      ['{"scaner": "clamd://127.0.0.1:9"}', /: unknown field 'scaner'/],
      ['{"limits": {"maxScanBytes": -1}}', /: limits\.maxScanBytes must be a positive integer/],
      // A Node timer past 2^31−1 ms fires after 1 ms: every scan would time out at once.
      ['{"limits": {"scannerTimeoutMs": 3000000000}}', /: limits\.scannerTimeoutMs must be at most 2147483647/],
    ] as const) {
      const home = mkdtempSync(join(work, 'home-'));
      const dir = join(home, '.mozilla', 'native-messaging-hosts');
      const cfg = join(dir, 'host-config.json');
      mkdirSync(dir, { recursive: true });
      writeFileSync(cfg, content);
      for (const extra of [[], ['--dry-run']]) {
        const r = cli(['host', 'install', ...extra, '--scanner', clamd.url], { HOME: home });
        expect(r.code, `${content} ${extra.join(' ')}`).toBe(2);
        expect(r.out).toBe('');
        expect(r.err.startsWith(`unseal: usage: ${cfg}: `), r.err).toBe(true);
        expect(r.err).toMatch(problem);
        expect(r.err).toContain('--force');
        expect(readFileSync(cfg, 'utf8')).toBe(content);
        expect(readdirSync(dir)).toEqual(['host-config.json']); // no manifest or launcher either
      }
      const dry = cli(['host', 'install', '--dry-run', '--force', '--scanner', clamd.url], { HOME: home });
      expect(dry.code, dry.err).toBe(0);
      expect(dry.out).toContain(`write ${cfg} (replacing the invalid existing file, --force: ${cfg}: `);
      const forced = cli(['host', 'install', '--force', '--scanner', clamd.url], { HOME: home });
      expect(forced.code, forced.err).toBe(0);
      expect(forced.out).toContain(`replaced ${cfg} (--force; it was invalid: `);
      expect(JSON.parse(readFileSync(cfg, 'utf8'))).toEqual({ scanner: clamd.url });
    }
    const home = mkdtempSync(join(work, 'home-'));
    expect(cli(['host', 'uninstall', '--force'], { HOME: home })).toMatchObject({ code: 2, err: 'unseal: usage: --force is an option of install\n' });
    expect(cli(['host', '--help'], {}).out).toContain('--force');
  });

  it('doctor without --clamd-conf does not judge a private clamd by another clamd.conf: warn that its clamd.conf was not found', () => {
    const home = mkdtempSync(join(work, 'home-'));
    expect(cli(['host', 'install', '--scanner', clamd.url], { HOME: home }).code).toBe(0);
    const r = cli(['host', 'doctor'], { HOME: home });
    // Whatever /etc/clamav/clamd.conf on this machine says, it is not the private clamd's file.
    expect(r.code, r.out + r.err).toBe(0);
    const line = r.out.split('\n').find((l) => l.includes('  clamd AlertExceedsMax  '));
    expect(line).toMatch(new RegExp(`^warn  clamd AlertExceedsMax  the clamd\\.conf for LocalSocket ${clamd.socketPath.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} was not found.*: pass --clamd-conf FILE`));
    expect(r.out).toMatch(/^ok {4}canary check/m);
  });

  it('doctor fails on a host-config.json the host would refuse (it would run with no scanner), naming the file and the problem', () => {
    for (const [content, problem] of [
      ['{"scanner": "SCANNER", "bogus": 1}', /unknown field 'bogus'/],
      ['{"scanner": "SCANNER", "limits": {"scanTimeoutMs": 3000000000}}', /limits\.scanTimeoutMs must be at most 2147483647/],
      ['{"scanner": "SCANNER", ', /not valid JSON/],
    ] as const) {
      const home = mkdtempSync(join(work, 'home-'));
      expect(cli(['host', 'install', '--scanner', clamd.url], { HOME: home }).code).toBe(0);
      const cfg = join(home, '.mozilla', 'native-messaging-hosts', 'host-config.json');
      writeFileSync(cfg, content.replace('SCANNER', clamd.url));
      const r = cli(['host', 'doctor', '--no-scan'], { HOME: home });
      expect(r.code, content).toBe(1);
      const line = r.out.split('\n').find((l) => l.startsWith('fail  host-config  '));
      expect(line, r.out).toContain(cfg);
      expect(line).toMatch(problem);
      expect(line).toContain('--force');
    }
    // A valid one is named as what the host uses.
    const home = mkdtempSync(join(work, 'home-'));
    expect(cli(['host', 'install', '--scanner', clamd.url], { HOME: home }).code).toBe(0);
    expect(cli(['host', 'doctor', '--no-scan'], { HOME: home }).out).toMatch(/^ok {4}host-config {2}\/.*host-config\.json$/m);
  });

  it('doctor after uninstall: the host is not registered, and the kept host-config.json names the scanner (which is still probed)', () => {
    const home = mkdtempSync(join(work, 'home-'));
    const env = { HOME: home };
    expect(cli(['host', 'install', '--scanner', clamd.url], env).code).toBe(0);
    expect(cli(['host', 'uninstall'], env).code).toBe(0);
    const cfg = join(home, '.mozilla', 'native-messaging-hosts', 'host-config.json');
    expect(existsSync(cfg)).toBe(true);
    const r = cli(['host', 'doctor', '--clamd-conf', clamd.configPath], env);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/^fail  host manifest  not found in .*: run `unseal host install`$/m);
    expect(r.out).toContain(`warn  scanner  the host is not registered (run \`unseal host install\`); the kept ${cfg} names scanner ${clamd.url}\n`);
    expect(r.out).not.toContain('no scanner configured');
    expect(r.out).toMatch(/^ok {4}scanner reachable {2}/m);
    expect(r.out).toMatch(/^ok {4}clamd AlertExceedsMax {2}/m);
    expect(r.err).toBe('unseal: host doctor: 1 check failed\n');
  });

  it('doctor fails with what to do when nothing is installed, and warns about manifests Thunderbird ignores', () => {
    const home = mkdtempSync(join(work, 'home-'));
    const stray = join(home, '.thunderbird', 'native-messaging-hosts');
    mkdirSync(stray, { recursive: true });
    writeFileSync(join(stray, 'unseal_host.json'), '{}');
    const r = cli(['host', 'doctor', '--no-scan'], { HOME: home });
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/^fail  host manifest  not found in .*: run `unseal host install`$/m);
    expect(r.out).toContain(`warn  stray manifest  ${join(stray, 'unseal_host.json')} is not read by Thunderbird`);
    expect(r.out).toMatch(/^fail  scanner  no scanner configured/m);
    // The report is doctor's output: every line on stdout, one summary line on stderr.
    expect(r.out.trimEnd().split('\n').every((l) => /^(ok  |warn|fail)  \S/.test(l)), r.out).toBe(true);
    expect(r.err).toBe('unseal: host doctor: 2 checks failed\n');
  });

  it('doctor fails a clamd whose config lacks AlertExceedsMax, and a broken launcher', () => {
    const home = mkdtempSync(join(work, 'home-'));
    expect(cli(['host', 'install', '--scanner', clamd.url], { HOME: home }).code).toBe(0);
    const conf = join(work, 'stock-clamd.conf');
    writeFileSync(conf, `LocalSocket ${clamd.socketPath}\n#AlertExceedsMax yes\n`);
    const dir = join(home, '.mozilla', 'native-messaging-hosts');
    writeFileSync(join(dir, 'unseal-host'), '#!/bin/sh\nexec "/nonexistent/node" "/nonexistent/host.mjs" "$@"\n');
    const r = cli(['host', 'doctor', '--clamd-conf', conf, '--no-scan'], { HOME: home });
    expect(r.code).toBe(1);
    expect(r.out).toContain(`fail  clamd AlertExceedsMax  ${conf}: add "AlertExceedsMax yes" and restart clamd`);
    expect(r.out).toContain('fail  host script  /nonexistent/host.mjs');
    expect(r.out).toMatch(/fail  node for the launcher  \/nonexistent\/node does not run/);
  });
});

describe('unseal scan', () => {
  it('reports an infected attachment as JSON with exit 10', () => {
    const file = join(work, 'infected.eml');
    writeFileSync(file, messageWithAttachment());
    const r = cli(['scan', '--scanner', clamd.url, '--json', file], {});
    expect(r.code, r.err).toBe(10);
    const report = JSON.parse(r.out) as { scan: { verdict: string; findings: { part: string; signature: string }[]; reason: null; engine: { engine: string } } };
    expect(report.scan.verdict).toBe('infected');
    expect(report.scan.reason).toBeNull();
    expect(report.scan.engine.engine).toMatch(/^ClamAV/);
    expect(report.scan.findings).toContainEqual({ part: 'attachments/1 invoice.com', signature: TEST_SIGNATURE_REPORTED });
  });

  it('exit 0 for a clean message from stdin, and scans a non-message file as one object', () => {
    const clean = cli(['scan', '--scanner', clamd.url, '-'], {}, plainMessage());
    expect(clean.code, clean.err).toBe(0);
    expect(clean.out).toContain('verdict: clean');
    expect(clean.out).toContain('scanned: 2 objects');
    const bin = join(work, 'payload.com');
    writeFileSync(bin, eicarBytes());
    const r = cli(['scan', bin], { UNSEAL_SCANNER: clamd.url });
    expect(r.code).toBe(10);
    expect(r.out).toContain(`found: ${TEST_SIGNATURE_REPORTED} in message`);
  });

  it('exit 11 with the reason when the scanner is unreachable', () => {
    const r = cli(['scan', '--scanner', `clamd+unix://${work}/none.ctl`, '--json', '-'], {}, plainMessage());
    expect(r.code).toBe(11);
    expect(JSON.parse(r.out)).toMatchObject({ scan: { verdict: 'unscanned', reason: 'unavailable', findings: [] } });
  });

  it('usage error (exit 2) without a scanner', () => {
    const r = cli(['scan', '-'], {}, plainMessage());
    expect(r.code).toBe(2);
    expect(r.err).toContain('no scanner: give --scanner URL or set UNSEAL_SCANNER');
  });
});
