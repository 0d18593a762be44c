/**
 * `web-ext lint` (Mozilla's addons-linter) over the built add-on, offline. Zero errors; warnings
 * only where addons-linter does not know Thunderbird (see /work/shared/notes/av-bridge.md, last
 * section) — every other warning fails with its message:
 *
 *  - MANIFEST_PERMISSIONS for Thunderbird-only permissions (messagesRead, accountsRead, …);
 *  - a Thunderbird manifest key it does not know (message_display_scripts, …);
 *  - MISSING_DATA_COLLECTION_PERMISSIONS (a Firefox AMO requirement);
 *  - UNSAFE_VAR_ASSIGNMENT to innerHTML ONLY inside the bundled DOMPurify module (its own parser
 *    fallback into an inert document). Unseal's own code has no innerHTML: decrypted HTML enters
 *    the DOM as DOMPurify's DocumentFragment only (src/display/sanitize.ts). The bundle's esbuild
 *    module comments (`// node_modules/dompurify/...`) say which module a line belongs to.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/cli.js';

interface LintMessage {
  code: string;
  message: string;
  file?: string;
  line?: number;
  column?: number;
}
interface LintResult {
  count: number;
  summary: { errors: number; notices: number; warnings: number };
  errors: LintMessage[];
  warnings: LintMessage[];
  notices: LintMessage[];
}

/** Linted from a private copy: other test files rebuild dist/ (rm + write) while this one runs. */
let EXT = '';

/** Thunderbird WebExtension permissions addons-linter does not know (Firefox has no such API). */
const THUNDERBIRD_PERMISSIONS = new Set([
  'messagesRead', 'messagesImport', 'messagesModify', 'messagesMove', 'messagesDelete', 'messagesTags', 'messagesUpdate',
  'accountsRead', 'accountsFolders', 'accountsIdentities', 'addressBooks', 'compose', 'compose.save', 'compose.send',
  'sensitiveDataUpload',
]);
const THUNDERBIRD_MANIFEST_KEYS = /\b(message_display_scripts|message_display_action|compose_action|compose_scripts|browser_action|cloud_file)\b/;

/** The esbuild module a line of a bundle belongs to (`// node_modules/x/y.js` / `// src/...` comments). */
export function moduleAt(bundle: string, line: number): string | undefined {
  const lines = bundle.split('\n');
  for (let i = Math.min(line, lines.length) - 1; i >= 0; i--) {
    // esbuild names modules relative to the cwd; through a symlinked node_modules (a git worktree)
    // the real path shows, e.g. `// ../../work/main/node_modules/x.js`: keep from node_modules/ or src/.
    const m = /^\s*\/\/ (?:\S*?\/)?((?:node_modules|src)\/\S+)\s*$/.exec(lines[i]!);
    if (m) return m[1];
  }
  return undefined;
}

/** The warnings that are NOT the known Thunderbird/DOMPurify ones, as readable lines. */
export function unexpectedWarnings(warnings: LintMessage[], readBundle: (file: string) => string): string[] {
  const out: string[] = [];
  for (const w of warnings) {
    if (w.code === 'MISSING_DATA_COLLECTION_PERMISSIONS') continue;
    if (w.code === 'MANIFEST_PERMISSIONS') {
      const names = [...w.message.matchAll(/"([^"]+)"/g)].map((m) => m[1]!);
      if (names.length > 0 && names.every((n) => THUNDERBIRD_PERMISSIONS.has(n))) continue;
    }
    if ((w.code === 'MANIFEST_FIELD_UNSUPPORTED' || w.code.startsWith('UNKNOWN_') || w.code === 'JSON_INVALID') && THUNDERBIRD_MANIFEST_KEYS.test(w.message)) continue;
    if (w.code === 'UNSAFE_VAR_ASSIGNMENT' && /innerHTML/.test(w.message) && w.file && w.line !== undefined) {
      const mod = moduleAt(readBundle(w.file), w.line);
      if (mod?.startsWith('node_modules/dompurify/')) continue;
    }
    out.push(`${w.code} ${w.file ?? ''}${w.line !== undefined ? `:${w.line}` : ''}: ${w.message}`);
  }
  return out;
}

describe('web-ext lint (addons-linter) on dist/ext', () => {
  let result: LintResult;

  beforeAll(() => {
    execFileSync(process.execPath, ['build.mjs'], { cwd: ROOT, stdio: 'pipe' });
    EXT = join(mkdtempSync(join(tmpdir(), 'unseal-lint-')), 'ext');
    cpSync(join(ROOT, 'dist/ext'), EXT, { recursive: true });
    let out: string;
    try {
      out = execFileSync(join(ROOT, 'node_modules/.bin/web-ext'), ['lint', '--source-dir', EXT, '--output', 'json', '--no-config-discovery'], {
        cwd: ROOT,
        encoding: 'utf8',
        env: { ...process.env, NO_UPDATE_NOTIFIER: '1', CI: '1' },
        maxBuffer: 64 * 1024 * 1024,
      });
    } catch (e) {
      // Exit code 1 on errors: the JSON is still on stdout.
      out = String((e as { stdout?: string }).stdout ?? '');
    }
    result = JSON.parse(out.slice(out.indexOf('{'))) as LintResult;
  }, 120_000);

  afterAll(() => {
    if (EXT) rmSync(join(EXT, '..'), { recursive: true, force: true });
  });

  it('has no errors', () => {
    expect(result.errors.map((e) => `${e.code} ${e.file ?? ''}:${e.line ?? ''} ${e.message}`)).toEqual([]);
    expect(result.summary.errors).toBe(0);
  });

  it('has no warnings except the known Thunderbird-specific ones', () => {
    expect(unexpectedWarnings(result.warnings, (f) => readFileSync(join(EXT, f), 'utf8'))).toEqual([]);
  });

  it('really linted our manifest (the Thunderbird permission warning is there)', () => {
    expect(result.warnings.some((w) => w.code === 'MANIFEST_PERMISSIONS' && w.message.includes('messagesRead'))).toBe(true);
  });

  it('the filter lets nothing else through: innerHTML in Unseal code, other permissions, other codes', () => {
    const bundle = ['(() => {', '  // node_modules/dompurify/dist/purify.es.mjs', '  x.innerHTML = y;', '  // src/display/render.ts', '  z.innerHTML = w;', '})();'].join('\n');
    const read = () => bundle;
    const w = (m: Partial<LintMessage>): LintMessage => ({ code: 'UNSAFE_VAR_ASSIGNMENT', message: 'Unsafe assignment to innerHTML', file: 'display/gate.js', ...m });
    expect(unexpectedWarnings([w({ line: 3 })], read)).toEqual([]);
    expect(moduleAt('  // ../../work/main/node_modules/dompurify/dist/purify.es.mjs\n  x.innerHTML = y;', 2)).toBe('node_modules/dompurify/dist/purify.es.mjs');
    expect(unexpectedWarnings([w({ line: 5 })], read)).toHaveLength(1);
    expect(unexpectedWarnings([w({ code: 'MANIFEST_PERMISSIONS', message: '/permissions: Invalid permissions "tabs" at 2.', file: 'manifest.json' })], read)).toHaveLength(1);
    expect(unexpectedWarnings([w({ code: 'MANIFEST_PERMISSIONS', message: '/permissions: Invalid permissions "accountsRead" at 2.', file: 'manifest.json' })], read)).toEqual([]);
    expect(unexpectedWarnings([w({ code: 'DANGEROUS_EVAL', message: 'eval can be harmful.', line: 3 })], read)).toHaveLength(1);
  });
});
