/**
 * ICAP (RFC 3507) message parsing and the vendor verdict profiles. Kept apart from the socket code
 * so every vendor's answer shape can be unit-tested from bytes.
 */
import type { UnscannedReason } from '../../protocol/scan.js';

export interface HeaderField {
  name: string;
  /** Unfolded value (continuation lines joined with one space). */
  value: string;
  /** The first line and each continuation line, trimmed: X-Violations-Found is line-structured. */
  lines: string[];
}

export class Headers {
  constructor(readonly fields: HeaderField[]) {}
  get(name: string): string | undefined {
    const n = name.toLowerCase();
    return this.fields.find((f) => f.name.toLowerCase() === n)?.value;
  }
  all(name: string): HeaderField[] {
    const n = name.toLowerCase();
    return this.fields.filter((f) => f.name.toLowerCase() === n);
  }
  has(name: string): boolean {
    return this.get(name) !== undefined;
  }
}

export class IcapParseError extends Error {}

/** Parses header lines (after the start line), honouring obsolete line folding (SP/HTAB continuation). */
export function parseHeaderLines(lines: string[]): Headers {
  const fields: HeaderField[] = [];
  for (const line of lines) {
    if (line === '') continue;
    if (/^[ \t]/.test(line)) {
      const last = fields[fields.length - 1];
      if (!last) throw new IcapParseError(`header continuation without a header: ${JSON.stringify(line.slice(0, 80))}`);
      const cont = line.trim();
      last.lines.push(cont);
      last.value = last.value === '' ? cont : `${last.value} ${cont}`;
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0 || !/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(line.slice(0, colon))) {
      throw new IcapParseError(`malformed header line: ${JSON.stringify(line.slice(0, 80))}`);
    }
    const value = line.slice(colon + 1).trim();
    fields.push({ name: line.slice(0, colon), value, lines: [value] });
  }
  return new Headers(fields);
}

export interface StatusLine {
  version: string;
  code: number;
  reason: string;
}

export function parseIcapStatusLine(line: string): StatusLine {
  const m = /^ICAP\/(\d\.\d) (\d{3})(?: (.*))?$/.exec(line);
  if (!m) throw new IcapParseError(`not an ICAP status line: ${JSON.stringify(line.slice(0, 80))}`);
  return { version: m[1]!, code: Number(m[2]), reason: m[3] ?? '' };
}

export function parseHttpStatusLine(line: string): StatusLine | undefined {
  const m = /^HTTP\/(\d(?:\.\d)?) (\d{3})(?: (.*))?$/.exec(line);
  return m ? { version: m[1]!, code: Number(m[2]), reason: m[3] ?? '' } : undefined;
}

/** A header block as text → start line + headers. Accepts CRLF and bare LF. */
export function splitHeaderBlock(text: string): { start: string; headers: Headers } {
  const lines = text.split(/\r?\n/);
  const start = lines.shift() ?? '';
  return { start, headers: parseHeaderLines(lines) };
}

export interface Encapsulated {
  sections: { name: string; offset: number }[];
  /** Section that carries the body (`res-body`, `req-body`, `opt-body`) or undefined for `null-body`. */
  body?: string;
  /** Offset where the body (or null-body) starts = total length of the encapsulated headers. */
  bodyOffset: number;
}

export function parseEncapsulated(value: string | undefined): Encapsulated {
  if (value === undefined) throw new IcapParseError('response without an Encapsulated header');
  const sections: { name: string; offset: number }[] = [];
  for (const part of value.split(',')) {
    const m = /^\s*(req-hdr|res-hdr|req-body|res-body|null-body|opt-body)=(\d+)\s*$/.exec(part);
    if (!m) throw new IcapParseError(`malformed Encapsulated header: ${JSON.stringify(value)}`);
    sections.push({ name: m[1]!, offset: Number(m[2]) });
  }
  for (let i = 1; i < sections.length; i++) {
    if (sections[i]!.offset < sections[i - 1]!.offset) throw new IcapParseError(`Encapsulated offsets out of order: ${value}`);
  }
  const last = sections[sections.length - 1];
  if (!last) throw new IcapParseError('empty Encapsulated header');
  const body = last.name.endsWith('-body') && last.name !== 'null-body' ? last.name : undefined;
  if (!last.name.endsWith('-body')) throw new IcapParseError(`Encapsulated must end with a body section: ${value}`);
  return { sections, body, bodyOffset: last.offset };
}

export interface IcapOptionsInfo {
  istag?: string;
  service?: string;
  methods: string[];
  preview?: number;
  allow204: boolean;
  maxConnections?: number;
  ttlSeconds?: number;
  transferPreview?: string;
}

