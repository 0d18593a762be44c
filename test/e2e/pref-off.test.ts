/**
 * With `mailnews.p7m_external=false` Thunderbird shows its own "cannot decrypt" page for S/MIME it
 * has no key for: no display script runs, so Unseal cannot gate. The add-on must notice (selection
 * changed, no display report) and record the condition so it can tell the user/admin.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RESULTS_DIR, Thunderbird, builtXpi, scenario } from '../helpers/thunderbird/index.js';
import { DEMO_ENCRYPTED, LEGACY_ENCRYPTED, PLAIN } from './messages.js';

describe('gate with mailnews.p7m_external=false', () => {
  let tb: Thunderbird;

  beforeAll(async () => {
    tb = await Thunderbird.start({ xpi: builtXpi(), p7mExternal: false, messages: [PLAIN.file, LEGACY_ENCRYPTED.file, DEMO_ENCRYPTED.file] });
    await tb.waitForBackground(60_000);
  }, 120_000);

  afterAll(async () => {
    await tb?.stop();
  }, 60_000);

  it('pref-off-detected: no display event for the encrypted message, condition recorded', async () => {
    await scenario('pref-off-detected', async (ctx) => {
      // Control: display scripts do run in this profile (a plain message reports).
      const plainSel = await tb.selectMessage(PLAIN.subject);
      const plain = await tb.waitForReport(PLAIN.messageId, plainSel.selectedAt);
      expect(plain.state).toBe('plain');

      const sel = await tb.selectMessage(DEMO_ENCRYPTED.subject);
      const condition = await tb.waitForCondition('P7M_EXTERNAL_OFF_SUSPECTED', DEMO_ENCRYPTED.messageId, sel.selectedAt, 20_000);
      ctx.screenshot = await tb.screenshot(join(RESULTS_DIR, 'pref-off-detected.png'));
      const reports = await tb.reportsFor(DEMO_ENCRYPTED.messageId, sel.selectedAt);
      const paneUri = await tb.messagePaneUri();
      Object.assign(ctx.metrics, { selectToConditionMs: condition.at - sel.selectedAt, paneUriScheme: paneUri ? paneUri.split(':')[0]! : null });
      expect(reports).toEqual([]);
      expect(condition.detail).toMatch(/p7m_external/);
    });
  });
});
