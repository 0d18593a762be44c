import { describe, expect, it } from 'vitest';
import { isPaddedBase64, isProtocolError, paddedBase64Length, parseAuditEvent, parseRequest, parseResponse } from '../../../src/protocol/native.js';

const SHA = 'a'.repeat(64);

describe('parseRequest', () => {
  it('accepts every request type in its documented shape', () => {
    const reqs = [
      { id: 'r1', type: 'hello', protocol: 1, client: '0.1.0' },
      { id: 'r2', type: 'health' },
      { id: 'r3', type: 'scan.begin', scanId: 's1', size: 3, sha256: SHA, meta: { messageId: '<m@x>', folder: 'Inbox', subject: 'Hi' } },
      { id: 'r4', type: 'scan.chunk', scanId: 's1', seq: 0, data: 'QUJD' },
      { id: 'r5', type: 'scan.end', scanId: 's1' },
      { id: 'r6', type: 'scan.cancel', scanId: 's1' },
      { id: 'r7', type: 'audit', event: { event: 'decrypted', messageId: '<m@x>', keyFingerprint: 'b'.repeat(40), algorithm: 'aes256-CBC', ciphertextSha256: SHA } },
    ];
    for (const r of reqs) expect(parseRequest(r)).toEqual(r);
  });

  it('defaults a missing meta to {}', () => {
    expect(parseRequest({ id: 'r', type: 'scan.begin', scanId: 's', size: 0, sha256: SHA })).toEqual({ id: 'r', type: 'scan.begin', scanId: 's', size: 0, sha256: SHA, meta: {} });
  });

  it('keeps the correlation id on a bad request so the error reply still correlates', () => {
    const e = parseRequest({ id: 'r9', type: 'scan.chunk', scanId: 's', seq: -1, data: '' });
    expect(e).toEqual({ protocolError: true, kind: 'bad_request', message: 'seq must be between 0 and 4294967295', id: 'r9' });
  });

  it.each([
    [null, 'a request must be a JSON object', null],
    [{ type: 'health' }, 'id must be a string (1–128 characters of A-Z a-z 0-9 . _ : -)', null],
    [{ id: 'has space', type: 'health' }, 'id has an invalid format (1–128 characters of A-Z a-z 0-9 . _ : -)', null],
    [{ id: 'r', type: 'nope' }, 'type must be one of hello, health, scan.begin, scan.chunk, scan.end, scan.cancel, audit, audit.read, keys.list, keys.unwrap', 'r'],
    [{ id: 'r', type: 'health', extra: 1 }, "health: unexpected field 'extra'", 'r'],
    [{ id: 'r', type: 'scan.begin', scanId: 's', size: 1, sha256: 'ABC' }, 'sha256 has an invalid format', 'r'],
    [{ id: 'r', type: 'scan.begin', scanId: 's', size: 1.5, sha256: SHA }, 'size must be an integer', 'r'],
    [{ id: 'r', type: 'scan.begin', scanId: 's', size: 1, sha256: SHA, meta: { body: 'secret' } }, "meta: unexpected field 'body'", 'r'],
    [{ id: 'r', type: 'scan.chunk', scanId: 's', seq: 0, data: 'QUJ' }, 'data must be padded standard base64', 'r'],
    [{ id: 'r', type: 'scan.chunk', scanId: 's', seq: 0, data: 'QU J' }, 'data must be padded standard base64', 'r'],
    [{ id: 'r', type: 'audit', event: { event: 'verdict', plaintext: 'hello' } }, "event: unexpected field 'plaintext'", 'r'],
    [{ id: 'r', type: 'audit', event: { event: 'decrypted', algorithm: '-----BEGIN PRIVATE KEY-----' } }, 'algorithm looks like key material', 'r'],
  ])('rejects %j', (input, message, id) => {
    const e = parseRequest(input);
    expect(isProtocolError(e)).toBe(true);
    expect(e).toMatchObject({ kind: 'bad_request', message, id });
  });
});

describe('parseAuditEvent', () => {
  it('accepts only the allowed fields and refuses content-like values', () => {
    expect(parseAuditEvent({ event: 'verdict', verdict: 'infected', signatures: ['Eicar-Test-Signature'], size: 10 })).toEqual({
      event: 'verdict',
      verdict: 'infected',
      signatures: ['Eicar-Test-Signature'],
      size: 10,
    });
    expect(parseAuditEvent({ event: 'verdict', messageId: 'QUJD'.repeat(60) })).toMatchObject({ protocolError: true, message: 'audit event: messageId looks like encoded content' });
    expect(parseAuditEvent({ event: 'verdict', keyFingerprint: 'zz' })).toMatchObject({ protocolError: true, message: 'audit event: keyFingerprint has an invalid format' });
    expect(parseAuditEvent({ event: 'read' })).toMatchObject({ protocolError: true });
  });
});

