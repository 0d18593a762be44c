/**
 * Host configuration: `host-config.json` next to the launcher (written by `unseal host install`),
 * overridden by environment variables. Thunderbird starts the host with argv
 * `[manifest path, extension id]` and cwd = the manifest's directory, which is where install puts
 * the launcher and the config, so both are looked for there.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import { UnsealError } from '../core/errors.js';
import { isRecord } from '../protocol/validate.js';
import { DEFAULT_MAX_INBOUND_FRAME } from './framing.js';
import { defaultAuditPath } from './audit.js';
import type { ManagedKeysConfig } from './managed-keys.js';

export const HOST_CONFIG_FILE = 'host-config.json';
/** The longest delay a Node timer keeps. */
const MAX_TIMER_MS = 2_147_483_647;

export interface HostLimits {
  /** Largest plaintext accepted by scan.begin (ClamAV's StreamMaxLength default is 100M). */
  readonly maxScanBytes: number;
  readonly maxConcurrentScans: number;
  /** From scan.begin to the verdict, scanning included. */
  readonly scanTimeoutMs: number;
  /** Longest wait for the next chunk (or scan.end) before the scan is dropped as timed out. */
  readonly idleTimeoutMs: number;
  /** Per scanner call. */
  readonly scannerTimeoutMs: number;
  readonly maxFrameBytes: number;
  /** How long a canary check result is trusted before the guard runs it again. */
  readonly canaryTtlMs: number;
}

export interface HostConfig {
  readonly scanner: string | null;
  /** null: no local audit file. */
  readonly auditLog: string | null;
  readonly syslog: boolean;
  readonly limits: HostLimits;
  /** The organisation's keys this host serves (docs/keys.md, managed keys); null: none. */
  readonly managedKeys: ManagedKeysConfig | null;
  /** Where the settings came from, for the stderr start-up line and for doctor. */
  readonly source: string;
}

export const DEFAULT_LIMITS: HostLimits = {
  maxScanBytes: 100 * 1024 * 1024,
  maxConcurrentScans: 8,
  scanTimeoutMs: 180_000,
  idleTimeoutMs: 30_000,
  scannerTimeoutMs: 120_000,
  maxFrameBytes: DEFAULT_MAX_INBOUND_FRAME,
  canaryTtlMs: 15 * 60_000,
};

const LIMIT_KEYS = Object.keys(DEFAULT_LIMITS) as (keyof HostLimits)[];

