import { spawnSync } from 'node:child_process';
import { copyFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UnsealError } from '../../../src/core/errors.js';
import { checkCanaries } from '../../../src/host/scanners/canary.js';
import { createScanner } from '../../../src/host/scanners/create.js';
import { eicarBytes } from '../../../src/host/scanners/eicar.js';
import { guardWithCanaries } from '../../../src/host/scanners/guarded.js';
import type { Scanner } from '../../../src/host/scanners/types.js';
import { startClamd, TEST_SIGNATURE_REPORTED, type ClamdHandle } from '../../helpers/scanners/index.js';
import { CLEAN_TEXT, cleanBytes, infectedPayloads } from '../../helpers/scanners/payloads.js';
import { sleep } from '../../helpers/scanners/common.js';

let clamd: ClamdHandle;
const scanners: Record<string, Scanner> = {};

beforeAll(async () => {
  clamd = await startClamd({ tcp: true, alertExceedsMax: true });
  scanners['clamd-unix'] = createScanner(clamd.url);
  scanners['clamd-tcp'] = createScanner(clamd.tcpUrl!);
  scanners['command'] = createScanner(
    `command:${JSON.stringify(['clamdscan', '--no-summary', '--stream', `--config-file=${clamd.configPath}`, '-'])}`,
  );
});

afterAll(async () => {
  await clamd?.stop();
});

describe.each(['clamd-unix', 'clamd-tcp', 'command'])('%s against a real clamd', (which) => {
  it('reports clean text clean, with the engine version', async () => {
    const v = await scanners[which]!.scan(CLEAN_TEXT, { name: 'body.txt', contentType: 'text/plain' });
    expect(v.verdict).toBe('clean');
    expect(v.engine?.engine).toMatch(/^ClamAV \d+\.\d+/);
  });

  it.each(infectedPayloads().map((p) => [p.name, p] as const))('finds EICAR: %s', async (_n, p) => {
    const v = await scanners[which]!.scan(p.data, { name: p.name, contentType: p.contentType });
    expect(v).toMatchObject({ verdict: 'infected', signatures: [TEST_SIGNATURE_REPORTED] });
  });

  it('answers engineInfo and ping', async () => {
    const info = await scanners[which]!.engineInfo();
    expect(info.engine).toMatch(/^ClamAV 1\./);
    await expect(scanners[which]!.ping()).resolves.toBeUndefined();
  });
});

