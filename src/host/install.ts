/**
 * Installing, removing and diagnosing the native-messaging host registration. "No such native
 * application" is the most common support problem for add-ons like this one, so every location and
 * command is computed from (platform, env) alone — testable for macOS and Windows on Linux — and
 * doctor says exactly what to change.
 */
import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { chmod, mkdir, rm, writeFile } from 'node:fs/promises';
import { posix, win32 } from 'node:path';
import { ADDON_ID, NATIVE_HOST_NAME } from '../protocol/native.js';
import { isRecord } from '../protocol/validate.js';
import { UnsealError } from '../core/errors.js';
import { HOST_CONFIG_FILE, parseHostConfig } from './config.js';
import { ManagedKeyStore, permissionProblem, type ManagedKeysConfig } from './managed-keys.js';
import { parseScannerUrl, redact, type ScannerTarget } from './scanners/create.js';

export type Platform = 'linux' | 'darwin' | 'win32';

export interface HostManifest {
  readonly name: string;
  readonly description: string;
  readonly path: string;
  readonly type: 'stdio';
  readonly allowed_extensions: readonly string[];
}

export interface InstallPlan {
  readonly platform: Platform;
  readonly dir: string;
  readonly manifestPath: string;
  readonly launcherPath: string;
  readonly configPath: string;
  readonly manifest: HostManifest;
  readonly launcher: string;
  /** Written only when a scanner URL or managed keys were given (merged into an existing config, which is otherwise left alone: planConfigWrite). */
  readonly config?: { scanner?: string; managedKeys?: ManagedKeysConfig };
  /** Windows: the registry value Thunderbird reads; argv for reg.exe. */
  readonly registry?: { readonly add: readonly string[]; readonly delete: readonly string[]; readonly key: string };
}

export interface PlanInput {
  readonly platform: Platform;
  readonly env: NodeJS.ProcessEnv;
  readonly system: boolean;
  /** Absolute path of the node binary the launcher runs (Thunderbird's PATH may have none). */
  readonly nodePath: string;
  /** Absolute path of dist/host/unseal-host.mjs. */
  readonly hostScript: string;
  readonly scanner?: string;
  /** The organisation's key directory and its passwords file (absolute paths). */
  readonly managedKeys?: ManagedKeysConfig;
}

function pathFor(platform: Platform) {
  return platform === 'win32' ? win32 : posix;
}

function home(platform: Platform, env: NodeJS.ProcessEnv): string {
  const h = platform === 'win32' ? env['USERPROFILE'] || env['HOME'] : env['HOME'];
  if (!h) throw new Error(platform === 'win32' ? 'USERPROFILE is not set' : 'HOME is not set');
  return h;
}

/** Where Thunderbird looks for `<name>.json` (Linux/macOS) or where we keep it (Windows, found via the registry). */
export function manifestDir(platform: Platform, env: NodeJS.ProcessEnv, system: boolean): string {
  const p = pathFor(platform);
  switch (platform) {
    case 'linux':
      return system ? '/usr/lib/mozilla/native-messaging-hosts' : p.join(home(platform, env), '.mozilla', 'native-messaging-hosts');
    case 'darwin':
      // Not "Application Support" for the user location: Gecko reads ~/Library/Mozilla directly.
      return system ? '/Library/Application Support/Mozilla/NativeMessagingHosts' : p.join(home(platform, env), 'Library', 'Mozilla', 'NativeMessagingHosts');
    case 'win32': {
      if (system) return p.join(env['ProgramData'] || env['PROGRAMDATA'] || 'C:\\ProgramData', 'Unseal');
      const local = env['LOCALAPPDATA'] || p.join(home(platform, env), 'AppData', 'Local');
      return p.join(local, 'Unseal');
    }
  }
}

export function registryKey(system: boolean): string {
  return `${system ? 'HKLM' : 'HKCU'}\\Software\\Mozilla\\NativeMessagingHosts\\${NATIVE_HOST_NAME}`;
}

/** The launcher pins absolute paths: Thunderbird started from a desktop menu often has no node on PATH. */
export function launcherText(platform: Platform, nodePath: string, hostScript: string): string {
  if (platform === 'win32') return `@echo off\r\n"${nodePath}" "${hostScript}" %*\r\n`;
  return `#!/bin/sh\nexec ${shQuote(nodePath)} ${shQuote(hostScript)} "$@"\n`;
}

