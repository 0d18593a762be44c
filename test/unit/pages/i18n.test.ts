/**
 * The add-on pages' strings: every `data-i18n` name in a page and every literal key a page script
 * or the background asks for exists in English and German, with the same `$n` placeholders; the
 * keys a script builds from data (summary rows, result names) exist for every value.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../../helpers/cli.js';

type Messages = Record<string, { message: string }>;
const load = (lang: string) => JSON.parse(readFileSync(resolve(ROOT, `src/_locales/${lang}/messages.json`), 'utf8')) as Messages;
const en = load('en');
const de = load('de');

function files(dir: string, re: RegExp): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? files(p, re) : re.test(n) ? [p] : [];
  });
}

const placeholders = (m: string) => [...new Set(m.match(/\$\d/g) ?? [])].sort();

describe('page strings', () => {
  it('en and de have the same keys and the same placeholders', () => {
    expect(Object.keys(de).sort()).toEqual(Object.keys(en).sort());
    for (const k of Object.keys(en)) expect(placeholders(de[k]!.message), k).toEqual(placeholders(en[k]!.message));
  });

  it('German is German: the page strings differ from the English ones except for words both languages share', () => {
    const same = Object.keys(en).filter((k) => /^(rescan|audit|status|menu)_/.test(k) && en[k]!.message === de[k]!.message);
    // "Details" and "$1 in $2" read the same in German.
    expect(same.sort()).toEqual(['audit_col_details', 'rescan_col_details', 'rescan_finding']);
  });

  for (const f of files(resolve(ROOT, 'src/pages'), /\.html$/)) {
    it(`${relative(ROOT, f)}: every data-i18n name exists, and visible text comes from it`, () => {
      const html = readFileSync(f, 'utf8');
      const names = [...html.matchAll(/data-i18n="([^"]+)"/g)].map((m) => m[1]!);
      expect(names.length).toBeGreaterThan(0);
      for (const n of names) {
        expect(en[n], `${n} (en)`).toBeDefined();
        expect(de[n], `${n} (de)`).toBeDefined();
      }
    });
  }

  it('the re-scan and audit pages carry no English text outside data-i18n elements (except <title> fallbacks)', () => {
    for (const page of ['src/pages/rescan/rescan.html', 'src/pages/audit/audit.html']) {
      const body = readFileSync(resolve(ROOT, page), 'utf8').split('<body')[1]!;
      // Text between tags, ignoring whitespace.
      const texts = [...body.matchAll(/>([^<]+)</g)].map((m) => m[1]!.trim()).filter((x) => x.length > 0);
      expect(texts, page).toEqual([]);
    }
  });

  it('literal keys asked for by the pages and the background exist', () => {
    const sources = [...files(resolve(ROOT, 'src/pages'), /\.ts$/), ...files(resolve(ROOT, 'src/background'), /\.ts$/)];
    const keys = new Set<string>();
    for (const f of sources) {
      const src = readFileSync(f, 'utf8');
      for (const m of src.matchAll(/\b(?:t|pageText|uiText|title|message)\(\s*'([a-z][a-z0-9_]*)'/g)) keys.add(m[1]!);
    }
    expect(keys).toContain('menu_rescan_folder');
    expect(keys).toContain('rescan_state_running');
    expect(keys).toContain('audit_count');
    for (const k of keys) {
      expect(en[k], `${k} (en)`).toBeDefined();
      expect(de[k], `${k} (de)`).toBeDefined();
    }
  });

  it('keys built from data exist for every value', () => {
    const statuses = ['clean', 'infected', 'unscanned', 'could_not_decrypt', 'skipped', 'not_encrypted'];
    const summary = ['total', 'scanned', 'clean', 'infected', 'unscanned', 'couldNotDecrypt', 'skipped', 'skippedInfected', 'notEncrypted'];
    const built = [
      ...statuses.map((s) => `rescan_result_${s}`),
      ...summary.map((s) => `rescan_sum_${s}`),
      ...['default', 'user', 'managed'].map((s) => `status_origin_${s}`),
      ...['managed', 'user'].map((s) => `status_error_source_${s}`),
    ];
    for (const k of built) {
      expect(en[k], `${k} (en)`).toBeDefined();
      expect(de[k], `${k} (de)`).toBeDefined();
    }
  });
});
