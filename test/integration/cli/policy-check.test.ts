/** `unseal policy check` through the built CLI: the shipped example, bad policies, usage. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'unseal-policy-'));
const file = (name: string, v: unknown) => {
  const p = join(dir, name);
  writeFileSync(p, typeof v === 'string' ? v : JSON.stringify(v));
  return p;
};

describe('unseal policy check', () => {
  it('accepts docs/examples/policies.json', async () => {
    const r = await runCli(['policy', 'check', 'docs/examples/policies.json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout.toString()).toMatch(/valid Unseal policy \(policies\.json/);
  });

  it('accepts a bare settings object and notes nothing about p7m_external', async () => {
    const r = await runCli(['policy', 'check', file('bare.json', { scanner: { required: false } })]);
    expect(r.code).toBe(0);
    expect(r.stdout.toString()).not.toMatch(/p7m_external/);
  });

  it('reads the per-user managed-storage manifest (name, description, type "storage", data) the admin guide describes', async () => {
    const ok = await runCli(['policy', 'check', file('ms.json', { name: 'unseal@unseal.example', description: 'Unseal policy', type: 'storage', data: { scanner: { required: true } } })]);
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);
    expect(ok.stdout.toString()).toMatch(/valid Unseal policy \(managed-storage/);
    const bad = await runCli(['policy', 'check', file('ms-bad.json', { name: 'other@example', type: 'storage', data: { scanner: { required: 'no' } } })]);
    expect(bad.code).toBe(4);
    const lines = bad.stderr.trim().split('\n');
    expect(lines).toContain('$.name: expected "unseal@unseal.example" (the add-on this manifest is for), got "other@example"');
    expect(lines).toContain('$.data.scanner.required: expected true or false, got "no"');
  });

  it('notes a policies.json that does not lock mailnews.p7m_external', async () => {
    const r = await runCli(['policy', 'check', file('nolock.json', { policies: { '3rdparty': { Extensions: { 'unseal@unseal.example': {} } } } })]);
    expect(r.code).toBe(0);
    expect(r.stdout.toString()).toMatch(/mailnews\.p7m_external/);
  });

  it('prints one line per error with the full path and exits 4', async () => {
    const bad = { policies: { '3rdparty': { Extensions: { 'unseal@unseal.example': { scanner: { required: 'yes' }, onInfected: { action: 'delete' }, colour: 'red' } } } } };
    const r = await runCli(['policy', 'check', file('bad.json', bad)]);
    expect(r.code).toBe(4);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toContain('$.policies["3rdparty"].Extensions["unseal@unseal.example"].scanner.required: expected true or false, got "yes"');
    expect(lines).toContain('$.policies["3rdparty"].Extensions["unseal@unseal.example"].onInfected.action: expected one of "block", "quarantine", "tag", got "delete"');
    expect(lines.some((l) => l.includes('.colour: expected one of the known settings'))).toBe(true);
    expect(r.stdout.length).toBe(0);
  });

  it('not JSON ⇒ 4; missing FILE or unknown subcommand ⇒ 2', async () => {
    expect((await runCli(['policy', 'check', file('broken.json', '{"scanner": ')])).code).toBe(4);
    expect((await runCli(['policy', 'check'])).code).toBe(2);
    expect((await runCli(['policy', 'lint', 'x.json'])).code).toBe(2);
    expect((await runCli(['policy'])).code).toBe(2);
  });
});