function shQuote(s: string): string {
  return `"${s.replace(/(["\\$`])/g, '\\$1')}"`;
}

export function planInstall(input: PlanInput): InstallPlan {
  const { platform, env, system } = input;
  const p = pathFor(platform);
  if (!p.isAbsolute(input.nodePath)) throw new Error(`node path must be absolute: ${input.nodePath}`);
  if (!p.isAbsolute(input.hostScript)) throw new Error(`host script path must be absolute: ${input.hostScript}`);
  // The parser `unseal scan --scanner` and the host use: a URL the host cannot use is a usage error
  // now, not a host that reports every message unscanned later.
  if (input.scanner !== undefined) parseScannerUrl(input.scanner);
  const dir = manifestDir(platform, env, system);
  const manifestPath = p.join(dir, `${NATIVE_HOST_NAME}.json`);
  const launcherPath = p.join(dir, platform === 'win32' ? 'unseal-host.cmd' : 'unseal-host');
  const key = registryKey(system);
  return {
    platform,
    dir,
    manifestPath,
    launcherPath,
    configPath: p.join(dir, HOST_CONFIG_FILE),
    manifest: {
      name: NATIVE_HOST_NAME,
      description: 'Unseal: scans decrypted S/MIME mail with the anti-virus scanner before Thunderbird shows it',
      path: launcherPath,
      type: 'stdio',
      allowed_extensions: [ADDON_ID],
    },
    launcher: launcherText(platform, input.nodePath, input.hostScript),
    ...(input.scanner !== undefined || input.managedKeys
      ? { config: { ...(input.scanner !== undefined ? { scanner: input.scanner } : {}), ...(input.managedKeys ? { managedKeys: input.managedKeys } : {}) } }
      : {}),
    ...(platform === 'win32'
      ? {
          registry: {
            key,
            add: ['reg.exe', 'add', key, '/ve', '/t', 'REG_SZ', '/d', manifestPath, '/f'],
            delete: ['reg.exe', 'delete', key, '/f'],
          },
        }
      : {}),
  };
}

/** What install writes to host-config.json, decided before anything is written (see planConfigWrite). */
export interface ConfigWrite {
  readonly path: string;
  /** Exactly the object written. */
  readonly config: Readonly<Record<string, unknown>>;
  /** `merged`: into a valid existing file, whose other settings stay; `replaced`: an invalid one, with --force. */
  readonly how: 'new' | 'merged' | 'replaced';
  /** With `replaced`: what was wrong with the file. */
  readonly problem?: string;
}

/**
 * The host-config.json install would write, from the plan and the file on disk now: the new scanner
 * and managed keys merged over a valid existing config (an admin's auditLog, limits, managedKeys
 * survive a re-install). An existing file that is not valid JSON, or not a config the host would
 * accept (the host's own parseHostConfig), is refused — a usage error naming the file and the
 * problem — unless `force`, then it is replaced by the plan's settings alone. Undefined when install
 * leaves host-config.json alone (no --scanner, no managed keys).
 */
export function planConfigWrite(plan: InstallPlan, opts: { force?: boolean; env?: NodeJS.ProcessEnv } = {}): ConfigWrite | undefined {
  if (!plan.config) return undefined;
  const path = plan.configPath;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { path, config: { ...plan.config }, how: 'new' };
    throw new UnsealError('io', `cannot read ${path}: ${code ?? String(e)}`);
  }
  let problem: string;
  try {
    const parsed: unknown = JSON.parse(text);
    parseHostConfig(parsed, path, opts.env ?? {});
    return { path, config: { ...(parsed as Record<string, unknown>), ...plan.config }, how: 'merged' };
  } catch (e) {
    problem = e instanceof SyntaxError ? `${path}: not valid JSON (${e.message})` : (e as Error).message;
  }
  if (!opts.force) {
    throw new UnsealError('usage', `${problem}; install merges into this file and will not overwrite it: fix it, or run install again with --force to replace it (its other settings are lost)`);
  }
  return { path, config: { ...plan.config }, how: 'replaced', problem };
}

