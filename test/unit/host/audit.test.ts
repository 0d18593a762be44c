import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { AuditRejected, createAuditLog, defaultAuditPath } from '../../../src/host/audit.js';

const dir = mkdtempSync(join(tmpdir(), 'unseal-audit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it('defaults to ~/.local/state/unseal/audit.jsonl, honouring XDG_STATE_HOME', () => {
  expect(defaultAuditPath({ HOME: '/home/ann' })).toBe('/home/ann/.local/state/unseal/audit.jsonl');
  expect(defaultAuditPath({ HOME: '/home/ann', XDG_STATE_HOME: '/st' })).toBe('/st/unseal/audit.jsonl');
});

it('appends 0600 JSON lines, refuses disallowed fields, and copies accepted lines to syslog via logger', async () => {
  const path = join(dir, 'nested', 'audit.jsonl');
  const logged = join(dir, 'logger-args');
  const fakeLogger = join(dir, 'logger');
  writeFileSync(fakeLogger, `#!/bin/sh\nprintf '%s\\n' "$@" >> '${logged}'\n`);
  chmodSync(fakeLogger, 0o755);
  const log = createAuditLog({ path, syslog: true, loggerCommand: fakeLogger, now: () => new Date('2025-01-02T03:04:05Z') });
  const rec = await log.record({ event: 'verdict', messageId: '<m@x>', verdict: 'infected', signatures: ['Eicar'] }, 'addon');
  expect(rec).toEqual({ time: '2025-01-02T03:04:05.000Z', source: 'addon', event: 'verdict', messageId: '<m@x>', verdict: 'infected', signatures: ['Eicar'] });
  await expect(log.record({ event: 'verdict', privateKey: 'x' }, 'addon')).rejects.toThrow(AuditRejected);
  expect(statSync(path).mode & 0o777).toBe(0o600);
  expect(statSync(join(dir, 'nested')).mode & 0o777).toBe(0o700);
  expect(readFileSync(path, 'utf8')).toBe(`${JSON.stringify(rec)}\n`);
  for (let i = 0; i < 50 && !existsSync(logged); i++) await new Promise((r) => setTimeout(r, 20));
  expect(readFileSync(logged, 'utf8')).toBe(`-t\nunseal\n-p\nauthpriv.info\n--\n${JSON.stringify(rec)}\n`);
});

it('takes the key lifecycle events and the sender, engine and signature version, and still refuses material', async () => {
  const log = createAuditLog({ path: join(dir, 'kinds.jsonl'), now: () => new Date('2025-01-02T03:04:05Z') });
  const fp = 'ab'.repeat(32);
  for (const event of ['key_imported', 'key_deleted', 'key_exported'] as const) {
    expect(await log.record({ event, keyFingerprint: fp }, 'addon')).toMatchObject({ event, keyFingerprint: fp });
  }
  expect(await log.record({ event: 'verdict', sender: 'Bob <bob@example.org>', engine: 'ClamAV 1.4.3', engineSignatures: '27531/Tue Jan 28' }, 'host')).toMatchObject({
    sender: 'Bob <bob@example.org>',
    engine: 'ClamAV 1.4.3',
    engineSignatures: '27531/Tue Jan 28',
  });
  // Retired event names are no longer accepted, and a sender cannot smuggle key or content material.
  await expect(log.record({ event: 'released' }, 'addon')).rejects.toThrow(AuditRejected);
  await expect(log.record({ event: 'decrypted', sender: '-----BEGIN PRIVATE KEY-----' }, 'addon')).rejects.toThrow(AuditRejected);
  await expect(log.record({ event: 'decrypted', sender: 'A'.repeat(300) }, 'addon')).rejects.toThrow(AuditRejected);
});
