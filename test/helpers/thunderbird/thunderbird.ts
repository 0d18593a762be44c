/**
 * Starts a real Thunderbird on a throw-away profile (under Xvfb, or --headless), drives it over
 * raw Marionette in chrome context, and reads back what the add-on's display script rendered.
 *
 * Read-back channel: the background keeps a ring of display reports in `storage.session` (memory
 * of the parent process, survives event-page suspension, gone on restart). A Marionette chrome
 * script reads that bucket through `ExtensionStorage.sys.mjs` (`extensionStorageSession`). The
 * message pane itself is a remote browser: its DOM is not reachable from chrome, so the display
 * script reports what it rendered (state + text digest) instead.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname } from 'node:path';
import { Marionette, withTimeout } from './marionette.js';
import { ADDON_ID, TEST_FOLDER, createProfile, type Profile, type ProfileOptions } from './profile.js';

export const THUNDERBIRD_BIN = process.env['UNSEAL_THUNDERBIRD'] ?? '/usr/lib/thunderbird/thunderbird';

/** What the display script reported and the background stored (see src/protocol/display.ts). */
export interface DisplayReport {
  seq: number;
  at: number;
  tabId?: number;
  messageId?: number;
  headerMessageId?: string;
  subject?: string;
  state: string;
  reason?: string;
  bodyHidden: boolean;
  thunderbirdContentVisible: boolean;
  gateShown: boolean;
  decidedBy: 'dom' | 'background';
  textLength: number;
  textSha256: string;
  startedAt: number;
  readyStateAtStart: string;
  forMessageId?: number;
  /** Second report of a held message: what Unseal rendered (src/protocol/display.ts). */
  rendered?: 'plain' | 'clean' | 'infected' | 'unscanned' | 'no-key' | 'locked' | 'error' | 'failed';
  renderFailure?: string;
  renderedTextLength?: number;
  renderedTextSha256?: string;
  attachmentCount?: number;
  blockedBanner?: boolean;
  findingSignatures?: string[];
  keySource?: 'unseal' | 'managed' | 'thunderbird';
  signatureStates?: string[];
  renderedReason?: string;
  /** 'viewer' when the Unseal viewer tab sent it; absent/'pane' from the message display script. */
  surface?: 'pane' | 'viewer';
}

export interface Condition {
  seq: number;
  at: number;
  code: string;
  messageId?: number;
  headerMessageId?: string;
  detail: string;
}

/** A notification the add-on showed (src/platform/diagnostics.ts). */
export interface ShownNotification {
  seq: number;
  at: number;
  notificationId: string;
  code: string;
  messageId?: number;
}

export interface Diagnostics {
  backgroundStartedAt?: number;
  startupReason?: string;
  reports: DisplayReport[];
  conditions: Condition[];
  notifications?: ShownNotification[];
}