export function parseOptionsResponse(h: Headers): IcapOptionsInfo {
  const num = (s: string | undefined) => {
    if (s === undefined) return undefined;
    const n = Number.parseInt(s, 10);
    return Number.isFinite(n) && n >= 0 ? n : undefined;
  };
  return {
    istag: h.get('ISTag')?.replace(/^"(.*)"$/, '$1'),
    service: h.get('Service'),
    methods: (h.get('Methods') ?? '')
      .split(',')
      .map((s) => s.trim().toUpperCase())
      .filter(Boolean),
    preview: num(h.get('Preview')),
    allow204: (h.get('Allow') ?? '').split(',').some((s) => s.trim() === '204'),
    maxConnections: num(h.get('Max-Connections')),
    ttlSeconds: num(h.get('Options-TTL')),
    transferPreview: h.get('Transfer-Preview'),
  };
}

/**
 * Which headers carry a verdict, per vendor. The default profile knows all of them: a header that
 * one vendor uses for a detection never means "clean" for another.
 */
export interface IcapProfile {
  /** `Threat=<name>;` style (c-icap, Sophos, ESET). */
  infectionHeaders: string[];
  /** Value is the virus name (squidclamav, Kaspersky). */
  virusNameHeaders: string[];
  /** Count then groups of 4 folded lines: filename, threat, id, disposition (Symantec, c-icap). */
  violationsHeaders: string[];
  /** `X-Response-Info: Blocked` (OPSWAT), with the reason in `X-Blocked-Reason`. */
  blockedInfoHeaders: string[];
  blockedReasonHeaders: string[];
}

export const DEFAULT_PROFILE: IcapProfile = {
  infectionHeaders: ['X-Infection-Found'],
  virusNameHeaders: ['X-Virus-ID', 'X-Virus-Name', 'X-Threat-Name'],
  violationsHeaders: ['X-Violations-Found'],
  blockedInfoHeaders: ['X-Response-Info'],
  blockedReasonHeaders: ['X-Blocked-Reason'],
};

/** Verdict names found in ICAP headers, or [] when none claims a detection. */
export function verdictFromHeaders(h: Headers, profile: IcapProfile = DEFAULT_PROFILE): { names: string[]; blocked: boolean } {
  const names: string[] = [];
  let blocked = false;
  for (const n of profile.infectionHeaders) {
    for (const f of h.all(n)) {
      blocked = true;
      const m = /Threat=([^;]+);?/i.exec(f.value);
      names.push((m ? m[1]! : f.value).trim());
    }
  }
  for (const n of profile.virusNameHeaders) {
    for (const f of h.all(n)) {
      const v = f.value.trim();
      // Some servers send the header with a "none" value on clean objects.
      if (v === '' || /^(none|no threats?|clean|-)$/i.test(v)) continue;
      blocked = true;
      names.push(v);
    }
  }
  for (const n of profile.violationsHeaders) {
    for (const f of h.all(n)) {
      const count = Number.parseInt(f.lines[0] ?? '', 10);
      if (!(count > 0)) continue;
      blocked = true;
      const rest = f.lines.slice(1);
      for (let i = 0; i < count; i++) {
        const threat = rest[i * 4 + 1];
        if (threat && threat !== '-') names.push(threat);
      }
    }
  }
  for (const n of profile.blockedInfoHeaders) {
    for (const f of h.all(n)) {
      if (!/^blocked\b/i.test(f.value.trim())) continue;
      blocked = true;
      const reasons = profile.blockedReasonHeaders.flatMap((r) => h.all(r).map((x) => x.value.trim())).filter(Boolean);
      names.push(...(reasons.length > 0 ? reasons : ['blocked']));
    }
  }
  if (!blocked) {
    // A reason header alone still says the server refused the object.
    for (const r of profile.blockedReasonHeaders) {
      for (const f of h.all(r)) {
        if (f.value.trim() === '') continue;
        blocked = true;
        names.push(f.value.trim());
      }
    }
  }
  return { names: [...new Set(names.filter(Boolean))], blocked };
}

/** Best-effort virus name from a vendor block page (c-icap, Kaspersky, McAfee, Trend templates). */
export function nameFromBlockPage(body: string): string | undefined {
  const text = body.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ');
  const patterns = [
    /contains the virus:\s*([A-Za-z0-9._:/!@-]+)/i,
    /virus(?: name)?\s*[:=]\s*([A-Za-z0-9._:/!@-]+)/i,
    /threat(?: name)?\s*[:=]\s*([A-Za-z0-9._:/!@-]+)/i,
    /infected (?:with|by)\s*:?\s*([A-Za-z0-9._:/!@-]+)/i,
    /detected\s*:\s*([A-Za-z0-9._:/!@-]+)/i,
  ];
  for (const p of patterns) {
    const m = p.exec(text);
    if (m) return m[1];
  }
  return undefined;
}

/** Non-2xx ICAP statuses: all unscanned, with a reason the host can explain. */
export function reasonForStatus(code: number): UnscannedReason {
  if (code === 503 || code === 506) return 'unavailable';
  if (code === 401 || code === 404 || code === 405 || code === 407 || code === 501 || code === 558) return 'misconfigured';
  if (code === 400 || code === 418 || code === 505) return 'protocol_error';
  if (code === 408) return 'timeout';
  return 'engine_error';
}
