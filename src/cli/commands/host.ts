/**
 * `unseal host install | uninstall | doctor`: register the native-messaging host with Thunderbird
 * and diagnose the registration ("No such native application" is the usual support call).
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UnsealError } from '../../core/errors.js';
import {
  applyInstall,
  applyUninstall,
  describeInstall,
  describeUninstall,
  formatCheck,
  planConfigWrite,
  planInstall,
  runCommand,
  runDoctor,
  type Platform,
} from '../../host/install.js';
import { probeScanner } from '../../host/probe.js';
import { one, parseArgs } from '../args.js';
import type { CliIo } from '../io.js';

const HELP = `usage: unseal host install [--scanner URL] [--managed-keys DIR --managed-passwords FILE] [--system] [--dry-run] [--force]
       unseal host uninstall [--system] [--dry-run]
       unseal host doctor [--scanner URL] [--clamd-conf FILE] [--no-scan]

install    writes the manifest unseal_host.json, a launcher pinning this node, and host-config.json
           (with --scanner) where Thunderbird looks: ~/.mozilla/native-messaging-hosts (Linux),
           ~/Library/Mozilla/NativeMessagingHosts (macOS), %LOCALAPPDATA%\\Unseal + HKCU registry
           (Windows); --system for all users (/usr/lib/mozilla/..., /Library/Application Support/...,
           %ProgramData% + HKLM). --managed-keys DIR --managed-passwords FILE: the host serves the
           organisation's .p12/.pfx keys in DIR (passwords: a JSON object {"file.p12": "password"}
           in FILE, mode 600, owned by the user the host runs as); private keys never leave the host.
           An existing host-config.json keeps its other settings (auditLog, limits, ...): the new
           ones are merged in. One that is not valid JSON or not a valid config is not overwritten
           (exit 2, naming the file and the problem) unless --force, which replaces it.
           --dry-run prints every file exactly as it would be written, and writes nothing.
uninstall  removes the manifest, the launcher and the registry value (keeps host-config.json).
doctor     checks the registration, node, the scanner and its canaries; prints ok|warn|fail lines
           on stdout; exits 0 when nothing failed, else 1 (with 'N checks failed' on stderr).`;

function currentPlatform(): Platform {
  if (process.platform === 'darwin' || process.platform === 'win32') return process.platform;
  return 'linux';
}

/** The host bundle sits next to the CLI bundle in dist/; from the sources, in dist/ at the root. */
export function findHostScript(env: NodeJS.ProcessEnv): string {
  if (env['UNSEAL_HOST_SCRIPT']) return env['UNSEAL_HOST_SCRIPT'];
  const candidates = [new URL('../host/unseal-host.mjs', import.meta.url), new URL('../../../dist/host/unseal-host.mjs', import.meta.url)].map((u) => fileURLToPath(u));
  return candidates.find((c) => existsSync(c)) ?? candidates[0]!;
}

export async function run(argv: string[], io: CliIo): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === '--help' || sub === 'help') {
    io.out(`${HELP}\n`);
    return 0;
  }
  // No subcommand is a usage error: the usage goes to stderr, like bare `unseal`'s.
  if (!sub) {
    io.err(HELP);
    return 2;
  }
  const args = parseArgs(rest, { scanner: { value: true }, 'managed-keys': { value: true }, 'managed-passwords': { value: true }, system: {}, 'dry-run': {}, 'clamd-conf': { value: true }, 'no-scan': {}, force: {}, help: {} });
  if (args.flags.has('help')) {
    io.out(`${HELP}\n`);
    return 0;
  }
  if (args.positionals.length > 0) throw new UnsealError('usage', `unexpected argument ${args.positionals[0]}`);
  const platform = currentPlatform();
  const system = args.flags.has('system');
  const dry = args.flags.has('dry-run');
  const scanner = one(args, 'scanner');
  const mkDir = one(args, 'managed-keys');
  const mkPasswords = one(args, 'managed-passwords');
  if ((mkDir === undefined) !== (mkPasswords === undefined)) throw new UnsealError('usage', '--managed-keys DIR and --managed-passwords FILE go together');
  if (mkDir !== undefined && sub !== 'install') throw new UnsealError('usage', '--managed-keys is an option of install');
  if (args.flags.has('force') && sub !== 'install') throw new UnsealError('usage', '--force is an option of install');
  const managedKeys = mkDir !== undefined && mkPasswords !== undefined ? { dir: resolve(mkDir), passwords: resolve(mkPasswords) } : undefined;
  switch (sub) {
    case 'install':
    case 'uninstall': {
      const hostScript = findHostScript(io.env);
      const plan = planInstall({ platform, env: io.env, system, nodePath: process.execPath, hostScript, ...(scanner !== undefined ? { scanner } : {}), ...(managedKeys ? { managedKeys } : {}) });
      if (sub === 'install') {
        if (!dry && !existsSync(hostScript)) throw new UnsealError('io', `host script ${hostScript} not found: build it first (node build.mjs)`);
        // Read (and judged) before anything is written: a refusal leaves everything as it was.
        const config = planConfigWrite(plan, { force: args.flags.has('force'), env: io.env });
        const steps = describeInstall(plan, config);
        if (dry) {
          io.out(`dry run; would:\n${steps.map((s) => `  ${s.replace(/\n/g, '\n    ')}`).join('\n')}\n`);
          return 0;
        }
        try {
          await applyInstall(plan, undefined, config);
        } catch (e) {
          throw new UnsealError('io', `install failed: ${(e as Error).message}${system ? ' (--system needs administrator rights)' : ''}`);
        }
        io.out(
          `installed ${plan.manifestPath}\nlauncher ${plan.launcherPath}\n` +
            (config?.how === 'replaced' ? `replaced ${config.path} (--force; it was invalid: ${config.problem})\n` : '') +
            (plan.config?.scanner ? `scanner ${plan.config.scanner} (in ${plan.configPath})\n` : '') +
            (plan.config?.managedKeys ? `managed keys ${plan.config.managedKeys.dir} (in ${plan.configPath})\n` : '') +
            'next: unseal host doctor\n',
        );
        return 0;
      }
      if (dry) {
        io.out(`dry run; would:\n${describeUninstall(plan).map((s) => `  ${s}`).join('\n')}\n`);
        return 0;
      }
      const removed = await applyUninstall(plan);
      io.out(removed.length ? `removed:\n${removed.map((r) => `  ${r}`).join('\n')}\n` : 'nothing to remove\n');
      return 0;
    }
    case 'doctor': {
      const checks = await runDoctor({
        platform,
        env: io.env,
        run: runCommand,
        ...(args.flags.has('no-scan') ? {} : { probeScanner: (url: string) => probeScanner(url) }),
        ...(scanner ? { scannerUrl: scanner } : {}),
        ...(one(args, 'clamd-conf') ? { clamdConf: one(args, 'clamd-conf')! } : {}),
      });
      // The report is the output, also (above all) when something failed: stdout, exit 1, and
      // one summary line on stderr.
      io.reportOnAnyExit();
      for (const c of checks) io.out(`${formatCheck(c)}\n`);
      const failed = checks.filter((c) => c.status === 'fail').length;
      if (failed > 0) {
        io.err(`unseal: host doctor: ${failed} check${failed === 1 ? '' : 's'} failed`);
        return 1;
      }
      return 0;
    }
    default:
      throw new UnsealError('usage', `unknown host subcommand '${sub}' (install, uninstall, doctor)`);
  }
}
