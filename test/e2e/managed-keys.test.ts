/**
 * Keys managed by the organisation in a real Thunderbird: the native host is installed with a
 * managed key directory (alice.p12, its password in a mode-600 JSON file), the policy
 * (~/.mozilla/managed-storage) says keys.managedSource "host", and NO user key is imported. The
 * encrypted mail renders clean with keySource 'managed'; the keys page lists the key under
 * "Managed by your organisation" with no export or delete button.
 */
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADDON_ID } from '../../src/protocol/native.js';
import { startClamd, type ClamdHandle } from '../helpers/scanners/clamd.js';
import { ALICE } from '../helpers/smime-samples.js';
import { RESULTS_DIR, Thunderbird, builtXpi, scenario, installHost } from '../helpers/thunderbird/index.js';
import { KeysPage } from '../helpers/thunderbird/keys-page.js';

const MESSAGE = 'test/fixtures/demo/encrypted-signed.eml';

describe('organisation-managed keys in Thunderbird', () => {
  let tb: Thunderbird;
  let clamd: ClamdHandle;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'unseal-e2e-managed-'));
    const keys = join(dir, 'keys');
    mkdirSync(keys, { mode: 0o755 });
    chmodSync(keys, 0o755);
    copyFileSync(ALICE.p12, join(keys, 'team-mailbox.p12'));
    const passwords = join(dir, 'key-passwords.json');
    writeFileSync(passwords, JSON.stringify({ 'team-mailbox.p12': ALICE.pass }));
    chmodSync(passwords, 0o600);
    clamd = await startClamd({ alertExceedsMax: true });
    tb = await Thunderbird.start({
      xpi: builtXpi(),
      p7mExternal: true,
      messages: [MESSAGE],
      beforeLaunch: (p) => {
        installHost(p.home, clamd.url, '--managed-keys', keys, '--managed-passwords', passwords);
        const d = join(p.home, '.mozilla/managed-storage');
        mkdirSync(d, { recursive: true });
        writeFileSync(join(d, `${ADDON_ID}.json`), JSON.stringify({ name: ADDON_ID, description: 'Unseal e2e policy', type: 'storage', data: { keys: { managedSource: 'host' } } }));
      },
    });
    await tb.waitForBackground(60_000);
  }, 180_000);

  afterAll(async () => {
    await tb?.stop();
    await clamd?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  it('managed-key-decrypt: no user key, the host holds it — the message renders clean, keySource managed', async () => {
    await scenario('managed-key-decrypt', async (ctx) => {
      const page = new KeysPage(tb, `moz-extension://${await KeysPage.uuid(tb)}/pages/keys.html`);
      await page.open();
      await page.waitIdle((x) => x.keys === '0', 'no user keys');
      let listed = await page.run<{ count: string; hidden: boolean; text: string; buttons: number }>(`(content) => {
        const d = content.document;
        return { count: d.body.dataset.managedKeys, hidden: d.getElementById("managed-section").hidden,
                 text: d.getElementById("managed-list").textContent,
                 buttons: d.querySelectorAll("#managed-list button").length };
      }`);
      // The host is asked when the list loads; poll until the section is filled.
      for (let i = 0; i < 60 && listed.count !== '1'; i++) {
        await new Promise((res) => setTimeout(res, 500));
        listed = await page.run<typeof listed>(`(content) => {
          const d = content.document;
          return { count: d.body.dataset.managedKeys, hidden: d.getElementById("managed-section").hidden,
                   text: d.getElementById("managed-list").textContent,
                   buttons: d.querySelectorAll("#managed-list button").length };
        }`);
      }
      expect(listed).toMatchObject({ count: '1', hidden: false, buttons: 0 });
      expect(listed.text).toMatch(/Managed by your organisation/);
      expect(listed.text).toMatch(/alice@demo\.example/);
      await tb.chrome(`Services.wm.getMostRecentWindow("mail:3pane").document.getElementById("tabmail").switchToTab(0);`);
      const sel = await tb.selectMessage('Quarterly figures (encrypted)');
      const r = await tb.waitForRendered('demo-1@demo.example', sel.selectedAt, 60_000);
      ctx.ms = r.at - sel.selectedAt;
      ctx.screenshot = await tb.screenshot(join(RESULTS_DIR, 'managed-key-decrypt.png'));
      expect(r.rendered).toBe('clean');
      expect(r.keySource).toBe('managed');
    });
  }, 180_000);
});
