// @vitest-environment jsdom
/**
 * The status page's edit form in jsdom, against a fake `browser`: the background's `policy.status`
 * merges the fake managed storage over the fake storage.local with the real core, as the add-on's
 * background does. The real-Thunderbird run is test/e2e/user-settings.test.ts.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ROOT } from '../../helpers/cli.js';
import { effectivePolicy } from '../../../src/core/policy/index.js';
import { text } from '../display/helpers.js';

const html = readFileSync(resolve(ROOT, 'src/pages/status/status.html'), 'utf8');

interface Fake {
  local: Record<string, unknown>;
  managed: unknown;
  sets: unknown[];
}

function installBrowser(f: Fake): void {
  const browser = {
    i18n: { getMessage: (k: string, s?: string[]) => (k === '@@ui_locale' ? 'en' : text(k, s)) },
    runtime: {
      sendMessage: async (m: { type: string }) => {
        if (m.type !== 'policy.status') throw new Error(`unexpected ${m.type}`);
        return { policy: effectivePolicy({ managed: f.managed, user: f.local['settings'] }), host: { ok: false, error: 'no host in this test' } };
      },
    },
    storage: {
      local: {
        get: async (k: string) => (Object.hasOwn(f.local, k) ? { [k]: structuredClone(f.local[k]) } : {}),
        set: async (o: Record<string, unknown>) => {
          f.sets.push(structuredClone(o));
          Object.assign(f.local, structuredClone(o));
        },
        remove: async (k: string) => {
          delete f.local[k];
        },
      },
      managed: { get: async () => ({}) },
      onChanged: { addListener: () => undefined },
    },
  };
  (globalThis as unknown as { browser: unknown }).browser = browser;
}

async function openPage(f: Fake): Promise<void> {
  document.documentElement.innerHTML = html.replace(/^<!DOCTYPE html>\s*<html[^>]*>/i, '').replace(/<\/html>\s*$/i, '');
  document.body.dataset['state'] = 'loading';
  installBrowser(f);
  vi.resetModules();
  await import('../../../src/pages/status/status.js');
  await vi.waitFor(() => expect(document.body.dataset['state']).toBe('ready'));
}

const row = (path: string) => document.querySelector<HTMLTableRowElement>(`#settings tbody tr[data-path="${path}"]`)!;
const input = <T extends HTMLElement = HTMLInputElement>(path: string) => document.querySelector<T>(`[data-path="${path}"]:not(tr)`)!;

async function clickAndWait(id: 'save' | 'reset'): Promise<string> {
  const before = Number(document.body.dataset['saveCount'] ?? '0');
  document.getElementById(id)!.click();
  await vi.waitFor(() => expect(Number(document.body.dataset['saveCount'] ?? '0')).toBe(before + 1));
  return document.body.dataset['saved']!;
}

describe('status page: changing user settings', () => {
  let f: Fake;
  beforeEach(() => {
    f = { local: {}, managed: undefined, sets: [] };
  });
  afterEach(() => {
    delete (globalThis as { browser?: unknown }).browser;
  });

  it('offers a control for each setting users may change, built from the schema', async () => {
    await openPage(f);
    expect(row('scanner.required').dataset).toMatchObject({ source: 'default', locked: 'false', editable: 'true' });
    expect(input('scanner.required').type).toBe('checkbox');
    expect(input('scanner.required').checked).toBe(true);
    expect(input<HTMLSelectElement>('onInfected.action').tagName).toBe('SELECT');
    expect(Array.from(input<HTMLSelectElement>('onInfected.action').options).map((o) => o.value)).toEqual(['block', 'quarantine', 'tag']);
    expect(input('scan.timeLimitSeconds')).toMatchObject({ type: 'number', min: '5', max: '3600', value: '180' });
    expect(input('onInfected.tag')).toMatchObject({ type: 'text', value: 'Infected (Unseal)' });
    const warn = Array.from(document.querySelectorAll<HTMLInputElement>('input[data-path="algorithms.warn"]'));
    expect(warn.filter((b) => b.checked).map((b) => b.dataset['item'])).toEqual(['RC2-40', 'RC2-64', 'DES']);
    // Admin-only settings stay read-only text.
    expect(row('keys.importAllowed').dataset['editable']).toBe('false');
    expect(row('keys.importAllowed').querySelector('input, select, textarea')).toBeNull();
    expect(row('keys.importAllowed').textContent).toContain(text('status_admin_only'));
    expect((document.getElementById('reset') as HTMLButtonElement).disabled).toBe(true);
  });

  it('saves a valid change, then shows it as the user\'s', async () => {
    await openPage(f);
    input('scanner.required').checked = false;
    input('scan.timeLimitSeconds').value = '30';
    expect(await clickAndWait('save')).toBe('saved');
    expect(f.local['settings']).toEqual({ scanner: { required: false }, scan: { timeLimitSeconds: 30 } });
    expect(row('scanner.required').dataset['source']).toBe('user');
    expect(input('scanner.required').checked).toBe(false);
    expect(row('onInfected.action').dataset['source']).toBe('default');
    expect(document.getElementById('save-status')!.textContent).toBe(text('status_saved'));
    expect((document.getElementById('reset') as HTMLButtonElement).disabled).toBe(false);
  });

  it('an invalid value is shown inline with the validator\'s path, expected and got, and nothing is saved', async () => {
    f.local['settings'] = { onInfected: { action: 'tag' } };
    await openPage(f);
    input('scan.timeLimitSeconds').value = '2';
    input('onInfected.quarantineFolder').value = 'a/b';
    expect(await clickAndWait('save')).toBe('invalid');
    expect(f.sets).toEqual([]);
    expect(f.local['settings']).toEqual({ onInfected: { action: 'tag' } });
    const errors = Array.from(document.querySelectorAll('#save-errors li')).map((li) => li.textContent);
    expect(errors).toContain('$.scan.timeLimitSeconds: expected an integer from 5 to 3600, got 2');
    expect(errors.some((e) => e?.startsWith('$.onInfected.quarantineFolder: expected a string of 1–100 characters'))).toBe(true);
    expect(row('scan.timeLimitSeconds').dataset['invalid']).toBe('true');
    expect(row('scan.timeLimitSeconds').querySelector('.field-error')!.textContent).toContain('expected an integer from 5 to 3600, got 2');
    // The page's policy error list is the stored policy's, not the form's.
    expect(document.querySelectorAll('#errors li')).toHaveLength(0);
    // Fixed, it saves and the inline errors go.
    input('scan.timeLimitSeconds').value = '20';
    input('onInfected.quarantineFolder').value = 'Quarantine';
    expect(await clickAndWait('save')).toBe('saved');
    expect(f.local['settings']).toEqual({ onInfected: { action: 'tag', quarantineFolder: 'Quarantine' }, scan: { timeLimitSeconds: 20 } });
    expect(document.querySelectorAll('#save-errors li')).toHaveLength(0);
    expect(row('scan.timeLimitSeconds').dataset['invalid']).toBeUndefined();
  });

  it('a setting the admin set is read-only and locked; the user\'s stored value for it is kept but does not apply', async () => {
    f.managed = { scanner: { required: true } };
    f.local['settings'] = { scanner: { required: false } };
    await openPage(f);
    expect(row('scanner.required').dataset).toMatchObject({ source: 'managed', locked: 'true', editable: 'false' });
    expect(row('scanner.required').querySelector('input')).toBeNull();
    expect(row('scanner.required').textContent).toContain(text('status_locked'));
    expect(row('scanner.required').textContent).toContain(text('status_user_value_kept', ['false']));
    input('message.maxSizeMB').value = '50';
    expect(await clickAndWait('save')).toBe('saved');
    expect(f.local['settings']).toEqual({ scanner: { required: false }, message: { maxSizeMB: 50 } });
    expect(row('scanner.required').dataset['source']).toBe('managed');
  });

  it('reset removes the user\'s own values', async () => {
    f.local['settings'] = { scanner: { required: false }, rescan: { everyHours: 12 } };
    await openPage(f);
    expect(row('rescan.everyHours').dataset['source']).toBe('user');
    expect(await clickAndWait('reset')).toBe('reset');
    expect(f.local['settings']).toBeUndefined();
    expect(row('rescan.everyHours').dataset['source']).toBe('default');
    expect(row('scanner.required').dataset['source']).toBe('default');
    expect(input('scanner.required').checked).toBe(true);
  });
});