describe('clamd limits and failures', () => {
  it('StreamMaxLength 1M and a 2 MB payload ⇒ unscanned too_large (unix and tcp)', async () => {
    const small = await startClamd({ tcp: true, streamMaxLength: '1M' });
    try {
      const data = cleanBytes(2 * 1024 * 1024);
      for (const url of [small.url, small.tcpUrl!]) {
        const v = await createScanner(url).scan(data);
        expect(v).toMatchObject({ verdict: 'unscanned', reason: 'too_large' });
      }
      // FAIL-OPEN TRAP (measured, clamdscan 1.4.6): with --stream, clamdscan itself stops sending at
      // the config's StreamMaxLength and reports "stream: OK", exit 0 — EICAR past the limit is
      // never seen. Only the canaries can catch this for the command backend.
      const cmd = createScanner(`command:clamdscan --no-summary --stream --config-file=${small.configPath} -`);
      const tail = new Uint8Array(data.length + 68);
      tail.set(data);
      tail.set(eicarBytes(), data.length);
      expect((await cmd.scan(tail)).verdict).toBe('clean');
      const r = await checkCanaries(cmd);
      expect(r.ok).toBe(false);
      expect(r.results.find((x) => x.canary === 'eicar-padded')?.got.verdict).toBe('clean');
      expect(r.advice.join('\n')).toMatch(/StreamMaxLength/);
    } finally {
      await small.stop();
    }
  });

  it('AlertExceedsMax + low MaxFileSize ⇒ Heuristics.Limits.Exceeded is unscanned too_large, not a virus, not clean', async () => {
    const lim = await startClamd({ alertExceedsMax: true, maxFileSize: '1M' });
    try {
      const v = await createScanner(lim.url).scan(cleanBytes(2 * 1024 * 1024));
      expect(v.verdict).toBe('unscanned');
      if (v.verdict === 'unscanned') {
        expect(v.reason).toBe('too_large');
        expect(v.message).toContain('Heuristics.Limits.Exceeded');
      }
    } finally {
      await lim.stop();
    }
  });

  it('stopped clamd (socket gone) ⇒ unscanned unavailable; ping throws io with advice', async () => {
    const c = await startClamd({});
    const s = createScanner(c.url);
    expect((await s.scan(CLEAN_TEXT)).verdict).toBe('clean');
    // stop() removes the directory; clamdscan still needs to read the config to find the (gone) socket.
    const conf = join(tmpdir(), `unseal-clamd-conf-${process.pid}.conf`);
    copyFileSync(c.configPath, conf);
    await c.stop();
    const t0 = Date.now();
    const v = await s.scan(CLEAN_TEXT);
    expect(v).toMatchObject({ verdict: 'unscanned', reason: 'unavailable' });
    expect(Date.now() - t0).toBeLessThan(1000);
    const err = await s.ping().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnsealError);
    expect((err as UnsealError).kind).toBe('io');
    expect((err as UnsealError).message).toMatch(/is clamd running/);
    const cmd = createScanner(`command:clamdscan --no-summary --stream --config-file=${conf} -`);
    expect(await cmd.scan(CLEAN_TEXT)).toMatchObject({ verdict: 'unscanned', reason: 'unavailable' });
    rmSync(conf);
  });

  it('SIGSTOPped clamd with timeoutMs 500 ⇒ unscanned timeout, and it works again after SIGCONT', async () => {
    const c = await startClamd({});
    try {
      const s = createScanner(c.url, { timeoutMs: 500 });
      c.kill('SIGSTOP');
      const t0 = Date.now();
      const v = await s.scan(cleanBytes(4 * 1024 * 1024));
      const took = Date.now() - t0;
      expect(v).toMatchObject({ verdict: 'unscanned', reason: 'timeout' });
      expect(took).toBeGreaterThanOrEqual(450);
      expect(took).toBeLessThan(1500);
      const cmd = createScanner(`command:clamdscan --no-summary --stream --config-file=${c.configPath} -`, { timeoutMs: 500 });
      expect(await cmd.scan(CLEAN_TEXT)).toMatchObject({ verdict: 'unscanned', reason: 'timeout' });
      c.kill('SIGCONT');
      expect((await createScanner(c.url).scan(eicarBytes())).verdict).toBe('infected');
    } finally {
      await c.stop();
    }
  });

  it('cancellation via AbortSignal ⇒ unscanned cancelled', async () => {
    const c = await startClamd({});
    try {
      c.kill('SIGSTOP');
      const ac = new AbortController();
      setTimeout(() => ac.abort(), 100);
      const v = await createScanner(c.url).scan(CLEAN_TEXT, { signal: ac.signal });
      expect(v).toMatchObject({ verdict: 'unscanned', reason: 'cancelled' });
    } finally {
      await c.stop();
    }
  });

  it('clamd killed mid-scan ⇒ unscanned, never clean', async () => {
    const c = await startClamd({});
    const s = createScanner(c.url, { timeoutMs: 10_000 });
    // Stop clamd so the scan is certainly in flight, then kill it while the upload waits.
    c.kill('SIGSTOP');
    const p = s.scan(cleanBytes(8 * 1024 * 1024));
    await sleep(150);
    c.kill('SIGKILL');
    const v = await p;
    expect(v.verdict).toBe('unscanned');
    if (v.verdict === 'unscanned') expect(['engine_error', 'unavailable']).toContain(v.reason);
    await c.stop();
  });
});

describe('canaries against real clamd', () => {
  it('clamd with AlertExceedsMax ⇒ checkCanaries ok:true, every canary detected, control clean', async () => {
    const r = await checkCanaries(scanners['clamd-unix']!);
    expect(r.results.map((x) => [x.canary, x.got.verdict])).toEqual([
      ['eicar-plain', 'infected'],
      ['eicar-padded', 'infected'],
      ['eicar-padded-3m', 'infected'],
      ['eicar-pdf', 'infected'],
      ['eicar-zip', 'infected'],
      ['eicar-mime', 'infected'],
      ['clean-control', 'clean'],
    ]);
    expect(r.ok).toBe(true);
    expect(r.advice).toEqual([]);
  });

  it('command backend passes the canaries too', async () => {
    const r = await checkCanaries(scanners['command']!);
    expect(r.ok).toBe(true);
  });

  it('clamd without AlertExceedsMax and MaxFileSize 1M ⇒ padded canary reported clean ⇒ ok:false, advice AlertExceedsMax yes', async () => {
    const c = await startClamd({ maxFileSize: '1M' });
    try {
      const s = createScanner(c.url);
      const r = await checkCanaries(s);
      expect(r.ok).toBe(false);
      const padded = r.results.find((x) => x.canary === 'eicar-padded')!;
      expect(padded.got.verdict).toBe('clean');
      expect(padded.pass).toBe(false);
      expect(r.results.filter((x) => !x.pass).map((x) => x.canary)).toEqual(['eicar-padded', 'eicar-padded-3m']);
      expect(r.advice.some((a) => a.startsWith('clamd.conf: set AlertExceedsMax yes'))).toBe(true);
      expect(r.advice.join('\n')).toMatch(/MaxFileSize/);

      // The guard turns that scanner's "clean" into "misconfigured" — for the padded object and for everything else.
      const g = guardWithCanaries(s);
      const padZip = (await import('../../../src/host/scanners/canary.js')).buildCanaries().find((x) => x.name === 'eicar-padded')!;
      const gv = await g.scan(padZip.data);
      expect(gv).toMatchObject({ verdict: 'unscanned', reason: 'misconfigured' });
      expect((await g.scan(CLEAN_TEXT)).verdict).toBe('unscanned');
      // A detection stays a detection.
      expect((await g.scan(eicarBytes())).verdict).toBe('infected');
      expect(g.lastCanaryReport()?.ok).toBe(false);
    } finally {
      await c.stop();
    }
  });

  it('clamd with StreamMaxLength 1M refuses the padded canary: fails closed, passes, advises', async () => {
    const c = await startClamd({ streamMaxLength: '1M', alertExceedsMax: true });
    try {
      const r = await checkCanaries(createScanner(c.url));
      expect(r.results.find((x) => x.canary === 'eicar-padded')?.got).toMatchObject({ verdict: 'unscanned', reason: 'too_large' });
      expect(r.ok).toBe(true);
      expect(r.advice.join('\n')).toMatch(/StreamMaxLength/);
    } finally {
      await c.stop();
    }
  });

  it('guarded clamd with a good configuration passes clean answers through', async () => {
    const g = guardWithCanaries(scanners['clamd-unix']!);
    expect((await g.scan(CLEAN_TEXT)).verdict).toBe('clean');
    expect(g.lastCanaryReport()?.ok).toBe(true);
    expect((await g.scan(eicarBytes())).verdict).toBe('infected');
  });
});

