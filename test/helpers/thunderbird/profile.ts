/**
 * Throw-away Thunderbird profiles for the e2e tier: a `user.js` with every pref the platform note
 * lists (Local Folders from prefs, an identity, no first-run UI, no network noise, side-loading
 * enabled, Marionette port, add-on console to stdout), the side-loaded .xpi, and an mbox folder
 * "Unseal Tests" under Local Folders holding the test messages.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const ADDON_ID = 'unseal@unseal.example';
export const TEST_FOLDER = 'Unseal Tests';

export interface ProfileOptions {
  /** The built add-on; side-loaded as `extensions/<id>.xpi`. */
  xpi: string;
  marionettePort: number;
  /** `mailnews.p7m_external` (default true): Unseal needs it on; a test switches it off. */
  p7mExternal?: boolean;
  /** .eml files (or raw bytes) for the "Unseal Tests" folder, in order. */
  messages?: Array<string | Uint8Array>;
  /** More prefs, written last (win over the defaults). */
  prefs?: Record<string, string | number | boolean>;
}

export interface Profile {
  /** Root of this run: HOME and TMPDIR live below it, so nothing leaks into the real home. */
  root: string;
  dir: string;
  home: string;
  tmp: string;
}

export function basePrefs(o: ProfileOptions): Record<string, string | number | boolean> {
  return {
    // Local Folders from prefs alone: no account wizard.
    'mail.accountmanager.accounts': 'account1',
    'mail.accountmanager.localfoldersserver': 'server1',
    'mail.accountmanager.defaultaccount': 'account1',
    'mail.account.account1.server': 'server1',
    'mail.server.server1.type': 'none',
    'mail.server.server1.hostname': 'Local Folders',
    'mail.server.server1.name': 'Local Folders',
    'mail.server.server1.userName': 'nobody',
    'mail.server.server1.directory-rel': '[ProfD]Mail/Local Folders',
    // An identity linked to the account (compose paths crash without one).
    'mail.account.account1.identities': 'id1',
    'mail.identity.id1.fullName': 'Unseal Tester',
    'mail.identity.id1.useremail': 'tester@unseal.example',
    'mail.identity.id1.valid': true,
    // No first-run UI.
    'mail.provider.suppress_dialog_on_startup': true,
    'mail.rights.version': 1,
    'mail.shell.checkDefaultClient': false,
    'mail.shell.checkDefaultMail': false,
    'mailnews.start_page.enabled': false,
    'mail.inappnotifications.enabled': false,
    'mail.spotlight.firstRunDone': true,
    'mail.winsearch.firstRunDone': true,
    'mail.tabs.loadInBackground': true,
    'browser.shell.checkDefaultBrowser': false,
    'toolkit.startup.max_resumed_crashes': -1,
    'browser.tabs.remote.autostart': true,
    // Network noise off.
    'app.update.enabled': false,
    'app.update.auto': false,
    'app.update.checkInstallTime': false,
    'extensions.update.enabled': false,
    'extensions.update.autoUpdateDefault': false,
    'extensions.getAddons.cache.enabled': false,
    'extensions.systemAddon.update.enabled': false,
    'datareporting.policy.dataSubmissionEnabled': false,
    'datareporting.healthreport.uploadEnabled': false,
    'toolkit.telemetry.enabled': false,
    'toolkit.telemetry.unified': false,
    'toolkit.telemetry.server': 'http://127.0.0.1:9/',
    'services.settings.server': 'http://127.0.0.1:9/',
    'network.captive-portal-service.enabled': false,
    'network.connectivity-service.enabled': false,
    'network.dns.disablePrefetch': true,
    'browser.safebrowsing.malware.enabled': false,
    'browser.safebrowsing.phishing.enabled': false,
    'mail.phishing.detection.enabled': false,
    'mailnews.auto_config.fetchFromISP.enabled': false,
    'mail.cloud_files.enabled': false,
    'messenger.startup.action': 0,
    // Side-loaded, unsigned add-on: enabled without a prompt.
    'extensions.autoDisableScopes': 0,
    'extensions.enabledScopes': 15,
    'xpinstall.signatures.required': false,
    // Keep the MV3 event page alive for the length of a test file (default idle is 30 s).
    'extensions.background.idle.timeout': 600_000,
    // The gate this add-on depends on.
    'mailnews.p7m_external': o.p7mExternal ?? true,
    // Read-back: the add-on's console on stdout; Marionette.
    'devtools.console.stdout.content': true,
    'devtools.console.stdout.chrome': false,
    'marionette.port': o.marionettePort,
    'remote.prefs.recommended': true,
    // The 3-pane: list + message pane, no folder-pane surprises.
    'mail.pane_config.dynamic': 0,
  };
}

function prefLine(k: string, v: string | number | boolean): string {
  return `user_pref(${JSON.stringify(k)}, ${JSON.stringify(v)});`;
}

/** mboxrd: a `From ` separator per message, `>`-quoting of `From ` lines (and already-quoted ones). */
export function toMbox(messages: Uint8Array[]): Buffer {
  const parts: Buffer[] = [];
  for (const m of messages) {
    let text = Buffer.from(m).toString('latin1').replace(/\r\n/g, '\n');
    text = text.replace(/^(>*From )/gm, '>$1');
    if (!text.endsWith('\n')) text += '\n';
    parts.push(Buffer.from(`From - Mon Jan  1 00:00:00 2024\n${text}\n`, 'latin1'));
  }
  return Buffer.concat(parts);
}

export function createProfile(o: ProfileOptions): Profile {
  const root = mkdtempSync(join(tmpdir(), 'unseal-tb-'));
  const dir = join(root, 'profile');
  const home = join(root, 'home');
  const tmp = join(root, 'tmp');
  for (const d of [dir, home, tmp, join(dir, 'extensions'), join(dir, 'Mail', 'Local Folders')]) {
    mkdirSync(d, { recursive: true });
  }
  const prefs = { ...basePrefs(o), ...o.prefs };
  writeFileSync(join(dir, 'user.js'), Object.entries(prefs).map(([k, v]) => prefLine(k, v)).join('\n') + '\n');
  copyFileSync(o.xpi, join(dir, 'extensions', `${ADDON_ID}.xpi`));
  const bytes = (o.messages ?? []).map((m) => (typeof m === 'string' ? readFileSync(m) : m));
  writeFileSync(join(dir, 'Mail', 'Local Folders', TEST_FOLDER), toMbox(bytes));
  // Thunderbird also wants Trash/Unsent Messages; it creates them itself on first start.
  return { root, dir, home, tmp };
}
