import { describe, expect, it } from 'vitest';
import type { EngineInfo } from '../../../src/protocol/scan.js';
import { adviceFor, checkCanaries, type CanaryReport } from '../../../src/host/scanners/canary.js';
import { eicarBytes } from '../../../src/host/scanners/eicar.js';
import { guardWithCanaries } from '../../../src/host/scanners/guarded.js';
import type { PartVerdict, ScanOptions, Scanner } from '../../../src/host/scanners/types.js';

/**
 * An in-process scanner with a controllable policy. Used only for the guard's bookkeeping (TTL,
 * re-check on engine change, single flight); detection itself is tested against real clamd/c-icap.
 */
class ScriptedScanner implements Scanner {
  readonly url = 'test://scripted';
  readonly kind = 'clamd' as const;
  engine: EngineInfo = { engine: 'ClamAV 1.0', signatures: '1' };
  scans = 0;
  engineFails = false;
  /** The "engine": finds EICAR only in objects up to maxSize; bigger ones are "clean" (the fail-open trap). */
  maxSize = Number.POSITIVE_INFINITY;
  async engineInfo(): Promise<EngineInfo> {
    if (this.engineFails) throw new Error('down');
    return this.engine;
  }
  async ping(): Promise<void> {}
  async close(): Promise<void> {}
  async scan(data: Uint8Array, _o?: ScanOptions): Promise<PartVerdict> {
    this.scans++;
    await new Promise((r) => setTimeout(r, 1));
    if (data.length > this.maxSize) return { verdict: 'clean', engine: this.engine };
    const b = Buffer.from(data);
    // Looks into base64 attachments the cheap way: the encoded test string's first line.
    const b64 = Buffer.from(eicarBytes()).toString('base64').slice(0, 60);
    return b.includes(Buffer.from(eicarBytes())) || b.includes(b64)
      ? { verdict: 'infected', signatures: ['T'], engine: this.engine }
      : { verdict: 'clean', engine: this.engine };
  }
}

const CLEAN = new TextEncoder().encode('hello');

describe('checkCanaries (scripted engine)', () => {
  it('an engine that sees everything passes', async () => {
    const r = await checkCanaries(new ScriptedScanner());
    expect(r.ok).toBe(true);
    expect(r.results).toHaveLength(7);
  });

  it('an engine that skips big objects fails with clamd advice', async () => {
    const s = new ScriptedScanner();
    s.maxSize = 1024 * 1024;
    const r = await checkCanaries(s);
    expect(r.ok).toBe(false);
    expect(r.advice[0]).toMatch(/^clamd\.conf: set AlertExceedsMax yes/);
  });
});

