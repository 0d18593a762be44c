/**
 * `audit.read`: pages of the host's audit log, oldest first, below Gecko's 1 MiB reply limit, through
 * the session and the add-on's response guard; torn or tampered lines are skipped.
 */
import { appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createAuditLog, readAuditLog } from '../../../src/host/audit.js';
import { DEFAULT_LIMITS } from '../../../src/host/config.js';
import { HostSession } from '../../../src/host/server.js';
import { AUDIT_READ_MAX_REPLY_BYTES, MAX_HOST_TO_EXTENSION_BYTES, isProtocolError, parseRequest, parseResponse, type Response } from '../../../src/protocol/native.js';

const dir = mkdtempSync(join(tmpdir(), 'unseal-audit-read-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const sha = (n: number) => n.toString(16).padStart(64, '0');

async function logWith(n: number, name: string) {
  let t = Date.parse('2026-01-01T00:00:00Z');
  const log = createAuditLog({ path: join(dir, name), now: () => new Date((t += 1000)) });
  for (let i = 0; i < n; i++) {
    await log.record({ event: i % 2 ? 'verdict' : 'decrypted', messageId: `<m${i}@x>`, folder: '/Inbox/ a long folder name '.repeat(35), plaintextSha256: sha(i), ...(i % 2 ? { verdict: 'clean' } : {}) }, i % 2 ? 'host' : 'addon');
  }
  return log;
}

function session(path: string | null) {
  const sent: Response[] = [];
  const s = new HostSession({
    scanners: null,
    limits: DEFAULT_LIMITS,
    audit: path ? createAuditLog({ path }) : null,
    hostVersion: 'test',
    send: (r) => sent.push(r),
    log: () => {},
  });
  return { s, sent };
}

describe('audit.read', () => {
  it('pages with limit and cursor, oldest first, filters by since', async () => {
    const log = await logWith(25, 'a.jsonl');
    const p1 = await readAuditLog(log.path, { limit: 10, maxBytes: AUDIT_READ_MAX_REPLY_BYTES });
    expect(p1.events.map((e) => e.messageId)).toEqual(Array.from({ length: 10 }, (_, i) => `<m${i}@x>`));
    const p2 = await readAuditLog(log.path, { limit: 10, cursor: p1.next!, maxBytes: AUDIT_READ_MAX_REPLY_BYTES });
    expect(p2.events[0]!.messageId).toBe('<m10@x>');
    const p3 = await readAuditLog(log.path, { limit: 10, cursor: p2.next!, maxBytes: AUDIT_READ_MAX_REPLY_BYTES });
    expect(p3.events).toHaveLength(5);
    expect(p3.next).toBeNull();
    const since = await readAuditLog(log.path, { limit: 100, since: '2026-01-01T00:00:20Z', maxBytes: AUDIT_READ_MAX_REPLY_BYTES });
    expect(since.events[0]!.messageId).toBe('<m19@x>');
  });

  it('skips torn and tampered lines (nothing outside the event allow-list comes back)', async () => {
    const log = await logWith(2, 'b.jsonl');
    appendFileSync(log.path!, '{"time":"2026-01-01T00:00:09Z","source":"addon","event":"decrypted","body":"SECRET-PLAINTEXT"}\nnot json\n{"time":"2026-01-01T00:00:10Z","source":"host","event":"verdict","verdict":"infected","signatures":["Eicar"]}\n{"time":"2026');
    const p = await readAuditLog(log.path, { limit: 100, maxBytes: AUDIT_READ_MAX_REPLY_BYTES });
    expect(p.events).toHaveLength(3);
    expect(JSON.stringify(p)).not.toContain('SECRET-PLAINTEXT');
  });

  it('through the session: every reply is a valid response below 1 MiB, and the pages cover the whole log', async () => {
    const log = await logWith(3000, 'c.jsonl');
    const { s, sent } = session(log.path);
    let cursor: number | undefined;
    let total = 0;
    for (let page = 0; page < 20; page++) {
      const req = { id: `r${page}`, type: 'audit.read', limit: 1000, ...(cursor !== undefined ? { cursor } : {}) };
      expect(isProtocolError(parseRequest(req))).toBe(false);
      s.handle(req);
      await new Promise((r) => setTimeout(r, 50));
      for (let i = 0; i < 100 && sent.length <= page; i++) await new Promise((r) => setTimeout(r, 20));
      const raw = sent[page]!;
      expect(Buffer.byteLength(JSON.stringify(raw))).toBeLessThan(MAX_HOST_TO_EXTENSION_BYTES);
      const r = parseResponse(JSON.parse(JSON.stringify(raw)));
      if (isProtocolError(r) || r.type !== 'audit.events') throw new Error(JSON.stringify(r).slice(0, 300));
      total += r.events.length;
      if (r.next === null) break;
      cursor = r.next;
    }
    expect(total).toBe(3000);
    await s.close();
  });

  it('no audit log configured: an empty page', async () => {
    const { s, sent } = session(null);
    s.handle({ id: 'x', type: 'audit.read', limit: 5 });
    await new Promise((r) => setTimeout(r, 20));
    expect(sent[0]).toEqual({ id: 'x', type: 'audit.events', events: [], next: null });
  });

  it('rejects a bad request (limit out of range, unknown field)', () => {
    expect(isProtocolError(parseRequest({ id: 'a', type: 'audit.read', limit: 0 }))).toBe(true);
    expect(isProtocolError(parseRequest({ id: 'a', type: 'audit.read', limit: 5, path: '/etc/passwd' }))).toBe(true);
  });
});
