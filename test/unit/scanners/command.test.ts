import { existsSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { commandVerdict } from '../../../src/host/scanners/command.js';
import { createScanner } from '../../../src/host/scanners/create.js';

/** A scanner stand-in: a node one-liner, run without a shell like any configured command. */
function nodeScanner(script: string, timeoutMs?: number) {
  return createScanner(`command:${JSON.stringify([process.execPath, '-e', script])}`, timeoutMs ? { timeoutMs } : {});
}

describe('command backend', () => {
  it('exit 0 ⇒ clean; stdin carries the exact bytes', async () => {
    const out = join(tmpdir(), `unseal-cmd-${process.pid}.bin`);
    const s = nodeScanner(
      `const c=[];process.stdin.on('data',d=>c.push(d));process.stdin.on('end',()=>{require('fs').writeFileSync(${JSON.stringify(out)},Buffer.concat(c));process.exit(0)})`,
    );
    const data = new Uint8Array(3 * 1024 * 1024 + 5).map((_, i) => i & 0xff);
    expect((await s.scan(data)).verdict).toBe('clean');
    expect(readFileSync(out).equals(Buffer.from(data))).toBe(true);
    rmSync(out);
  });

  it('exit 1 with a FOUND line ⇒ infected with the parsed name', async () => {
    const s = nodeScanner(`process.stdin.resume();process.stdin.on('end',()=>{console.log('stream: Win.Test.EICAR_HDB-1 FOUND');process.exit(1)})`);
    expect(await s.scan(new Uint8Array(10))).toMatchObject({ verdict: 'infected', signatures: ['Win.Test.EICAR_HDB-1'] });
  });

  it('exit 1 without a FOUND line, exit 2, a signal ⇒ unscanned engine_error', async () => {
    for (const script of [
      `process.stdin.resume();process.stdin.on('end',()=>process.exit(1))`,
      `console.error('ERROR: something');process.exit(2)`,
      `process.kill(process.pid,'SIGSEGV')`,
    ]) {
      const v = await nodeScanner(script).scan(new Uint8Array(10));
      expect([script, v.verdict === 'unscanned' && v.reason]).toEqual([script, 'engine_error']);
    }
  });

  it('exit 0 but a FOUND line in the output ⇒ not clean', async () => {
    const v = await nodeScanner(`console.log('stream: X FOUND');process.exit(0)`).scan(new Uint8Array(1));
    expect(v.verdict).toBe('unscanned');
  });

  it('timeout kills the process ⇒ unscanned timeout', async () => {
    const pidFile = join(tmpdir(), `unseal-cmd-pid-${process.pid}`);
    const s = nodeScanner(`require('fs').writeFileSync(${JSON.stringify(pidFile)},String(process.pid));setInterval(()=>{},1000)`, 300);
    const t0 = Date.now();
    const v = await s.scan(new Uint8Array(10));
    expect(v).toMatchObject({ verdict: 'unscanned', reason: 'timeout' });
    expect(Date.now() - t0).toBeLessThan(2000);
    const pid = Number(readFileSync(pidFile, 'utf8'));
    rmSync(pidFile);
    expect(() => process.kill(pid, 0)).toThrow();
  });

  it('a scanner that exits without reading stdin does not crash us (EPIPE)', async () => {
    const v = await nodeScanner(`process.exit(0)`).scan(new Uint8Array(8 * 1024 * 1024));
    expect(v.verdict).toBe('clean');
  });

  it('missing executable ⇒ unscanned unavailable; ping throws io', async () => {
    const s = createScanner('command:/nonexistent/clamdscan --stream -');
    expect(await s.scan(new Uint8Array(1))).toMatchObject({ verdict: 'unscanned', reason: 'unavailable' });
    await expect(s.ping()).rejects.toMatchObject({ kind: 'io', message: expect.stringMatching(/not found/) });
    expect(existsSync('/nonexistent')).toBe(false);
  });

  it('url shows the argv; JSON form when an argument has spaces', () => {
    expect(createScanner('command:clamdscan --no-summary --stream -').url).toBe('command:clamdscan --no-summary --stream -');
    expect(createScanner('command:["/opt/My Scanner/scan","-"]').url).toBe('command:["/opt/My Scanner/scan","-"]');
    expect(createScanner('command:', { command: ['scan', '-'] }).url).toBe('command:scan -');
  });

  it.each([
    [0, 'stream: OK', 'clean'],
    [1, 'stream: Heuristics.Limits.Exceeded.MaxFileSize FOUND', 'too_large'],
    [2, 'ERROR: Could not connect to clamd on LocalSocket /run/clamav/clamd.ctl: No such file or directory', 'unavailable'],
    [2, 'INSTREAM size limit exceeded. ERROR', 'too_large'],
  ])('commandVerdict(%i, %j) ⇒ %s', (code, out, expected) => {
    const v = commandVerdict(code, out);
    expect(v.verdict === 'unscanned' ? v.reason : v.verdict).toBe(expected);
  });
});

describe('command backend never throws', () => {
  it('argv that spawn() rejects synchronously ⇒ unscanned engine_error', async () => {
    const s = createScanner(`command:${JSON.stringify(['scan\u0000er', '-'])}`);
    expect(await s.scan(new Uint8Array(1))).toMatchObject({ verdict: 'unscanned', reason: 'engine_error' });
  });
});
