/**
 * The gating path in a real Thunderbird 153 with `mailnews.p7m_external=true`: a plain message is
 * left alone; S/MIME messages are sealed at document_start and held (decrypt + scan come later).
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RESULTS_DIR, Thunderbird, builtXpi, scenario } from '../helpers/thunderbird/index.js';
import { DEMO_ENCRYPTED, LARGE_MIXED, LARGE_PLAIN, LEGACY_ENCRYPTED, PLAIN, largeMixedMessage, largePlainBody, largePlainMessage, plainBodyText } from './messages.js';

describe('gate with mailnews.p7m_external=true', () => {
  let tb: Thunderbird;
  let backgroundMs = 0;

  beforeAll(async () => {
    tb = await Thunderbird.start({ xpi: builtXpi(), p7mExternal: true, messages: [PLAIN.file, LEGACY_ENCRYPTED.file, DEMO_ENCRYPTED.file, largePlainMessage(), largeMixedMessage()] });
    backgroundMs = await tb.waitForBackground(60_000);
    const addon = await tb.addonState();
    expect(addon?.isActive, `add-on not active: ${JSON.stringify(addon)}`).toBe(true);
  }, 120_000);

  afterAll(async () => {
    await tb?.stop();
  }, 60_000);

  it('plain-untouched: a plain message is reported plain and its body stays visible', async () => {
    await scenario('plain-untouched', async (ctx) => {
      const sel = await tb.selectMessage(PLAIN.subject);
      const report = await tb.waitForReport(PLAIN.messageId, sel.selectedAt);
      ctx.screenshot = await tb.screenshot(join(RESULTS_DIR, 'plain-untouched.png'));
      Object.assign(ctx.metrics, { spawnToMarionetteMs: tb.timings.spawnToMarionette ?? null, spawnToBackgroundMs: backgroundMs, selectToScriptStartMs: report.startedAt - sel.selectedAt, selectToReportMs: report.at - sel.selectedAt, readyStateAtStart: report.readyStateAtStart });
      expect(report.state).toBe('plain');
      expect(report.bodyHidden).toBe(false);
      expect(report.gateShown).toBe(false);
      expect(report.thunderbirdContentVisible).toBe(true);
      const expected = plainBodyText();
      expect(report.textLength).toBe(expected.length);
      expect(report.textSha256).toBe(createHash('sha256').update(expected, 'utf8').digest('hex'));
    });
  });

  it('held-encrypted: S/MIME messages are sealed and held, Thunderbird content not visible', async () => {
    await scenario('held-encrypted', async (ctx) => {
      for (const [i, m] of [LEGACY_ENCRYPTED, DEMO_ENCRYPTED].entries()) {
        const sel = await tb.selectMessage(m.subject);
        const report = await tb.waitForReport(m.messageId, sel.selectedAt);
        const shot = await tb.screenshot(join(RESULTS_DIR, `held-encrypted-${i + 1}.png`));
        ctx.screenshot ??= shot;
        Object.assign(ctx.metrics, { [`selectToScriptStartMs_${i + 1}`]: report.startedAt - sel.selectedAt, [`selectToReportMs_${i + 1}`]: report.at - sel.selectedAt, [`decidedBy_${i + 1}`]: report.decidedBy });
        expect(report.state, m.subject).toBe('held');
        expect(report.reason).toBe('smime-enveloped');
        expect(report.bodyHidden).toBe(true);
        expect(report.gateShown).toBe(true);
        expect(report.thunderbirdContentVisible).toBe(false);
        expect(report.textLength).toBe(0);
        // Sealed from the DOM at document_start, before the background could have answered.
        expect(report.decidedBy).toBe('dom');
      }
    });
  });

  it('large-plain-untouched: a 2 MB plain message is left alone and fully visible', async () => {
    await scenario('large-plain-untouched', async (ctx) => {
      const sel = await tb.selectMessage(LARGE_PLAIN.subject);
      const report = await tb.waitForReport(LARGE_PLAIN.messageId, sel.selectedAt, 30_000);
      ctx.screenshot = await tb.screenshot(join(RESULTS_DIR, 'large-plain-untouched.png'));
      Object.assign(ctx.metrics, { selectToScriptStartMs: report.startedAt - sel.selectedAt, selectToReportMs: report.at - sel.selectedAt, readyStateAtStart: report.readyStateAtStart });
      const expected = largePlainBody().replace(/\s+/g, ' ').trim();
      expect(report.state).toBe('plain');
      expect(report.bodyHidden).toBe(false);
      expect(report.textLength).toBe(expected.length);
      expect(report.textSha256).toBe(createHash('sha256').update(expected.slice(0, 65_536), 'utf8').digest('hex'));
    });
  });

  it('held-mixed: a big plain part next to an encrypted part is hidden with it', async () => {
    await scenario('held-mixed', async (ctx) => {
      const sel = await tb.selectMessage(LARGE_MIXED.subject);
      const report = await tb.waitForReport(LARGE_MIXED.messageId, sel.selectedAt, 30_000);
      ctx.screenshot = await tb.screenshot(join(RESULTS_DIR, 'held-mixed.png'));
      Object.assign(ctx.metrics, { selectToScriptStartMs: report.startedAt - sel.selectedAt, selectToReportMs: report.at - sel.selectedAt, readyStateAtStart: report.readyStateAtStart, decidedBy: report.decidedBy });
      expect(report.state).toBe('held');
      expect(report.reason).toBe('smime-enveloped');
      expect(report.thunderbirdContentVisible).toBe(false);
      expect(report.textLength).toBe(0);
    });
  });

  it('relaunch-held: after a relaunch of the existing profile the event page starts and still gates', async () => {
    await scenario('relaunch-held', async (ctx) => {
      await tb.restart();
      const ms = await tb.waitForBackground(60_000);
      const d = await tb.diagnostics();
      const sel = await tb.selectMessage(DEMO_ENCRYPTED.subject);
      const report = await tb.waitForReport(DEMO_ENCRYPTED.messageId, sel.selectedAt);
      ctx.screenshot = await tb.screenshot(join(RESULTS_DIR, 'relaunch-held.png'));
      Object.assign(ctx.metrics, { spawnToMarionetteMs: tb.timings.spawnToMarionette ?? null, spawnToBackgroundMs: ms, startupReason: d.startupReason ?? null, selectToReportMs: report.at - sel.selectedAt });
      expect(report.state).toBe('held');
      expect(report.thunderbirdContentVisible).toBe(false);
    });
  });
});
