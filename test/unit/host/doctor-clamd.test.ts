import { mkdtempSync, rmSync, symlinkSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { clamdConfServes, readClamdConf, runDoctor, type Check } from '../../../src/host/install.js';
import { parseScannerUrl } from '../../../src/host/scanners/create.js';

/**
 * doctor's AlertExceedsMax check reads only the clamd.conf of the clamd the scanner URL talks to:
 * the distribution's /etc/clamav/clamd.conf says nothing about a private clamd on another socket.
 */
const dir = mkdtempSync(join(tmpdir(), 'unseal-doctor-clamd-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function conf(name: string, lines: string[]): string {
  const p = join(dir, name);
  writeFileSync(p, `${lines.join('\n')}\n`);
  return p;
}

async function clamdChecks(scannerUrl: string, candidates: string[], clamdConf?: string): Promise<Check[]> {
  const checks = await runDoctor({
    platform: 'linux',
    env: { HOME: join(dir, 'home') },
    run: () => ({ status: 0, stdout: 'v20.0.0', stderr: '' }),
    scannerUrl,
    clamdConfCandidates: candidates,
    ...(clamdConf ? { clamdConf } : {}),
  });
  return checks.filter((c) => c.what === 'clamd AlertExceedsMax');
}

describe('doctor: the clamd.conf that belongs to the scanner', () => {
  const system = conf('system.conf', ['LocalSocket /var/run/clamav/clamd.ctl', '#AlertExceedsMax yes']);

  it('a private socket is not judged by the system clamd.conf: warn that its clamd.conf was not found, pass --clamd-conf', async () => {
    const checks = await clamdChecks(`clamd+unix://${dir}/private.ctl`, [system]);
    expect(checks).toEqual([
      {
        status: 'warn',
        what: 'clamd AlertExceedsMax',
        fix: `the clamd.conf for LocalSocket ${dir}/private.ctl was not found (${system} (LocalSocket /var/run/clamav/clamd.ctl) is for another clamd): pass --clamd-conf FILE (the file that clamd runs with), and make sure it has "AlertExceedsMax yes"`,
      },
    ]);
  });

  it('the candidate whose LocalSocket matches is checked (also through a symlinked directory), the others are skipped', async () => {
    mkdirSync(join(dir, 'run'));
    symlinkSync(join(dir, 'run'), join(dir, 'var-run'));
    const good = conf('good.conf', [`LocalSocket ${dir}/var-run/clamd.ctl`, 'AlertExceedsMax yes']);
    expect(await clamdChecks(`clamd+unix://${dir}/run/clamd.ctl`, [system, good])).toEqual([{ status: 'ok', what: 'clamd AlertExceedsMax', fix: `${good}: AlertExceedsMax yes` }]);
    const bad = conf('bad.conf', [`LocalSocket ${dir}/run/clamd.ctl`]);
    const [c] = await clamdChecks(`clamd+unix://${dir}/run/clamd.ctl`, [system, bad]);
    expect(c).toMatchObject({ status: 'fail', fix: expect.stringMatching(new RegExp(`^${bad}: add "AlertExceedsMax yes"`)) });
  });

  it('TCP: TCPSocket must be the port, TCPAddr the host (or absent, any address, or both loopback)', () => {
    const tcp = (url: string) => parseScannerUrl(url);
    expect(clamdConfServes(readClamdConf('TCPSocket 3310\nTCPAddr 127.0.0.1\n'), tcp('clamd://localhost:3310'))).toBe(true);
    expect(clamdConfServes(readClamdConf('TCPSocket 3310\n'), tcp('clamd://127.0.0.1:3310'))).toBe(true);
    expect(clamdConfServes(readClamdConf('TCPSocket 3310\nTCPAddr 0.0.0.0\n'), tcp('clamd://127.0.0.1:3310'))).toBe(true);
    expect(clamdConfServes(readClamdConf('TCPSocket 3311\nTCPAddr 127.0.0.1\n'), tcp('clamd://127.0.0.1:3310'))).toBe(false);
    expect(clamdConfServes(readClamdConf('LocalSocket /run/clamav/clamd.ctl\n'), tcp('clamd://127.0.0.1:3310'))).toBe(false);
    expect(clamdConfServes(readClamdConf('TCPSocket 3310\n'), tcp('clamd+unix:///run/clamav/clamd.ctl'))).toBe(false);
  });

  it('--clamd-conf is checked as given, whatever its socket', async () => {
    const [c] = await clamdChecks(`clamd+unix://${dir}/elsewhere.ctl`, [], system);
    expect(c).toMatchObject({ status: 'fail', fix: expect.stringContaining(`${system}: add "AlertExceedsMax yes"`) });
  });

  it('no candidate exists: the same warning, without a list', async () => {
    const [c] = await clamdChecks('clamd://127.0.0.1:3310', [join(dir, 'missing.conf')]);
    expect(c).toEqual({ status: 'warn', what: 'clamd AlertExceedsMax', fix: 'the clamd.conf for TCPSocket 3310 on 127.0.0.1 was not found: pass --clamd-conf FILE (the file that clamd runs with), and make sure it has "AlertExceedsMax yes"' });
  });
});