describe('parseResponse', () => {
  const engine = { engine: 'ClamAV 1.4.3', signatures: '27531' };
  it('accepts each response type', () => {
    const rs = [
      { id: 'r1', type: 'hello', host: '0.1.0', protocol: 1, scanner: 'clamd+unix:///x', engine, canary: { state: 'ok', missed: [], advice: [] } },
      { id: 'r1', type: 'hello', host: '0.1.0', protocol: 1, scanner: null, canary: { state: 'unchecked', missed: [], advice: [] } },
      { id: 'r2', type: 'health', ok: false, scanner: 'icap://h/avscan', reachable: false, problem: 'down', canary: { state: 'unchecked', missed: [], advice: [] } },
      { id: 'r3', type: 'ack', scanId: 's', seq: 2, received: 100 },
      { id: 'r4', type: 'scan.result', scanId: 's', verdict: { verdict: 'clean', engine, scannedParts: 3 } },
      { id: 'r4', type: 'scan.result', scanId: 's', verdict: { verdict: 'infected', engine, findings: [{ part: 'attachments/1 a.zip', signature: 'Eicar' }] } },
      { id: 'r4', type: 'scan.result', scanId: 's', verdict: { verdict: 'unscanned', reason: 'timeout', message: 'slow' } },
      { id: null, type: 'error', error: { kind: 'bad_frame', message: 'not JSON' } },
      { id: 'r5', type: 'error', scanId: 's', error: { kind: 'integrity', message: 'sha256 differs' } },
    ];
    for (const r of rs) expect(parseResponse(r)).toEqual(r);
  });

  it('never lets a malformed verdict through as a verdict', () => {
    const bad = [
      { id: 'r', type: 'scan.result', scanId: 's', verdict: { verdict: 'clean' } },
      { id: 'r', type: 'scan.result', scanId: 's', verdict: { verdict: 'infected', engine, findings: [] } },
      { id: 'r', type: 'scan.result', scanId: 's', verdict: { verdict: 'probably-fine', engine } },
      { id: 'r', type: 'scan.result', scanId: 's', verdict: { verdict: 'unscanned', reason: 'meh', message: '' } },
      { id: null, type: 'scan.result', scanId: 's', verdict: { verdict: 'clean', engine, scannedParts: 1 } },
    ];
    for (const r of bad) expect(isProtocolError(parseResponse(r)), JSON.stringify(r)).toBe(true);
  });
});

describe('isPaddedBase64 (the linear scan.chunk check)', () => {
  // The language the guard accepted before (a backtracking regex, 9–18 ms per 1 MiB chunk).
  const reference = (t: string) => t.length % 4 === 0 && /^[A-Za-z0-9+/]*={0,2}$/.test(t);

  it('accepts exactly what the old regex + length check accepted (fuzzed)', () => {
    let seed = 42;
    const rnd = () => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed / 2 ** 32;
    };
    const alphabet = 'AB+/z9==== -_\n.';
    for (let i = 0; i < 50_000; i++) {
      const len = Math.floor(rnd() * 13);
      let t = '';
      for (let j = 0; j < len; j++) t += alphabet[Math.floor(rnd() * alphabet.length)];
      expect(isPaddedBase64(t), JSON.stringify(t)).toBe(reference(t));
    }
    for (const t of ['', 'QUJD', 'QUI=', 'QQ==', 'Q===', '====', 'QU=D', 'QUJD\n', 'QUJ', 'QUJD-_==']) expect(isPaddedBase64(t), t).toBe(reference(t));
  });

  it('gives the exact decoded length', () => {
    for (const n of [0, 1, 2, 3, 4, 5, 768 * 1024]) {
      const b64 = Buffer.alloc(n, 7).toString('base64');
      expect(isPaddedBase64(b64)).toBe(true);
      expect(paddedBase64Length(b64)).toBe(n);
    }
  });

  it('is linear on a 1 MiB chunk, including a near-miss at the very end', () => {
    const good = Buffer.alloc(768 * 1024, 0xa5).toString('base64');
    const bad = `${good.slice(0, -4)}AB=C`;
    const t0 = performance.now();
    expect(isPaddedBase64(good)).toBe(true);
    expect(isPaddedBase64(bad)).toBe(false);
    expect(performance.now() - t0).toBeLessThan(200);
  });
});
