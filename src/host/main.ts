/**
 * The native-messaging host Thunderbird starts (`unseal_host`). stdout carries frames only; every
 * diagnostic goes to stderr, which Thunderbird shows in its error console.
 */
import { UnsealError } from '../core/errors.js';
import { createAuditLog } from './audit.js';
import { loadHostConfig, type HostConfig } from './config.js';
import { FrameWriter } from './framing.js';
import { ManagedKeyStore } from './managed-keys.js';
import { buildScanners } from './scanner-bundle.js';
import { HostSession, serveStream, type ScannerBundle } from './server.js';
import { HOST_VERSION } from './version.js';

const log = (line: string) => process.stderr.write(`unseal-host: ${line}\n`);

export async function runHost(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  let config: HostConfig;
  let scanners: ScannerBundle | null;
  try {
    config = loadHostConfig(argv, env, process.cwd());
    scanners = buildScanners(config);
  } catch (e) {
    // Still serve: the add-on then gets `misconfigured` verdicts and a health problem it can show,
    // instead of "native application exited" with no reason.
    log(`configuration error: ${e instanceof UnsealError ? e.message : String(e)}`);
    config = { ...loadHostConfigDefaults(env), source: 'defaults (config unreadable)' };
    scanners = null;
  }
  log(`v${HOST_VERSION} started (config: ${config.source}; scanner: ${scanners?.displayUrl ?? 'none'}; audit: ${config.auditLog ?? 'off'}; managed keys: ${config.managedKeys?.dir ?? 'none'})`);
  const writer = new FrameWriter(process.stdout, { log });
  const audit = config.auditLog || config.syslog ? createAuditLog({ path: config.auditLog, syslog: config.syslog, log }) : null;
  const managedKeys = config.managedKeys ? new ManagedKeyStore(config.managedKeys, log) : null;
  const session = new HostSession({ scanners, limits: config.limits, audit, managedKeys, hostVersion: HOST_VERSION, send: (r) => writer.send(r), log });
  const stop = () => process.stdin.destroy();
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  try {
    await serveStream(process.stdin, writer, session, { maxFrameBytes: config.limits.maxFrameBytes, log });
  } finally {
    await scanners?.scanner.close().catch(() => {});
  }
  log('input closed; exiting');
  return 0;
}

function loadHostConfigDefaults(env: NodeJS.ProcessEnv): Omit<HostConfig, 'source'> {
  return loadHostConfig([], { ...env, UNSEAL_HOST_CONFIG: '', UNSEAL_SCANNER: '' }, '/nonexistent');
}

runHost(process.argv.slice(2), process.env).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    log(`fatal: ${(e as Error).stack ?? String(e)}`);
    process.exitCode = 1;
  },
);
