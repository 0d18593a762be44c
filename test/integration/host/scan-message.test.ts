import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { aggregate, scanMessage } from '../../../src/host/scan-message.js';
import { createScanner } from '../../../src/host/scanners/create.js';
import { buildScanners } from '../../../src/host/scanner-bundle.js';
import { DEFAULT_LIMITS } from '../../../src/host/config.js';
import type { Scanner } from '../../../src/host/scanners/types.js';
import { eicarBytes } from '../../../src/host/scanners/eicar.js';
import { startClamd, TEST_SIGNATURE_REPORTED, type ClamdHandle } from '../../helpers/scanners/index.js';
import { messageWithAttachment, nestedMessage, plainMessage } from '../../helpers/host/messages.js';

let clamd: ClamdHandle;
let scanner: Scanner;

beforeAll(async () => {
  clamd = await startClamd({ alertExceedsMax: true });
  scanner = createScanner(clamd.url, { timeoutMs: 20_000 });
});
afterAll(async () => {
  await scanner?.close();
  await clamd?.stop();
});

describe('scanMessage with a real clamd', () => {
  it('finds EICAR in an attachment and names the part', async () => {
    const v = await scanMessage(messageWithAttachment(), scanner);
    expect(v.verdict).toBe('infected');
    if (v.verdict !== 'infected') return;
    expect(v.engine.engine).toMatch(/^ClamAV \d/);
    expect(v.findings).toContainEqual({ part: 'attachments/1 invoice.com', signature: TEST_SIGNATURE_REPORTED });
    // clamd parses the whole message itself too (ScanMail yes), so the entity is flagged as well.
    expect(v.findings).toContainEqual({ part: 'message', signature: TEST_SIGNATURE_REPORTED });
  });

  it('finds EICAR inside an attached message/rfc822 and names the nested path', async () => {
    const v = await scanMessage(nestedMessage(), scanner);
    expect(v.verdict).toBe('infected');
    if (v.verdict !== 'infected') return;
    const parts = v.findings.map((f) => f.part);
    expect(parts.some((p) => p.includes(' › ') && p.endsWith('inner.com'))).toBe(true);
  });

  it('calls a clean message clean only after scanning the whole and every part', async () => {
    const v = await scanMessage(messageWithAttachment({ payload: new TextEncoder().encode('just a pdf, honest') }), scanner);
    expect(v).toMatchObject({ verdict: 'clean', scannedParts: 3 });
    expect(await scanMessage(plainMessage(), scanner)).toMatchObject({ verdict: 'clean', scannedParts: 2 });
  });

  it('a message holding encrypted content is unscanned (not_scannable) and names that part', async () => {
    const crlf = (t: string) => t.replace(/\r?\n/g, '\r\n');
    // multipart/encrypted (PGP/MIME) inside decrypted mail: nobody decrypts it, so nobody scanned it.
    const msg = crlf(
      'Subject: fwd\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=o\n\n--o\nContent-Type: text/plain\n\nsee below\n--o\n' +
        'Content-Type: multipart/encrypted; protocol="application/pgp-encrypted"; boundary=e\n\n--e\nContent-Type: application/pgp-encrypted\n\nVersion: 1\n--e\n' +
        'Content-Type: application/octet-stream\n\n-----BEGIN PGP MESSAGE-----\nhQEMA0\n-----END PGP MESSAGE-----\n--e--\n--o--\n',
    );
    const v = await scanMessage(new TextEncoder().encode(msg), scanner);
    expect(v).toMatchObject({ verdict: 'unscanned', reason: 'not_scannable' });
    if (v.verdict === 'unscanned') expect(v.message).toMatch(/encrypted content/);
  });

  it('scans a non-message as one object in object mode', async () => {
    expect(await scanMessage(eicarBytes(), scanner, { mode: 'object', name: 'x.com' })).toMatchObject({
      verdict: 'infected',
      findings: [{ part: 'message', signature: TEST_SIGNATURE_REPORTED }],
    });
  });

  it('is unscanned (unavailable), not clean, when the scanner is not there', async () => {
    const down = createScanner(`clamd+unix://${clamd.dir}/no-such.ctl`, { timeoutMs: 2000 });
    const v = await scanMessage(plainMessage(), down);
    expect(v).toMatchObject({ verdict: 'unscanned', reason: 'unavailable' });
    await down.close();
  });
});

