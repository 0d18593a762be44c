import { UnsealError } from '../../core/errors.js';
import { ClamdScanner } from './clamd.js';
import { CommandScanner } from './command.js';
import type { IcapProfile } from './icap-parse.js';
import { IcapScanner, type IcapTarget, type IcapTlsOptions } from './icap.js';
import type { Scanner } from './types.js';

export const CLAMD_DEFAULT_PORT = 3310;
export const ICAP_DEFAULT_PORT = 1344;
/** No IANA port for ICAP over TLS; 11344 is what Squid, c-icap and most vendors document. */
export const ICAPS_DEFAULT_PORT = 11344;

export type ScannerTarget =
  | { kind: 'clamd-unix'; path: string; url: string }
  | { kind: 'clamd-tcp'; host: string; port: number; url: string }
  | { kind: 'icap'; target: IcapTarget }
  | { kind: 'command'; argv: string[] };

const USAGE =
  'expected clamd+unix:///path/to/clamd.ctl, clamd://host:port, icap://host[:port]/service, icaps://host[:port]/service or command:<argv>';

function bad(url: string, why: string): never {
  throw new UnsealError('usage', `invalid scanner URL ${JSON.stringify(redact(url))}: ${why}; ${USAGE}`);
}

/** The URL as it may appear in logs and reports: never with a password. */
export function redact(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/@]*@/i, '$1');
}

/**
 * Splits "shell-free words": whitespace separates, nothing is expanded. Quotes are refused rather
 * than half-interpreted; an argument with spaces needs the JSON array form.
 */
export function parseCommand(spec: string): string[] {
  const s = spec.trim();
  if (s.startsWith('[')) {
    let argv: unknown;
    try {
      argv = JSON.parse(s);
    } catch (e) {
      bad(`command:${spec}`, `not a JSON array (${e instanceof Error ? e.message : String(e)})`);
    }
    if (!Array.isArray(argv) || argv.length === 0 || !argv.every((a) => typeof a === 'string') || argv[0] === '') {
      bad(`command:${spec}`, 'the JSON form must be a non-empty array of strings');
    }
    return argv as string[];
  }
  if (/["'\\]/.test(s)) bad(`command:${spec}`, 'quotes and backslashes are not interpreted; use the JSON array form');
  const argv = s.split(/\s+/).filter(Boolean);
  if (argv.length === 0) bad(`command:${spec}`, 'empty command');
  return argv;
}

function parsePort(u: URL, url: string, dflt: number): number {
  if (u.port === '') return dflt;
  const p = Number(u.port);
  if (!Number.isInteger(p) || p < 1 || p > 65535) bad(url, `bad port ${u.port}`);
  return p;
}

function hostOf(u: URL): string {
  // URL keeps IPv6 literals bracketed; sockets want them bare.
  return u.hostname.replace(/^\[(.*)\]$/, '$1');
}

export function parseScannerUrl(url: string, command?: string[]): ScannerTarget {
  if (typeof url !== 'string' || url.trim() === '') bad(String(url), 'empty');
  const trimmed = url.trim();
  if (/^command:/i.test(trimmed)) {
    const rest = trimmed.slice('command:'.length);
    if (rest.trim() === '') {
      if (command && command.length > 0 && command[0]) return { kind: 'command', argv: [...command] };
      bad(url, 'command: needs the scanner command after the colon, e.g. command:clamdscan --stream --no-summary -');
    }
    return { kind: 'command', argv: parseCommand(rest) };
  }
  let u: URL;
  try {
    u = new URL(trimmed);
  } catch {
    bad(url, 'not a URL');
  }
  const scheme = u.protocol.replace(/:$/, '').toLowerCase();
  switch (scheme) {
    case 'clamd+unix':
    case 'unix': {
      if (u.host !== '') bad(url, 'a unix socket URL has no host: use three slashes (clamd+unix:///run/clamav/clamd.ctl)');
      const path = decodeURIComponent(u.pathname);
      if (!path.startsWith('/') || path === '/') bad(url, 'needs an absolute socket path');
      if (u.search || u.hash) bad(url, 'no query or fragment allowed');
      return { kind: 'clamd-unix', path, url: `clamd+unix://${path}` };
    }
    case 'clamd':
    case 'clamd+tcp': {
      if (!u.hostname) bad(url, 'needs a host');
      if (u.pathname !== '' && u.pathname !== '/') bad(url, 'clamd over TCP takes no path (a unix socket is clamd+unix:///path)');
      const host = hostOf(u);
      const port = parsePort(u, url, CLAMD_DEFAULT_PORT);
      return { kind: 'clamd-tcp', host, port, url: `clamd://${u.hostname}:${port}` };
    }
    case 'icap':
    case 'icaps': {
      if (!u.hostname) bad(url, 'needs a host');
      const service = u.pathname.replace(/^\/+/, '');
      if (service === '') bad(url, 'needs a service name (e.g. icap://host:1344/avscan)');
      if (u.hash) bad(url, 'no fragment allowed');
      const secure = scheme === 'icaps';
      const port = parsePort(u, url, secure ? ICAPS_DEFAULT_PORT : ICAP_DEFAULT_PORT);
      const credentials =
        u.username || u.password ? `${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}` : undefined;
      return {
        kind: 'icap',
        target: {
          uri: `${scheme}://${u.hostname}:${port}/${service}${u.search}`,
          host: hostOf(u),
          port,
          secure,
          ...(credentials ? { credentials } : {}),
        },
      };
    }
    default:
      bad(url, `unknown scheme ${scheme}:`);
  }
}

export interface CreateScannerOptions {
  timeoutMs?: number;
  /** argv for `command:` when not given in the URL. */
  command?: string[];
  /** icaps:// certificate options (default: system CAs + NODE_EXTRA_CA_CERTS, verification on). */
  tls?: IcapTlsOptions;
  /** ICAP verdict header names; the default knows c-icap, squidclamav, Symantec, OPSWAT, Kaspersky, McAfee, Trend. */
  icapProfile?: IcapProfile;
}

export function createScanner(url: string, opts: CreateScannerOptions = {}): Scanner {
  if (opts.timeoutMs !== undefined && !(opts.timeoutMs > 0)) {
    throw new UnsealError('usage', `scanner timeout must be a positive number of milliseconds, not ${opts.timeoutMs}`);
  }
  const t = parseScannerUrl(url, opts.command);
  const timeout = opts.timeoutMs === undefined ? {} : { timeoutMs: opts.timeoutMs };
  switch (t.kind) {
    case 'clamd-unix':
      return new ClamdScanner(t.url, { type: 'unix', path: t.path }, timeout);
    case 'clamd-tcp':
      return new ClamdScanner(t.url, { type: 'tcp', host: t.host, port: t.port }, timeout);
    case 'icap':
      return new IcapScanner(t.target, {
        ...timeout,
        ...(opts.tls ? { tls: opts.tls } : {}),
        ...(opts.icapProfile ? { profile: opts.icapProfile } : {}),
      });
    case 'command':
      return new CommandScanner(t.argv, timeout);
  }
}
