/**
 * Audit trail: who decrypted what with which key and what the scanner said. Facts only — every
 * event passes the protocol's allow-list guard, so plaintext and key material cannot reach the log
 * even if a caller tries. One JSON object per line in a 0600 file; optionally a copy to syslog.
 */
import { spawn } from 'node:child_process';
import { mkdir, open } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { guardAuditRecord, isProtocolError, parseAuditEvent, type AuditEvent } from '../protocol/native.js';
import { GuardError } from '../protocol/validate.js';

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

export interface AuditPage {
  readonly events: AuditRecord[];
  /** Byte offset of the first line not returned; null when the end of the log was reached. */
  readonly next: number | null;
}

/**
 * A page of the audit log for `audit.read`: lines from byte offset `cursor` on, oldest first, at
 * most `limit` events and at most `maxBytes` of their JSON. Lines that are not a valid record
 * (a torn last line, hand edits) are skipped; every record is re-checked by the event guard, so a
 * tampered log cannot push content to the add-on either.
 */
export async function readAuditLog(path: string | null, opts: { since?: string; cursor?: number; limit: number; maxBytes: number }): Promise<AuditPage> {
  if (!path) return { events: [], next: null };
  let fh;
  try {
    fh = await open(path, 'r');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { events: [], next: null };
    throw e;
  }
  const sinceMs = opts.since ? Date.parse(opts.since) : undefined;
  const events: AuditRecord[] = [];
  let bytes = 2;
  try {
    const size = (await fh.stat()).size;
    let pos = Math.min(opts.cursor ?? 0, size);
    let carry = Buffer.alloc(0);
    const chunk = Buffer.alloc(64 * 1024);
    while (pos < size || carry.length > 0) {
      const { bytesRead } = pos < size ? await fh.read(chunk, 0, Math.min(chunk.length, size - pos), pos) : { bytesRead: 0 };
      const buf = bytesRead > 0 ? Buffer.concat([carry, chunk.subarray(0, bytesRead)]) : carry;
      const lineStartBase = pos - carry.length;
      pos += bytesRead;
      let start = 0;
      for (;;) {
        const nl = buf.indexOf(10, start);
        if (nl === -1) break;
        const lineOffset = lineStartBase + start;
        const rec = parseRecord(buf.subarray(start, nl).toString('utf8'));
        start = nl + 1;
        if (!rec || (sinceMs !== undefined && !(Date.parse(rec.time) >= sinceMs))) continue;
        const len = JSON.stringify(rec).length + 1;
        if (events.length >= opts.limit || bytes + len > opts.maxBytes) return { events, next: lineOffset };
        events.push(rec);
        bytes += len;
      }
      carry = Buffer.from(buf.subarray(start));
      // A last line without its newline is still being written (or torn): leave it for next time.
      if (bytesRead === 0) break;
    }
    return { events, next: null };
  } finally {
    await fh.close();
  }
}

function parseRecord(line: string): AuditRecord | undefined {
  if (!line.trim()) return undefined;
  let u: unknown;
  try {
    u = JSON.parse(line);
  } catch {
    return undefined;
  }
  try {
    return guardAuditRecord(u);
  } catch (e) {
    if (e instanceof GuardError) return undefined;
    throw e;
  }
}