describe('aggregate', () => {
  const engine = { engine: 'E 1' };
  it('infected beats unscanned beats clean', () => {
    expect(
      aggregate(engine, [
        { path: 'message', result: { verdict: 'clean' } },
        { path: 'a', result: { verdict: 'unscanned', reason: 'timeout', message: 'slow' } },
        { path: 'b', result: { verdict: 'infected', signatures: ['S1', 'S2'] } },
      ]),
    ).toEqual({ verdict: 'infected', engine, findings: [{ part: 'b', signature: 'S1' }, { part: 'b', signature: 'S2' }] });
    expect(
      aggregate(engine, [
        { path: 'message', result: { verdict: 'clean' } },
        { path: 'a', result: { verdict: 'unscanned', reason: 'too_large', message: 'over 100M' } },
        { path: 'b', result: { verdict: 'unscanned', reason: 'timeout', message: 'slow' } },
      ]),
    ).toEqual({ verdict: 'unscanned', reason: 'too_large', message: 'a: over 100M (and 1 more part)', engine });
    expect(aggregate(engine, [{ path: 'message', result: { verdict: 'clean' } }])).toEqual({ verdict: 'clean', engine, scannedParts: 1 });
    expect(aggregate(engine, [])).toMatchObject({ verdict: 'unscanned' });
    expect(aggregate(engine, [{ path: 'x', result: { verdict: 'infected', signatures: [] } }])).toMatchObject({ findings: [{ part: 'x', signature: '(unnamed)' }] });
  });
});

describe('streamed whole entity (the host path)', () => {
  it('scanMessage uses the in-flight whole-entity verdict and scans only the parts itself', async () => {
    const msg = messageWithAttachment();
    const calls: number[] = [];
    const counting: Scanner = { ...scanner, url: scanner.url, engineInfo: (s) => scanner.engineInfo(s), scan: (d, o) => (calls.push(d.length), scanner.scan(d, o)) };
    async function* twoPieces() {
      yield msg.subarray(0, 100);
      yield msg.subarray(100);
    }
    const whole = scanner.scanStream!(twoPieces(), { size: msg.length });
    const v = await scanMessage(msg, counting, { whole });
    expect(v.verdict).toBe('infected');
    if (v.verdict !== 'infected') return;
    expect(v.findings).toContainEqual({ part: 'message', signature: TEST_SIGNATURE_REPORTED });
    expect(v.findings).toContainEqual({ part: 'attachments/1 invoice.com', signature: TEST_SIGNATURE_REPORTED });
    expect(calls).not.toContain(msg.length);
  });

  it('an unscanned whole-entity stream keeps the message from being clean', async () => {
    const msg = plainMessage();
    const v = await scanMessage(msg, scanner, { whole: Promise.resolve({ verdict: 'unscanned', reason: 'cancelled', message: 'stream abandoned' }) });
    expect(v).toMatchObject({ verdict: 'unscanned', reason: 'cancelled' });
  });

  it("health's canary run is the guard's: the first scan after it does not run the self-test again", async () => {
    const b = buildScanners({ scanner: clamd.url, auditLog: null, syslog: false, limits: DEFAULT_LIMITS, source: 'test' } as Parameters<typeof buildScanners>[0])!;
    expect(b.lastCanaryReport()).toBeUndefined();
    const report = await b.runCanaries(new AbortController().signal);
    expect(report.ok).toBe(true);
    expect(b.lastCanaryReport()).toBe(report);
    expect((await b.scanner.scan(plainMessage())).verdict).toBe('clean');
    expect(await b.runCanaries(new AbortController().signal)).toBe(report);
    expect(b.lastCanaryReport()).toBe(report);
    await b.scanner.close();
  });
});
