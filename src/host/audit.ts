/**
 * Audit trail: who decrypted what with which key and what the scanner said. Facts only — every
 * event passes the protocol's allow-list guard, so plaintext and key material cannot reach the log
 * even if a caller tries. One JSON object per line in a 0600 file; optionally a copy to syslog.
 */
import { spawn } from 'node:child_process';
import { mkdir, open } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { isProtocolError, parseAuditEvent, type AuditEvent } from '../protocol/native.js';

export interface AuditRecord extends AuditEvent {
  readonly time: string;
  /** `addon` for events the add-on sent, `host` for verdicts the host itself produced. */
  readonly source: 'addon' | 'host';
}

export interface AuditLog {
  /** Validates, then appends; rejects (with a reason) events that carry anything not allowed. */
  record(event: unknown, source: 'addon' | 'host'): Promise<AuditRecord>;
  readonly path: string | null;
}

export function defaultAuditPath(env: NodeJS.ProcessEnv = process.env): string {
  const state = env['XDG_STATE_HOME'] || join(env['HOME'] || homedir(), '.local', 'state');
  return join(state, 'unseal', 'audit.jsonl');
}

export class AuditRejected extends Error {
  override readonly name = 'AuditRejected';
}

export function createAuditLog(opts: {
  path: string | null;
  syslog?: boolean;
  log?: (line: string) => void;
  /** Tests point this at a fake `logger`; the default is the util-linux one. */
  loggerCommand?: string;
  now?: () => Date;
}): AuditLog {
  let chain: Promise<void> = Promise.resolve();
  const log = opts.log ?? (() => {});
  return {
    path: opts.path,
    async record(u, source) {
      const ev = parseAuditEvent(u);
      if (isProtocolError(ev)) throw new AuditRejected(ev.message);
      const rec: AuditRecord = { time: (opts.now ?? (() => new Date()))().toISOString(), source, ...ev };
      const line = `${JSON.stringify(rec)}\n`;
      // Appends are serialised so concurrent scans cannot interleave half-lines.
      const write = chain.then(() => (opts.path ? appendLine(opts.path, line) : undefined));
      chain = write.catch(() => {});
      await write;
      if (opts.syslog) toSyslog(line.trimEnd(), opts.loggerCommand ?? 'logger', log);
      return rec;
    },
  };
}

async function appendLine(path: string, line: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const fh = await open(path, 'a', 0o600);
  try {
    // The mode given to open() only applies when the file is created (and is masked by umask).
    await fh.chmod(0o600);
    await fh.appendFile(line, 'utf8');
  } finally {
    await fh.close();
  }
}

/**
 * `logger` rather than a datagram to /dev/log: it knows the local syslog flavour (journald or a
 * classic socket), and a missing or failing logger only costs a stderr line, never the event.
 */
function toSyslog(line: string, command: string, log: (line: string) => void): void {
  try {
    const child = spawn(command, ['-t', 'unseal', '-p', 'authpriv.info', '--', line], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', (e) => log(`audit: syslog via ${command} failed: ${e.message}`));
    child.on('close', (code) => {
      if (code !== 0) log(`audit: ${command} exited ${code}: ${err.trim()}`);
    });
  } catch (e) {
    log(`audit: syslog via ${command} failed: ${(e as Error).message}`);
  }
}