/** Validates a parsed host-config.json; errors name the field and the file. */
export function parseHostConfig(u: unknown, where: string, env: NodeJS.ProcessEnv): Omit<HostConfig, 'source'> {
  if (!isRecord(u)) throw new UnsealError('usage', `${where}: must be a JSON object`);
  for (const k of Object.keys(u)) {
    if (!['scanner', 'auditLog', 'syslog', 'limits', 'managedKeys'].includes(k)) throw new UnsealError('usage', `${where}: unknown field '${k}'`);
  }
  const scanner = u['scanner'];
  if (scanner !== undefined && scanner !== null && (typeof scanner !== 'string' || scanner.length === 0)) {
    throw new UnsealError('usage', `${where}: scanner must be a URL string such as clamd+unix:///run/clamav/clamd.ctl`);
  }
  const audit = u['auditLog'];
  if (audit !== undefined && audit !== false && (typeof audit !== 'string' || !isAbsolute(audit))) {
    throw new UnsealError('usage', `${where}: auditLog must be an absolute path, or false for none`);
  }
  const syslog = u['syslog'];
  if (syslog !== undefined && typeof syslog !== 'boolean') throw new UnsealError('usage', `${where}: syslog must be true or false`);
  const limits: Record<string, number> = { ...DEFAULT_LIMITS };
  if (u['limits'] !== undefined) {
    const l = u['limits'];
    if (!isRecord(l)) throw new UnsealError('usage', `${where}: limits must be an object`);
    for (const [k, v] of Object.entries(l)) {
      if (!(LIMIT_KEYS as string[]).includes(k)) throw new UnsealError('usage', `${where}: unknown limit '${k}' (known: ${LIMIT_KEYS.join(', ')})`);
      if (typeof v !== 'number' || !Number.isSafeInteger(v) || v <= 0) throw new UnsealError('usage', `${where}: limits.${k} must be a positive integer`);
      // Node timers take at most 2^31−1 ms; a larger one fires after 1 ms (every scan would time out).
      if (k.endsWith('Ms') && v > MAX_TIMER_MS) throw new UnsealError('usage', `${where}: limits.${k} must be at most ${MAX_TIMER_MS} (about 24.8 days)`);
      limits[k] = v;
    }
  }
  let managedKeys: ManagedKeysConfig | null = null;
  const mk = u['managedKeys'];
  if (mk !== undefined && mk !== null) {
    if (!isRecord(mk)) throw new UnsealError('usage', `${where}: managedKeys must be an object {"dir": "/abs/dir", "passwords": "/abs/file.json"}`);
    for (const k of Object.keys(mk)) if (k !== 'dir' && k !== 'passwords') throw new UnsealError('usage', `${where}: unknown field 'managedKeys.${k}'`);
    const dir = mk['dir'];
    const passwords = mk['passwords'];
    if (typeof dir !== 'string' || !isAbsolute(dir)) throw new UnsealError('usage', `${where}: managedKeys.dir must be an absolute path`);
    if (typeof passwords !== 'string' || !isAbsolute(passwords)) throw new UnsealError('usage', `${where}: managedKeys.passwords must be an absolute path`);
    managedKeys = { dir, passwords };
  }
  return {
    scanner: typeof scanner === 'string' ? scanner : null,
    managedKeys,
    auditLog: audit === false ? null : typeof audit === 'string' ? audit : defaultAuditPath(env),
    syslog: syslog === true,
    limits: limits as unknown as HostLimits,
  };
}

/** Where to look for host-config.json, in order. */
export function configCandidates(argv: readonly string[], env: NodeJS.ProcessEnv, cwd: string): string[] {
  if (env['UNSEAL_HOST_CONFIG']) return [env['UNSEAL_HOST_CONFIG']];
  const out: string[] = [];
  const manifest = argv[0];
  if (manifest && isAbsolute(manifest) && manifest.endsWith('.json')) out.push(join(dirname(manifest), HOST_CONFIG_FILE));
  out.push(join(cwd, HOST_CONFIG_FILE));
  return [...new Set(out)];
}

export function loadHostConfig(argv: readonly string[], env: NodeJS.ProcessEnv, cwd: string): HostConfig {
  let base: Omit<HostConfig, 'source'> = parseHostConfig({}, 'defaults', env);
  let source = 'defaults';
  for (const path of configCandidates(argv, env, cwd)) {
    if (!existsSync(path)) {
      if (env['UNSEAL_HOST_CONFIG']) throw new UnsealError('io', `UNSEAL_HOST_CONFIG points at ${path}, which does not exist`);
      continue;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(path, 'utf8'));
    } catch (e) {
      throw new UnsealError('usage', `${path}: not valid JSON: ${(e as Error).message}`);
    }
    base = parseHostConfig(parsed, path, env);
    source = path;
    break;
  }
  const limits = { ...base.limits };
  const scanner = env['UNSEAL_SCANNER'] || base.scanner;
  const auditEnv = env['UNSEAL_AUDIT_LOG'];
  const auditLog = auditEnv === undefined ? base.auditLog : auditEnv === '' || auditEnv === 'off' ? null : auditEnv;
  if (env['UNSEAL_SCANNER']) source += ' + UNSEAL_SCANNER';
  return { scanner: scanner || null, auditLog, syslog: base.syslog, limits, managedKeys: base.managedKeys, source };
}