/** Human-readable steps, for --dry-run and for the log of a real run; `config` from planConfigWrite. */
export function describeInstall(plan: InstallPlan, config?: ConfigWrite): string[] {
  const out = [
    `mkdir -p ${plan.dir}`,
    `write ${plan.manifestPath}:\n${JSON.stringify(plan.manifest, null, 2)}`,
    `write ${plan.launcherPath} (mode 755):\n${plan.launcher.trimEnd()}`,
  ];
  if (config) {
    const how = config.how === 'merged' ? ' (merged into the existing file)' : config.how === 'replaced' ? ` (replacing the invalid existing file, --force: ${config.problem})` : '';
    out.push(`write ${config.path}${how}:\n${JSON.stringify(config.config, null, 2)}`);
  }
  if (plan.registry) out.push(`run ${commandLine(plan.registry.add)}`);
  return out;
}

export function describeUninstall(plan: InstallPlan): string[] {
  const out = [`remove ${plan.manifestPath}`, `remove ${plan.launcherPath}`];
  if (plan.registry) out.push(`run ${commandLine(plan.registry.delete)}`);
  out.push(`keep ${plan.configPath} (delete it by hand if no longer wanted)`);
  return out;
}

export function commandLine(argv: readonly string[]): string {
  return argv.map((a) => (/[\s"]/.test(a) ? `"${a.replace(/"/g, '\\"')}"` : a)).join(' ');
}

export type RunCommand = (argv: readonly string[]) => { status: number | null; stdout: string; stderr: string };

export const runCommand: RunCommand = (argv) => {
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8' });
  return { status: r.error ? null : r.status, stdout: r.stdout ?? '', stderr: r.error ? r.error.message : (r.stderr ?? '') };
};

/** Writes the plan; host-config.json only as `config` says (planConfigWrite, computed first so a refusal writes nothing). */
export async function applyInstall(plan: InstallPlan, run: RunCommand = runCommand, config?: ConfigWrite): Promise<void> {
  await mkdir(plan.dir, { recursive: true });
  await writeFile(plan.launcherPath, plan.launcher, { mode: 0o755 });
  await chmod(plan.launcherPath, 0o755);
  await writeFile(plan.manifestPath, `${JSON.stringify(plan.manifest, null, 2)}\n`, { mode: 0o644 });
  if (config) await writeFile(config.path, `${JSON.stringify(config.config, null, 2)}\n`, { mode: 0o644 });
  if (plan.registry) {
    const r = run(plan.registry.add);
    if (r.status !== 0) throw new Error(`${commandLine(plan.registry.add)} failed: ${r.stderr.trim() || `exit ${r.status}`}`);
  }
}

export async function applyUninstall(plan: InstallPlan, run: RunCommand = runCommand): Promise<string[]> {
  const removed: string[] = [];
  for (const f of [plan.manifestPath, plan.launcherPath]) {
    if (existsSync(f)) {
      await rm(f, { force: true });
      removed.push(f);
    }
  }
  if (plan.registry) {
    const r = run(plan.registry.delete);
    if (r.status === 0) removed.push(plan.registry.key);
  }
  return removed;
}

// ---------------------------------------------------------------------------------------------
// doctor

export type CheckStatus = 'ok' | 'warn' | 'fail';
export interface Check {
  readonly status: CheckStatus;
  readonly what: string;
  /** Exactly what to do about it; for ok lines, the evidence. */
  readonly fix: string;
}

export function formatCheck(c: Check): string {
  return `${c.status.padEnd(4)}  ${c.what}  ${c.fix}`;
}

/** Places people (and older docs) put manifests that Thunderbird never reads. */
export function unreadLocations(platform: Platform, env: NodeJS.ProcessEnv): string[] {
  const p = pathFor(platform);
  const name = `${NATIVE_HOST_NAME}.json`;
  if (platform === 'linux') {
    const h = home(platform, env);
    return [
      p.join(h, '.thunderbird', 'native-messaging-hosts', name),
      p.join(env['XDG_CONFIG_HOME'] || p.join(h, '.config'), 'thunderbird', 'native-messaging-hosts', name),
      p.join(h, '.config', 'mozilla', 'native-messaging-hosts', name),
      p.join('/usr/lib64/mozilla/native-messaging-hosts', name),
      p.join('/etc/thunderbird/native-messaging-hosts', name),
      p.join('/usr/lib/thunderbird/native-messaging-hosts', name),
    ];
  }
  if (platform === 'darwin') {
    const h = home(platform, env);
    return [
      p.join(h, 'Library', 'Application Support', 'Mozilla', 'NativeMessagingHosts', name),
      p.join(h, 'Library', 'Thunderbird', 'NativeMessagingHosts', name),
    ];
  }
  return [];
}

/** Minimal synchronous file system surface, so doctor can be tested against real temp files. */
export interface DoctorDeps {
  readonly platform: Platform;
  readonly env: NodeJS.ProcessEnv;
  readonly run: RunCommand;
  /** Scanner probe (ping, engine info, canaries); injected because the host scanners live elsewhere. */
  readonly probeScanner?: (url: string) => Promise<Check[]>;
  readonly scannerUrl?: string;
  readonly clamdConf?: string;
  /** Where to look for the clamd.conf of a local clamd when --clamd-conf is not given (CLAMD_CONF_CANDIDATES). */
  readonly clamdConfCandidates?: readonly string[];
}

interface FoundManifest {
  readonly path: string;
  readonly system: boolean;
}

function findManifests(d: DoctorDeps, checks: Check[]): FoundManifest[] {
  const found: FoundManifest[] = [];
  for (const system of [false, true]) {
    if (d.platform === 'win32') {
      const key = registryKey(system);
      const r = d.run(['reg.exe', 'query', key, '/ve']);
      const m = /REG_SZ\s+(.+?)\s*$/m.exec(r.stdout);
      if (r.status === 0 && m) found.push({ path: m[1]!, system });
      continue;
    }
    const path = pathFor(d.platform).join(manifestDir(d.platform, d.env, system), `${NATIVE_HOST_NAME}.json`);
    if (existsSync(path)) found.push({ path, system });
  }
  if (found.length === 0) {
    const where = d.platform === 'win32' ? `registry ${registryKey(false)} (or HKLM)` : `${pathFor(d.platform).join(manifestDir(d.platform, d.env, false), `${NATIVE_HOST_NAME}.json`)} or the system location`;
    checks.push({ status: 'fail', what: 'host manifest', fix: `not found in ${where}: run \`unseal host install\`` });
  } else {
    for (const f of found) checks.push({ status: 'ok', what: 'host manifest', fix: `found ${f.path} (${f.system ? 'system' : 'user'})` });
  }
  for (const u of unreadLocations(d.platform, d.env)) {
    if (existsSync(u)) {
      checks.push({
        status: 'warn',
        what: 'stray manifest',
        fix: `${u} is not read by Thunderbird; remove it and use ${pathFor(d.platform).join(manifestDir(d.platform, d.env, false), `${NATIVE_HOST_NAME}.json`)} (unseal host install)`,
      });
    }
  }
  return found;
}

function isExecutable(path: string, platform: Platform): boolean {
  if (platform === 'win32') return true;
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** The node binary a launcher written by install pins (first quoted word after exec). */
export function launcherNode(text: string): { node: string; script: string } | undefined {
  const sh = /^exec\s+"((?:[^"\\]|\\.)*)"\s+"((?:[^"\\]|\\.)*)"/m.exec(text);
  if (sh) return { node: sh[1]!.replace(/\\(.)/g, '$1'), script: sh[2]!.replace(/\\(.)/g, '$1') };
  const cmd = /^"([^"]+)"\s+"([^"]+)"\s+%\*/m.exec(text);
  if (cmd) return { node: cmd[1]!, script: cmd[2]! };
  return undefined;
}

function checkManifest(f: FoundManifest, d: DoctorDeps, checks: Check[]): { launcher?: string } {
  const p = pathFor(d.platform);
  let m: unknown;
  try {
    m = JSON.parse(readFileSync(f.path, 'utf8'));
  } catch (e) {
    checks.push({ status: 'fail', what: `manifest JSON ${f.path}`, fix: `not readable JSON (${(e as Error).message}): run \`unseal host install\` to rewrite it` });
    return {};
  }
  if (!isRecord(m)) {
    checks.push({ status: 'fail', what: `manifest JSON ${f.path}`, fix: 'not a JSON object: run `unseal host install`' });
    return {};
  }
  const problems: string[] = [];
  if (m['name'] !== NATIVE_HOST_NAME) problems.push(`"name" must be "${NATIVE_HOST_NAME}" (is ${JSON.stringify(m['name'])})`);
  if (m['type'] !== 'stdio') problems.push(`"type" must be "stdio"`);
  if (d.platform !== 'win32' && p.basename(f.path) !== `${m['name']}.json`) problems.push(`file name must be ${m['name']}.json`);
  checks.push(
    problems.length === 0
      ? { status: 'ok', what: 'manifest JSON', fix: `${f.path} is valid` }
      : { status: 'fail', what: 'manifest JSON', fix: `${f.path}: ${problems.join('; ')}` },
  );
  const allowed = m['allowed_extensions'];
  checks.push(
    Array.isArray(allowed) && allowed.includes(ADDON_ID)
      ? { status: 'ok', what: 'allowed_extensions', fix: `contains ${ADDON_ID}` }
      : { status: 'fail', what: 'allowed_extensions', fix: `must contain "${ADDON_ID}" (Thunderbird refuses the add-on otherwise): run \`unseal host install\`` },
  );
  const path = m['path'];
  if (typeof path !== 'string' || !p.isAbsolute(path)) {
    checks.push({ status: 'fail', what: 'manifest path', fix: `"path" must be an absolute path to the launcher (is ${JSON.stringify(path)})` });
    return {};
  }
  if (!existsSync(path)) {
    checks.push({ status: 'fail', what: 'launcher', fix: `${path} does not exist: run \`unseal host install\`` });
    return {};
  }
  if (!isExecutable(path, d.platform)) {
    checks.push({ status: 'fail', what: 'launcher', fix: `${path} is not executable: chmod 755 ${path}` });
    return {};
  }
  checks.push({ status: 'ok', what: 'launcher', fix: `${path} exists and is executable` });
  return { launcher: path };
}

function checkLauncher(launcher: string, d: DoctorDeps, checks: Check[]): void {
  const target = launcherNode(readFileSync(launcher, 'utf8'));
  if (!target) {
    checks.push({ status: 'warn', what: 'launcher contents', fix: `${launcher} was not written by unseal host install; cannot check its node and host script` });
    return;
  }
  if (!existsSync(target.script)) {
    checks.push({ status: 'fail', what: 'host script', fix: `${target.script} (named in ${launcher}) does not exist: rebuild (node build.mjs) or re-run \`unseal host install\`` });
  } else checks.push({ status: 'ok', what: 'host script', fix: target.script });
  const r = d.run([target.node, '--version']);
  const m = /^v(\d+)\.(\d+)/.exec(r.stdout.trim());
  if (r.status !== 0 || !m) {
    checks.push({ status: 'fail', what: 'node for the launcher', fix: `${target.node} does not run (${r.stderr.trim() || `exit ${r.status}`}): install Node >= 20 and re-run \`unseal host install\`` });
  } else if (Number(m[1]) < 20) {
    checks.push({ status: 'fail', what: 'node for the launcher', fix: `${target.node} is ${r.stdout.trim()}; Node >= 20 is required: install it and re-run \`unseal host install\` with that node` });
  } else checks.push({ status: 'ok', what: 'node for the launcher', fix: `${target.node} ${r.stdout.trim()}` });
}

function readInstalledConfig(launcher: string | undefined, platform: Platform): Record<string, unknown> | undefined {
  if (!launcher) return undefined;
  const cfg = pathFor(platform).join(pathFor(platform).dirname(launcher), HOST_CONFIG_FILE);
  if (!existsSync(cfg)) return undefined;
  try {
    const j: unknown = JSON.parse(readFileSync(cfg, 'utf8'));
    return isRecord(j) ? j : undefined;
  } catch {
    return undefined;
  }
}

function scannerFromConfig(launcher: string | undefined, platform: Platform): string | undefined {
  const j = readInstalledConfig(launcher, platform);
  return j && typeof j['scanner'] === 'string' ? j['scanner'] : undefined;
}

/**
 * The host-config.json beside the launcher, read exactly as the host reads it at start-up
 * (parseHostConfig): a file the host rejects makes it serve with defaults and no scanner, so every
 * message fails closed — doctor says so instead of checking a scanner the host never uses.
 */
function checkInstalledConfig(launcher: string | undefined, d: DoctorDeps, checks: Check[]): boolean {
  if (!launcher) return true;
  const path = pathFor(d.platform).join(pathFor(d.platform).dirname(launcher), HOST_CONFIG_FILE);
  if (!existsSync(path)) return true;
  try {
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(path, 'utf8'));
    } catch (e) {
      throw new Error(`${path}: not valid JSON (${(e as Error).message})`);
    }
    parseHostConfig(parsed, path, d.env);
  } catch (e) {
    checks.push({
      status: 'fail',
      what: 'host-config',
      fix: `${(e as Error).message}; the host refuses this file and runs with no scanner (every message stays hidden): fix it, or rewrite it with \`unseal host install --scanner URL --force\``,
    });
    return false;
  }
  checks.push({ status: 'ok', what: 'host-config', fix: path });
  return true;
}

/** A host-config.json naming a scanner where install writes it (user, then system), with no manifest left beside it. */
function keptConfig(d: DoctorDeps): { path: string; scanner: string } | undefined {
  const p = pathFor(d.platform);
  for (const system of [false, true]) {
    let dir: string;
    try {
      dir = manifestDir(d.platform, d.env, system);
    } catch {
      continue;
    }
    const path = p.join(dir, HOST_CONFIG_FILE);
    if (!existsSync(path)) continue;
    try {
      const j: unknown = JSON.parse(readFileSync(path, 'utf8'));
      if (isRecord(j) && typeof j['scanner'] === 'string' && j['scanner'] !== '') return { path, scanner: j['scanner'] };
    } catch {
      /* not readable: nothing to report about it here */
    }
  }
  return undefined;
}

/** The passwords file must be the host user's alone; then every key file must load. */
async function checkManagedKeys(launcher: string | undefined, d: DoctorDeps, checks: Check[]): Promise<void> {
  const mk = readInstalledConfig(launcher, d.platform)?.['managedKeys'];
  if (!isRecord(mk) || typeof mk['dir'] !== 'string' || typeof mk['passwords'] !== 'string') return;
  const cfg = { dir: mk['dir'], passwords: mk['passwords'] };
  const problem = permissionProblem(cfg, d.platform);
  if (problem) {
    checks.push({ status: 'fail', what: 'managed keys', fix: `${problem}; the host serves no managed keys until this is fixed` });
    return;
  }
  const list = await new ManagedKeyStore(cfg).list();
  for (const p of list.problems) checks.push({ status: 'warn', what: 'managed keys', fix: p });
  checks.push({
    status: list.keys.length > 0 ? 'ok' : 'warn',
    what: 'managed keys',
    fix: `${list.keys.length} key${list.keys.length === 1 ? '' : 's'} from ${cfg.dir}${list.keys.length ? `: ${list.keys.map((k) => k.label).join(', ')}` : ' (no .p12/.pfx file loaded)'}`,
  });
}

/** Reads clamd.conf the way clamd does: `Key value` lines, `#` comments, last one wins. */
export function readClamdConf(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const m = /^(\S+)\s+(.*)$/.exec(line);
    if (m) out.set(m[1]!.toLowerCase(), m[2]!.trim());
  }
  return out;
}

export function isLocalClamd(url: string): boolean {
  return /^clamd\+unix:/i.test(url) || /^clamd:\/\/(localhost|127\.0\.0\.1|\[::1\])(:|\/|$)/i.test(url);
}

/** Where distributions and Homebrew put clamd's configuration. */
export const CLAMD_CONF_CANDIDATES: readonly string[] = ['/etc/clamav/clamd.conf', '/etc/clamd.d/scan.conf', '/etc/clamd.conf', '/usr/local/etc/clamd.conf', '/opt/homebrew/etc/clamav/clamd.conf'];

/** A path with its symlinks resolved as far as it exists (/var/run → /run), for comparing socket paths. */
function realish(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    try {
      return posix.join(realpathSync(posix.dirname(path)), posix.basename(path));
    } catch {
      return path;
    }
  }
}

const LOOPBACK = new Set(['localhost', '127.0.0.1', '::1']);
const ANY_ADDRESS = new Set(['0.0.0.0', '::']);

/** The socket a clamd scanner URL names, as clamd.conf would spell it. */
function socketOf(target: ScannerTarget): string {
  if (target.kind === 'clamd-unix') return `LocalSocket ${target.path}`;
  if (target.kind === 'clamd-tcp') return `TCPSocket ${target.port} on ${target.host}`;
  return '';
}

/** Whether the clamd that reads this clamd.conf listens where the scanner URL points. */
export function clamdConfServes(conf: Map<string, string>, target: ScannerTarget): boolean {
  if (target.kind === 'clamd-unix') {
    const sock = conf.get('localsocket');
    return sock !== undefined && (sock === target.path || realish(sock) === realish(target.path));
  }
  if (target.kind === 'clamd-tcp') {
    if (conf.get('tcpsocket') !== String(target.port)) return false;
    const addr = conf.get('tcpaddr')?.toLowerCase();
    const host = target.host.toLowerCase();
    // No TCPAddr: clamd listens on every address.
    return addr === undefined || ANY_ADDRESS.has(addr) || addr === host || (LOOPBACK.has(addr) && LOOPBACK.has(host));
  }
  return false;
}

function checkClamdConf(url: string, d: DoctorDeps, checks: Check[]): void {
  if (!isLocalClamd(url)) return;
  let target: ScannerTarget;
  try {
    target = parseScannerUrl(url);
  } catch {
    return; // the scanner URL check reports it
  }
  let path = d.clamdConf;
  let conf: Map<string, string> | undefined;
  if (path !== undefined) {
    if (!existsSync(path)) {
      checks.push({ status: 'warn', what: 'clamd AlertExceedsMax', fix: `clamd.conf not found at ${path}; pass --clamd-conf FILE, and make sure it has "AlertExceedsMax yes"` });
      return;
    }
    conf = readClamdConf(readFileSync(path, 'utf8'));
  } else {
    // Only the clamd.conf of the clamd this scanner talks to says anything about it: another
    // clamd's file (the distribution's, for a private socket) would give a false verdict.
    const seen: string[] = [];
    for (const c of d.clamdConfCandidates ?? CLAMD_CONF_CANDIDATES) {
      let parsed: Map<string, string>;
      try {
        parsed = readClamdConf(readFileSync(c, 'utf8'));
      } catch {
        continue;
      }
      if (clamdConfServes(parsed, target)) {
        path = c;
        conf = parsed;
        break;
      }
      const where = [parsed.get('localsocket') && `LocalSocket ${parsed.get('localsocket')}`, parsed.get('tcpsocket') && `TCPSocket ${parsed.get('tcpsocket')}`].filter(Boolean).join(', ');
      seen.push(`${c} (${where || 'no socket'})`);
    }
    if (!path || !conf) {
      checks.push({
        status: 'warn',
        what: 'clamd AlertExceedsMax',
        fix: `the clamd.conf for ${socketOf(target)} was not found${seen.length ? ` (${seen.join('; ')} ${seen.length === 1 ? 'is' : 'are'} for another clamd)` : ''}: pass --clamd-conf FILE (the file that clamd runs with), and make sure it has "AlertExceedsMax yes"`,
      });
      return;
    }
  }
  const v = conf.get('alertexceedsmax')?.toLowerCase();
  if (v === 'yes' || v === 'true' || v === '1') {
    checks.push({ status: 'ok', what: 'clamd AlertExceedsMax', fix: `${path}: AlertExceedsMax ${conf.get('alertexceedsmax')}` });
  } else {
    checks.push({
      status: 'fail',
      what: 'clamd AlertExceedsMax',
      fix: `${path}: add "AlertExceedsMax yes" and restart clamd — without it content over MaxFileSize/MaxScanSize is reported clean after a partial scan${d.clamdConf ? '' : ' (if your clamd runs with another config file, pass --clamd-conf FILE)'}`,
    });
  }
}

export async function runDoctor(d: DoctorDeps): Promise<Check[]> {
  const checks: Check[] = [];
  const found = findManifests(d, checks);
  let launcher: string | undefined;
  for (const f of found) {
    const r = checkManifest(f, d, checks);
    if (r.launcher) {
      launcher ??= r.launcher;
      checkLauncher(r.launcher, d, checks);
    }
  }
  // Uninstall keeps host-config.json: with no registration, the config it left is still the one a
  // re-install merges into (and the host would use), so say what it names rather than "none".
  const kept = found.length === 0 ? keptConfig(d) : undefined;
  if (kept) {
    checks.push({ status: 'warn', what: 'scanner', fix: `the host is not registered (run \`unseal host install\`); the kept ${kept.path} names scanner ${redact(kept.scanner)}` });
  }
  const configOk = checkInstalledConfig(launcher, d, checks);
  const url = d.scannerUrl ?? (configOk ? scannerFromConfig(launcher, d.platform) : undefined) ?? kept?.scanner ?? d.env['UNSEAL_SCANNER'];
  if (!configOk && !d.scannerUrl) {
    // Nothing more to check about a scanner the host will not use.
  } else if (!url) {
    checks.push({ status: 'fail', what: 'scanner', fix: 'no scanner configured: run `unseal host install --scanner URL` (e.g. clamd+unix:///run/clamav/clamd.ctl)' });
  } else {
    if (d.probeScanner) checks.push(...(await d.probeScanner(url)));
    checkClamdConf(url, d, checks);
  }
  await checkManagedKeys(launcher, d, checks);
  return checks;
}
