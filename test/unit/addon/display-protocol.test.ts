import { describe, expect, it } from 'vitest';
import { parseDisplayRequest, parseGateDecision } from '../../../src/protocol/display.js';
import { GuardError } from '../../../src/protocol/validate.js';

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

describe('display ⇄ background messages', () => {
  it('accepts well-formed requests and decisions', () => {
    expect(parseDisplayRequest({ type: 'display.classify', hint: { p7mAttachment: true, readyState: 'loading' } })).toEqual({ type: 'display.classify', hint: { p7mAttachment: true, readyState: 'loading' } });
    expect(parseDisplayRequest(report)).toEqual(report);
    expect(parseGateDecision({ state: 'held', reason: 'smime-enveloped', messageId: 3 })).toEqual({ state: 'held', reason: 'smime-enveloped', messageId: 3 });
    expect(parseGateDecision({ state: 'plain' })).toEqual({ state: 'plain' });
  });

  it('rejects unknown types, states, reasons and malformed digests', () => {
    expect(() => parseDisplayRequest({ type: 'nope' })).toThrow(GuardError);
    expect(() => parseDisplayRequest({ ...report, state: 'shown' })).toThrow(/state/);
    expect(() => parseDisplayRequest({ ...report, reason: 'because' })).toThrow(/reason/);
    expect(() => parseDisplayRequest({ ...report, textSha256: 'xyz' })).toThrow(/textSha256/);
    expect(() => parseGateDecision({ state: 'held', reason: 'x' })).toThrow(/reason/);
    expect(() => parseGateDecision({ state: 'released' })).toThrow(/state/);
  });
});