describe('throughput (measured, printed)', () => {
  it('25 MB through clamd-unix vs clamdscan --stream on the same bytes', async () => {
    const data = cleanBytes(25 * 1024 * 1024);
    const file = join(clamd.dir, 'big.bin');
    writeFileSync(file, data);
    const times: Record<string, number[]> = { 'clamd-unix': [], 'clamd-tcp': [], 'command(clamdscan --stream)': [], 'clamdscan cli on file': [] };
    for (let i = 0; i < 2; i++) {
      for (const [label, s] of [
        ['clamd-unix', scanners['clamd-unix']!],
        ['clamd-tcp', scanners['clamd-tcp']!],
        ['command(clamdscan --stream)', scanners['command']!],
      ] as const) {
        const t0 = performance.now();
        const v = await s.scan(data);
        times[label]!.push(Math.round(performance.now() - t0));
        expect(v.verdict).toBe('clean');
      }
      const t0 = performance.now();
      const r = spawnSync('clamdscan', ['--no-summary', '--stream', `--config-file=${clamd.configPath}`, file]);
      times['clamdscan cli on file']!.push(Math.round(performance.now() - t0));
      expect(r.status).toBe(0);
    }
    console.log('[scanner timings, 25 MiB clean, ms per run]', JSON.stringify(times));
  });
});

describe.each(['clamd-unix', 'clamd-tcp', 'command'])('%s scanStream against a real clamd', (which) => {
  /** The object in small pieces with pauses, as the host hands it over while chunks arrive. */
  const pieces = (bytes: Uint8Array, n: number, failAfter?: number): AsyncIterable<Uint8Array> => ({
    async *[Symbol.asyncIterator]() {
      let i = 0;
      for (let o = 0; o < bytes.length; o += n) {
        if (failAfter !== undefined && i++ >= failAfter) throw new Error('the add-on went away');
        await sleep(3);
        yield bytes.subarray(o, Math.min(o + n, bytes.length));
      }
    },
  });

  it('finds EICAR split across pieces (the signature straddles a piece boundary), calls clean text clean', async () => {
    const s = scanners[which]!;
    const eicar = eicarBytes();
    const padded = Buffer.concat([cleanBytes(100_000), Buffer.from(eicar), cleanBytes(50_000)]);
    const v = await s.scanStream!(pieces(padded, 100_000 + 20), { size: padded.length });
    expect(v).toMatchObject({ verdict: 'infected', signatures: [TEST_SIGNATURE_REPORTED] });
    const c = await s.scanStream!(pieces(CLEAN_TEXT, 7), { size: CLEAN_TEXT.length });
    expect(c.verdict).toBe('clean');
  });

  it('a source that fails half-way (EICAR already sent) ⇒ unscanned, never a verdict; the scanner keeps working', async () => {
    const s = scanners[which]!;
    const data = Buffer.concat([Buffer.from(eicarBytes()), cleanBytes(200_000)]);
    const v = await s.scanStream!(pieces(data, 30_000, 3), { size: data.length });
    expect(v).toMatchObject({ verdict: 'unscanned', reason: 'cancelled' });
    expect((await s.scan(CLEAN_TEXT)).verdict).toBe('clean');
  });

  it('through the canary guard: streamed answers count once the self-test passed', async () => {
    const g = guardWithCanaries(scanners[which]!);
    const eicar = eicarBytes();
    expect(await g.scanStream!(pieces(eicar, 10), { size: eicar.length })).toMatchObject({ verdict: 'infected' });
    expect((await g.scanStream!(pieces(CLEAN_TEXT, 50), { size: CLEAN_TEXT.length })).verdict).toBe('clean');
    expect(g.lastCanaryReport()?.ok).toBe(true);
  });
});