describe('guardWithCanaries', () => {
  it('check() runs the self-test once and keeps the report for the scans (health then scan: one run)', async () => {
    const s = new ScriptedScanner();
    let checks = 0;
    const g = guardWithCanaries(s, {
      ttlMs: 60_000,
      check: async (sc) => {
        checks++;
        return checkCanaries(sc);
      },
    });
    // Concurrent callers join the same run.
    const [a, b] = await Promise.all([g.check(), g.check()]);
    expect(a).toBe(b);
    expect(a.ok).toBe(true);
    expect(g.lastCanaryReport()).toBe(a);
    expect((await g.scan(CLEAN)).verdict).toBe('clean');
    expect(await g.check()).toBe(a);
    expect(checks).toBe(1);
  });

  it('check() with an unreachable engine rejects and stores nothing', async () => {
    const s = new ScriptedScanner();
    s.engineFails = true;
    const g = guardWithCanaries(s, { check: (sc) => checkCanaries(sc) });
    await expect(g.check()).rejects.toThrow(/down/);
    expect(g.lastCanaryReport()).toBeUndefined();
  });

  it('checks once, then trusts clean answers until the TTL', async () => {
    const s = new ScriptedScanner();
    let checks = 0;
    const g = guardWithCanaries(s, {
      ttlMs: 60_000,
      check: async (sc) => {
        checks++;
        return checkCanaries(sc);
      },
    });
    expect(g.lastCanaryReport()).toBeUndefined();
    const vs = await Promise.all([g.scan(CLEAN), g.scan(CLEAN), g.scan(CLEAN)]);
    expect(vs.map((v) => v.verdict)).toEqual(['clean', 'clean', 'clean']);
    expect(checks).toBe(1);
    expect(g.lastCanaryReport()?.ok).toBe(true);
  });

  it('re-checks when the signature version changes, and after the TTL', async () => {
    const s = new ScriptedScanner();
    let checks = 0;
    const g = guardWithCanaries(s, {
      ttlMs: 50,
      check: async (sc) => {
        checks++;
        return checkCanaries(sc);
      },
    });
    await g.scan(CLEAN);
    await g.scan(CLEAN);
    expect(checks).toBe(1);
    s.engine = { engine: 'ClamAV 1.0', signatures: '2' };
    await g.scan(CLEAN);
    expect(checks).toBe(2);
    await new Promise((r) => setTimeout(r, 60));
    await g.scan(CLEAN);
    expect(checks).toBe(3);
  });

  it('a failing scanner: clean ⇒ misconfigured with advice; infected passes through; re-checked after failedRetryMs', async () => {
    const s = new ScriptedScanner();
    s.maxSize = 1024 * 1024;
    let checks = 0;
    const g = guardWithCanaries(s, {
      failedRetryMs: 40,
      check: async (sc) => {
        checks++;
        return checkCanaries(sc);
      },
    });
    const v = await g.scan(CLEAN);
    expect(v).toMatchObject({ verdict: 'unscanned', reason: 'misconfigured' });
    if (v.verdict === 'unscanned') expect(v.message).toMatch(/AlertExceedsMax yes/);
    expect((await g.scan(eicarBytes())).verdict).toBe('infected');
    expect(checks).toBe(1);
    // The admin fixes the configuration; the next check after the retry delay clears it.
    s.maxSize = Number.POSITIVE_INFINITY;
    await new Promise((r) => setTimeout(r, 50));
    expect((await g.scan(CLEAN)).verdict).toBe('clean');
    expect(checks).toBe(2);
  });

  it('a scanner that is down while its version is still cached ⇒ unavailable, not misconfigured; checked again once it is back', async () => {
    const s = new ScriptedScanner();
    let down = true;
    const inner = s.scan.bind(s);
    s.scan = async (d, o) => (down ? { verdict: 'unscanned', reason: 'unavailable', message: 'connect ECONNREFUSED' } : inner(d, o));
    let checks = 0;
    const g = guardWithCanaries(s, { check: async (sc) => (checks++, checkCanaries(sc)) });
    const v = await g.scan(CLEAN);
    expect(v).toMatchObject({ verdict: 'unscanned', reason: 'unavailable' });
    if (v.verdict === 'unscanned') expect(v.message).toMatch(/did not answer its self-test: connect ECONNREFUSED/);
    expect(g.lastCanaryReport()).toBeUndefined();
    // Back up: no 30 s wait for a stale "failed" report; the next scan checks and counts.
    down = false;
    expect((await g.scan(CLEAN)).verdict).toBe('clean');
    expect(checks).toBe(2);
  });

  it('engineInfo failing ⇒ unscanned unavailable (never the inner clean)', async () => {
    const s = new ScriptedScanner();
    const g = guardWithCanaries(s);
    s.engineFails = true;
    expect(await g.scan(CLEAN)).toMatchObject({ verdict: 'unscanned', reason: 'unavailable' });
  });

  it('a clean answer from a different engine than the checked one triggers a re-check first', async () => {
    const s = new ScriptedScanner();
    const reports: CanaryReport[] = [];
    const g = guardWithCanaries(s, {
      check: async (sc) => {
        const r = await checkCanaries(sc);
        reports.push(r);
        return r;
      },
    });
    await g.scan(CLEAN);
    // The engine reports a new ISTag only in its scan answers (as an ICAP server does).
    const orig = s.scan.bind(s);
    s.scan = async (d, o) => ({ ...(await orig(d, o)), engine: { engine: 'ClamAV 1.0', signatures: '3' } });
    const before = reports.length;
    const v = await g.scan(CLEAN);
    expect(v.verdict).toBe('clean');
    expect(reports.length).toBe(before + 1);
  });

  it('cancelled while the self-test runs ⇒ unscanned cancelled', async () => {
    const s = new ScriptedScanner();
    const g = guardWithCanaries(s, { check: () => new Promise<CanaryReport>(() => undefined) });
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 20);
    expect(await g.scan(CLEAN, { signal: ac.signal })).toMatchObject({ verdict: 'unscanned', reason: 'cancelled' });
  });
});

describe('guard time budget', () => {
  it('a hanging self-test is bounded by the scan timeoutMs ⇒ unscanned timeout', async () => {
    const g = guardWithCanaries(new ScriptedScanner(), { check: () => new Promise<CanaryReport>(() => undefined) });
    const t0 = Date.now();
    expect(await g.scan(CLEAN, { timeoutMs: 100 })).toMatchObject({ verdict: 'unscanned', reason: 'timeout' });
    expect(Date.now() - t0).toBeLessThan(1000);
  });
});

describe('advice wording', () => {
  it('c-icap: PDF missed ⇒ DOCUMENT; control flagged ⇒ profile hint', () => {
    const engine = { engine: 'C-ICAP/0.5.10 server - Antivirus service' };
    const a = adviceFor(
      [
        { canary: 'eicar-pdf', expected: 'infected', got: { verdict: 'clean' }, pass: false, bytes: 1, ms: 1 },
        { canary: 'clean-control', expected: 'clean', got: { verdict: 'infected', signatures: ['ICAP-403'] }, pass: false, bytes: 1, ms: 1 },
      ],
      'icap',
      engine,
      'icap://h:1344/virus_scan',
    );
    expect(a[0]).toMatch(/^c-icap virus_scan\.conf: add DOCUMENT to virus_scan\.ScanFileTypes/);
    expect(a[1]).toMatch(/vendor profile/);
  });
  it('unreachable scanner ⇒ says so first', () => {
    const a = adviceFor(
      [{ canary: 'eicar-plain', expected: 'infected', got: { verdict: 'unscanned', reason: 'unavailable', message: 'ECONNREFUSED' }, pass: false, bytes: 1, ms: 1 }],
      'clamd',
      undefined,
      'clamd://h:3310',
    );
    expect(a[0]).toMatch(/did not answer \(ECONNREFUSED\)/);
  });
});
