import { describe, expect, it } from 'vitest';
import { parseBackgroundToDisplay } from '../../../src/protocol/render-guards.js';
import { parseDisplayRequest } from '../../../src/protocol/display.js';
import { GuardError } from '../../../src/protocol/validate.js';

const clean = {
  kind: 'clean',
  headers: { subject: 's', from: 'f' },
  protectedHeaders: { subject: 'inner' },
  layers: [{ type: 'enveloped', algorithm: 'AES-256-CBC' }, { type: 'signed' }],
  signatures: [{ signatureValid: true, certificateStatus: 'valid', weakDigest: false, signer: 'A', email: 'a@x' }],
  body: { type: 'html', parts: ['<p>x</p>'], text: 'x' },
  attachments: [{ index: 0, filename: 'a', contentType: 'text/plain', size: 1 }],
  unprotectedParts: 1,
  keySource: 'thunderbird',
  scan: { engine: 'ClamAV', signatures: '1' },
  warnings: ['w'],
};

describe('parseBackgroundToDisplay', () => {
  it('accepts every message type and model kind', () => {
    expect(parseBackgroundToDisplay({ type: 'progress', stage: 'decrypting', bytes: 5 })).toEqual({ type: 'progress', stage: 'decrypting', bytes: 5 });
    expect(parseBackgroundToDisplay({ type: 'progress', stage: 'scanning' })).toEqual({ type: 'progress', stage: 'scanning' });
    expect(parseBackgroundToDisplay({ type: 'result', model: clean })).toEqual({ type: 'result', model: clean });
    for (const model of [
      { kind: 'plain' },
      { kind: 'infected', engine: 'e', findings: [{ part: 'message', signature: 'Eicar' }] },
      { kind: 'unscanned', reason: 'host_missing', message: 'm' },
      { kind: 'no-key', recipients: ['bob'] },
      { kind: 'error', errorKind: 'internal', message: 'm' },
    ]) {
      expect(parseBackgroundToDisplay({ type: 'result', model })).toEqual({ type: 'result', model });
    }
    const data = new Uint8Array([1, 2]);
    expect(parseBackgroundToDisplay({ type: 'attachment-data', index: 0, filename: 'f', contentType: 't/x', data })).toMatchObject({ data });
    expect((parseBackgroundToDisplay({ type: 'attachment-data', index: 0, filename: 'f', contentType: 't/x', data: data.buffer }) as { data: Uint8Array }).data).toEqual(data);
    expect(parseBackgroundToDisplay({ type: 'attachment-error', index: 3, message: 'no' })).toEqual({ type: 'attachment-error', index: 3, message: 'no' });
  });

  it('drops unknown fields instead of passing them on', () => {
    const r = parseBackgroundToDisplay({ type: 'result', model: { kind: 'infected', engine: 'e', findings: [], body: { type: 'text', text: 'smuggled' } } });
    expect(r).toEqual({ type: 'result', model: { kind: 'infected', engine: 'e', findings: [] } });
  });

  it('rejects malformed messages, naming the field', () => {
    expect(() => parseBackgroundToDisplay(null)).toThrow(GuardError);
    expect(() => parseBackgroundToDisplay({ type: 'render' })).toThrow(/type/);
    expect(() => parseBackgroundToDisplay({ type: 'progress', stage: 'rendering' })).toThrow(/stage/);
    expect(() => parseBackgroundToDisplay({ type: 'progress', stage: 'reading', bytes: -1 })).toThrow(/bytes/);
    expect(() => parseBackgroundToDisplay({ type: 'result', model: { kind: 'released' } })).toThrow(/kind/);
    expect(() => parseBackgroundToDisplay({ type: 'result', model: { ...clean, body: { type: 'html', parts: [1], text: '' } } })).toThrow(/parts/);
    expect(() => parseBackgroundToDisplay({ type: 'result', model: { ...clean, body: { type: 'html', parts: [], text: '' } } })).toThrow(/parts/);
    expect(() => parseBackgroundToDisplay({ type: 'result', model: { ...clean, body: { type: 'html', html: '<p>x</p>', text: '' } } })).toThrow(/parts/);
    expect(() => parseBackgroundToDisplay({ type: 'result', model: { ...clean, keySource: 'nss' } })).toThrow(/keySource/);
    expect(() => parseBackgroundToDisplay({ type: 'result', model: { ...clean, signatures: [{ signatureValid: 'yes' }] } })).toThrow(/signatureValid/);
    expect(() => parseBackgroundToDisplay({ type: 'result', model: { kind: 'unscanned', reason: 'bored', message: '' } })).toThrow(/reason/);
    expect(() => parseBackgroundToDisplay({ type: 'attachment-data', index: 0, filename: 'f', contentType: 't', data: 'AAEC' })).toThrow(/data/);
    expect(() => parseBackgroundToDisplay({ type: 'attachment-error', index: 1.5, message: '' })).toThrow(/index/);
  });
});

describe('display requests added for rendering', () => {
  const report = {
    type: 'display.report',
    state: 'held',
    reason: 'smime-enveloped',
    bodyHidden: true,
    thunderbirdContentVisible: false,
    gateShown: true,
    textLength: 0,
    textSha256: '',
    startedAt: 1,
    readyStateAtStart: 'complete',
    decidedBy: 'dom',
  };

  it('report: the optional render fields round-trip and are checked', () => {
    const full = { ...report, rendered: 'infected', renderedTextLength: 0, renderedTextSha256: '', attachmentCount: 0, blockedBanner: true, findingSignatures: ['Eicar'] };
    expect(parseDisplayRequest(full)).toEqual(full);
    expect(parseDisplayRequest({ ...report, rendered: 'failed', renderFailure: 'stalled' })).toMatchObject({ rendered: 'failed', renderFailure: 'stalled' });
    expect(parseDisplayRequest(report)).toEqual(report);
    expect(() => parseDisplayRequest({ ...report, rendered: 'shown' })).toThrow(/rendered/);
    expect(() => parseDisplayRequest({ ...report, renderedTextSha256: 'zz' })).toThrow(/renderedTextSha256/);
    expect(() => parseDisplayRequest({ ...report, findingSignatures: [1] })).toThrow(/findingSignatures/);
    expect(() => parseDisplayRequest({ ...report, renderFailure: 'late' })).toThrow(/renderFailure/);
  });

  it('openLink accepts http(s) and mailto only; openKeys takes nothing', () => {
    expect(parseDisplayRequest({ type: 'display.openLink', url: 'https://example.org/a' })).toEqual({ type: 'display.openLink', url: 'https://example.org/a' });
    expect(parseDisplayRequest({ type: 'display.openLink', url: 'mailto:a@example.org' })).toMatchObject({ url: 'mailto:a@example.org' });
    for (const url of ['javascript:alert(1)', 'file:///etc/passwd', 'data:text/html,x', 'https://a b', '', 'x'.repeat(9000)]) {
      expect(() => parseDisplayRequest({ type: 'display.openLink', url }), url.slice(0, 30)).toThrow(GuardError);
    }
    expect(parseDisplayRequest({ type: 'display.openKeys' })).toEqual({ type: 'display.openKeys' });
  });
});