export interface StartOptions extends Omit<ProfileOptions, 'marionettePort'> {
  /** Default: Xvfb when available (real X screenshots), else --headless. */
  headless?: boolean;
  /** Show Thunderbird on this existing X display (the demo on a desktop) instead of Xvfb. */
  display?: string;
  /** Keep the profile dir after stop() (for debugging). */
  keepProfile?: boolean;
  startTimeoutMs?: number;
  /** Runs after the profile exists and before Thunderbird starts (e.g. install the native host into `profile.home`). */
  beforeLaunch?: (profile: Profile) => Promise<void> | void;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const a = srv.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export async function waitFor<T>(fn: () => Promise<T | undefined | null | false> | T | undefined | null | false, timeoutMs: number, what = 'condition', intervalMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`waitFor ${what}: timed out after ${timeoutMs} ms${last ? ` (last error: ${String(last)})` : ''}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

function freeDisplay(): number {
  for (let n = 99; n < 400; n++) if (!existsSync(`/tmp/.X${n}-lock`) && !existsSync(`/tmp/.X11-unix/X${n}`)) return n;
  throw new Error('no free X display');
}

async function startXvfb(): Promise<{ display: string; proc: ChildProcess }> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const n = freeDisplay() + attempt * 7;
    const proc = spawn('Xvfb', [`:${n}`, '-screen', '0', '1600x1000x24', '-nolisten', 'tcp'], { stdio: 'ignore' });
    const ok = await waitFor(() => existsSync(`/tmp/.X11-unix/X${n}`) || proc.exitCode !== null, 10_000, 'Xvfb socket').catch(() => false);
    if (ok && proc.exitCode === null) return { display: `:${n}`, proc };
    proc.kill('SIGKILL');
  }
  throw new Error('Xvfb did not start');
}

function hasXvfb(): boolean {
  return (process.env['PATH'] ?? '').split(':').some((p) => existsSync(`${p}/Xvfb`));
}

interface Launched {
  tb: ChildProcess;
  marionette: Marionette;
  spawnedAt: number;
  spawnToMarionette: number;
}

async function launch(profile: Profile, port: number, display: string | undefined, lines: string[], startTimeoutMs: number): Promise<Launched> {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env['PATH'],
    HOME: profile.home,
    TMPDIR: profile.tmp,
    LANG: 'C.UTF-8',
    MOZ_CRASHREPORTER_DISABLE: '1',
    MOZ_DISABLE_AUTO_SAFE_MODE: '1',
    ...(display ? { DISPLAY: display } : { MOZ_HEADLESS: '1' }),
    // A real desktop's X authority lives in the real home, which this run's HOME hides.
    ...(process.env['XAUTHORITY'] ? { XAUTHORITY: process.env['XAUTHORITY'] } : process.env['HOME'] && display ? { XAUTHORITY: `${process.env['HOME']}/.Xauthority` } : {}),
  };
  const args = ['--profile', profile.dir, '--no-remote', '--marionette', '--remote-allow-system-access'];
  if (!display) args.push('--headless');
  const spawnedAt = Date.now();
  const tb = spawn(THUNDERBIRD_BIN, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const collect = (b: Buffer) => {
    for (const l of b.toString('utf8').split('\n')) if (l) lines.push(l);
    if (lines.length > 20_000) lines.splice(0, lines.length - 20_000);
  };
  tb.stdout!.on('data', collect);
  tb.stderr!.on('data', collect);
  try {
    const marionette = await Marionette.connect(port, startTimeoutMs);
    await marionette.newSession();
    await marionette.setContext('chrome');
    return { tb, marionette, spawnedAt, spawnToMarionette: Date.now() - spawnedAt };
  } catch (e) {
    tb.kill('SIGKILL');
    throw new Error(`Thunderbird did not start: ${String(e)}\n${lines.slice(-40).join('\n')}`);
  }
}

export class Thunderbird {
  /** Thunderbird's stdout and stderr lines (the add-on's console is here too). */
  readonly stdout: string[] = [];
  /** spawn → Marionette answering, spawn → the background's top level ran (Thunderbird clock). */
  timings: { spawnToMarionette?: number; spawnToBackground?: number } = {};
  private spawnedAt = 0;
  private tb!: ChildProcess;
  private m!: Marionette;

  private constructor(
    readonly profile: Profile,
    private readonly port: number,
    private readonly xvfb: ChildProcess | undefined,
    readonly display: string | undefined,
    private readonly keepProfile: boolean,
    private readonly startTimeoutMs: number,
  ) {}

  get marionette(): Marionette {
    return this.m;
  }

  static async start(o: StartOptions): Promise<Thunderbird> {
    if (!existsSync(THUNDERBIRD_BIN)) throw new Error(`${THUNDERBIRD_BIN} missing: run .ci/install-thunderbird.sh`);
    const port = await freePort();
    const profile = createProfile({ ...o, marionettePort: port });
    await o.beforeLaunch?.(profile);
    const headless = o.display ? false : (o.headless ?? (process.env['UNSEAL_E2E_HEADLESS'] === '1' || !hasXvfb()));
    const x = headless || o.display ? undefined : await startXvfb();
    const display = o.display ?? x?.display;
    const t = new Thunderbird(profile, port, x?.proc, display, o.keepProfile ?? false, o.startTimeoutMs ?? 60_000);
    try {
      t.adopt(await launch(profile, port, display, t.stdout, t.startTimeoutMs));
    } catch (e) {
      x?.proc.kill('SIGKILL');
      if (!t.keepProfile) rmSync(profile.root, { recursive: true, force: true });
      throw e;
    }
    return t;
  }

  private adopt(l: Launched): void {
    this.tb = l.tb;
    this.m = l.marionette;
    this.spawnedAt = l.spawnedAt;
    this.timings = { spawnToMarionette: l.spawnToMarionette };
  }

  /** Resolves when the user closes Thunderbird (the demo on a desktop). */
  waitForExit(): Promise<void> {
    return new Promise((resolve) => {
      if (this.tb.exitCode !== null) resolve();
      else this.tb.once('exit', () => resolve());
    });
  }

  /** Quits and starts Thunderbird again on the same profile (an existing profile: no install). */
  async restart(): Promise<void> {
    await this.quit();
    this.adopt(await launch(this.profile, this.port, this.display, this.stdout, this.startTimeoutMs));
  }

  private async quit(): Promise<void> {
    const tb = this.tb;
    const exited = new Promise<void>((r) => (tb.exitCode !== null || tb.signalCode !== null ? r() : tb.once('exit', () => r())));
    await withTimeout(this.m.quit(), 20_000, 'marionette quit').catch(() => undefined);
    await withTimeout(exited, 15_000, 'thunderbird exit').catch(() => tb.kill('SIGKILL'));
  }

  /** Runs a chrome-context script (function body; `arguments[i]`; may return a promise). */
  chrome<T = unknown>(script: string, args: unknown[] = [], timeoutMs = 30_000): Promise<T> {
    return this.marionette.execute<T>(script, args, timeoutMs);
  }

  /** AddonManager's view of the add-on: installed, enabled, no load error. */
  addonState(): Promise<{ id: string; isActive: boolean; userDisabled: boolean; appDisabled: boolean; version: string } | null> {
    return this.chrome(
      `const { AddonManager } = ChromeUtils.importESModule("resource://gre/modules/AddonManager.sys.mjs");
       return AddonManager.getAddonByID(arguments[0]).then(a => a && ({ id: a.id, isActive: a.isActive, userDisabled: a.userDisabled, appDisabled: a.appDisabled, version: a.version }));`,
      [ADDON_ID],
    );
  }

  /** The add-on's diagnostics bucket in storage.session (see src/platform/diagnostics.ts). */
  diagnostics(): Promise<Diagnostics> {
    return this.chrome<Diagnostics>(
      `const { extensionStorageSession } = ChromeUtils.importESModule("resource://gre/modules/ExtensionStorage.sys.mjs");
       const policy = WebExtensionPolicy.getByID(arguments[0]);
       const out = { reports: [], conditions: [] };
       if (!policy || !policy.extension) return out;
       const got = extensionStorageSession.get(policy.extension, ["diagnostics"]);
       const holder = got && got.diagnostics;
       if (!holder) return out;
       const v = typeof holder.deserialize === "function" ? holder.deserialize(globalThis, true) : holder;
       return Object.assign(out, JSON.parse(JSON.stringify(v)));`,
      [ADDON_ID],
    );
  }

  /** Waits until the MV3 background ran its top level; returns spawn → background ms. */
  async waitForBackground(timeoutMs = 60_000): Promise<number> {
    const d = await waitFor(async () => {
      const v = await this.diagnostics();
      return v.backgroundStartedAt ? v : undefined;
    }, timeoutMs, 'background start', 100);
    this.timings.spawnToBackground = d.backgroundStartedAt! - this.spawnedAt;
    return this.timings.spawnToBackground;
  }

  /**
   * Shows the test folder in the first 3-pane tab and selects the message with this subject.
   * Returns the Thunderbird clock (ms) right after the selection and the message's Message-ID.
   */
  selectMessage(subject: string, folder = TEST_FOLDER, timeoutMs = 20_000): Promise<{ selectedAt: number; headerMessageId: string; index: number }> {
    return this.chrome(
      `const [folderName, subject, timeoutMs] = arguments;
       const { MailServices } = ChromeUtils.importESModule("resource:///modules/MailServices.sys.mjs");
       const win = Services.wm.getMostRecentWindow("mail:3pane");
       const tabmail = win.document.getElementById("tabmail");
       if (tabmail.currentTabInfo !== tabmail.tabInfo[0]) tabmail.switchToTab(0);
       const about3Pane = tabmail.currentAbout3Pane;
       const root = MailServices.accounts.localFoldersServer.rootFolder;
       const folder = root.getChildNamed(folderName);
       if (!about3Pane.gFolder || about3Pane.gFolder.URI !== folder.URI) about3Pane.displayFolder(folder.URI);
       return (async () => {
         const deadline = Date.now() + timeoutMs;
         while (Date.now() < deadline) {
           const view = about3Pane.gDBView;
           if (view && about3Pane.gFolder && about3Pane.gFolder.URI === folder.URI) {
             for (let i = 0; i < view.rowCount; i++) {
               const hdr = view.getMsgHdrAt(i);
               if (hdr && hdr.mime2DecodedSubject === subject) {
                 if (about3Pane.threadTree.selectedIndex === i) about3Pane.threadTree.selectedIndex = -1;
                 about3Pane.threadTree.selectedIndex = i;
                 return { selectedAt: Date.now(), headerMessageId: hdr.messageId, index: i };
               }
             }
           }
           await new Promise(r => win.setTimeout(r, 100));
         }
         throw new Error("message not found in " + folderName + ": " + subject);
       })();`,
      [folder, subject, timeoutMs],
      timeoutMs + 5_000,
    );
  }

  /** Clears the selection (the message pane goes blank). */
  clearSelection(): Promise<void> {
    return this.chrome(
      `const win = Services.wm.getMostRecentWindow("mail:3pane");
       const about3Pane = win.document.getElementById("tabmail").currentAbout3Pane;
       about3Pane.threadTree.selectedIndex = -1;`,
    );
  }

  /** What the 3-pane's message browser currently shows (URI of the remote message pane). */
  messagePaneUri(): Promise<string | null> {
    return this.chrome(
      `const win = Services.wm.getMostRecentWindow("mail:3pane");
       const about3Pane = win.document.getElementById("tabmail").currentAbout3Pane;
       const aboutMessage = about3Pane.messageBrowser && about3Pane.messageBrowser.contentWindow;
       const b = aboutMessage && aboutMessage.getMessagePaneBrowser && aboutMessage.getMessagePaneBrowser();
       return b && b.currentURI ? b.currentURI.spec : null;`,
    );
  }

  /** Waits for a display report about this Message-ID after `since` (Thunderbird clock). */
  async waitForReport(headerMessageId: string, since: number, timeoutMs = 15_000): Promise<DisplayReport> {
    return waitFor(async () => {
      const d = await this.diagnostics();
      return d.reports.find((r) => r.at >= since && sameMessageId(r.headerMessageId, headerMessageId));
    }, timeoutMs, `display report for ${headerMessageId}`, 50);
  }

  /** Waits for the report of what Unseal rendered for this message (the second report of a held message). */
  async waitForRendered(headerMessageId: string, since: number, timeoutMs = 30_000): Promise<DisplayReport> {
    return waitFor(async () => {
      const d = await this.diagnostics();
      return d.reports.find((r) => r.at >= since && r.rendered !== undefined && sameMessageId(r.headerMessageId, headerMessageId));
    }, timeoutMs, `rendered report for ${headerMessageId}`, 50);
  }

  /** Waits for a condition the add-on recorded (e.g. P7M_EXTERNAL_OFF_SUSPECTED) after `since`. */
  async waitForCondition(code: string, headerMessageId: string | undefined, since: number, timeoutMs = 15_000): Promise<Condition> {
    return waitFor(async () => {
      const d = await this.diagnostics();
      return d.conditions.find((c) => c.code === code && c.at >= since && (headerMessageId === undefined || sameMessageId(c.headerMessageId, headerMessageId)));
    }, timeoutMs, `condition ${code}`, 100);
  }

  /** Display reports about this Message-ID after `since` (empty when no display script ran). */
  async reportsFor(headerMessageId: string, since: number): Promise<DisplayReport[]> {
    const d = await this.diagnostics();
    return d.reports.filter((r) => r.at >= since && sameMessageId(r.headerMessageId, headerMessageId));
  }

  /** PNG of the screen (X: `import -window root`) or, headless, of the chrome window via Marionette. */
  async screenshot(path: string): Promise<string> {
    mkdirSync(dirname(path), { recursive: true });
    if (this.display) {
      const ok = await new Promise<boolean>((resolve) => {
        const p = spawn('import', ['-display', this.display!, '-window', 'root', path], { stdio: 'ignore' });
        const timer = setTimeout(() => (p.kill('SIGKILL'), resolve(false)), 15_000);
        p.on('exit', (code) => (clearTimeout(timer), resolve(code === 0)));
        p.on('error', () => (clearTimeout(timer), resolve(false)));
      });
      if (ok) return path;
    }
    writeFileSync(path, await this.marionette.screenshot());
    return path;
  }

  async stop(): Promise<void> {
    await this.quit();
    this.xvfb?.kill('SIGTERM');
    if (!this.keepProfile) rmSync(this.profile.root, { recursive: true, force: true });
  }

}

function sameMessageId(a: string | undefined, b: string): boolean {
  const strip = (s: string) => s.trim().replace(/^<|>$/g, '');
  return a !== undefined && strip(a) === strip(b);
}
