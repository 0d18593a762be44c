import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve, dirname } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/cli.js';

/**
 * The layout is the architecture: a pure core that runs unchanged in Thunderbird, Node and the
 * CLI; shells around it. These rules are checked on every import under src/.
 */
const SRC = resolve(ROOT, 'src');

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? files(p) : /\.(ts|mts)$/.test(n) ? [p] : [];
  });
}

const layerOf = (file: string) => relative(SRC, file).split('/')[0]!;

/** Which src/ folders each folder may import from; packages are listed separately. */
const ALLOWED: Record<string, { layers: string[]; packages: RegExp }> = {
  core: { layers: ['core'], packages: /^(pkijs|asn1js|@noble\/(hashes|ciphers|curves)(\/.*)?)$/ },
  protocol: { layers: ['protocol', 'core'], packages: /^$/ },
  platform: { layers: ['platform', 'protocol', 'core'], packages: /^(idb|webextension-polyfill)$/ },
  background: { layers: ['background', 'platform', 'protocol', 'core'], packages: /^(idb)$/ },
  display: { layers: ['display', 'protocol', 'core'], packages: /^(dompurify)$/ },
  // pages may use display: its renderer is DOM-only code (the viewer renders with renderModel).
  pages: { layers: ['pages', 'display', 'platform', 'protocol', 'core'], packages: /^(dompurify|idb)$/ },
  host: { layers: ['host', 'protocol', 'core'], packages: /^node:/ },
  cli: { layers: ['cli', 'host', 'protocol', 'core'], packages: /^node:/ },
  demo: { layers: ['demo', 'cli', 'host', 'protocol', 'core'], packages: /^node:/ },
};

/** Globals that tie code to one runtime; the core and protocol must not touch them. */
const RUNTIME_GLOBALS = /\b(Buffer|process|require|window|document|navigator|browser|messenger|chrome|localStorage|indexedDB)\s*[.([]/;

function imports(src: string): string[] {
  const out: string[] = [];
  const re = /(?:^|\n)\s*(?:import|export)\s[^'";]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|(?:^|\n)\s*import\s*['"]([^'"]+)['"]/g;
  for (let m; (m = re.exec(src)); ) out.push((m[1] ?? m[2] ?? m[3])!);
  return out;
}

function stripComments(src: string): string {
  return src.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1').replace(/(['"`])(?:\\.|(?!\1).)*\1/g, "''");
}

describe('import boundaries', () => {
  const all = files(SRC);
  it('finds the source tree', () => {
    expect(all.some((f) => f.includes('/core/'))).toBe(true);
  });
  for (const f of all) {
    const layer = layerOf(f);
    it(relative(ROOT, f), () => {
      const rule = ALLOWED[layer];
      expect(rule, `src/${layer} is not a known layer: add it to the rules`).toBeDefined();
      const src = readFileSync(f, 'utf8');
      for (const spec of imports(src)) {
        if (spec.startsWith('.')) {
          const target = resolve(dirname(f), spec);
          const tl = relative(SRC, target).split('/')[0]!;
          expect(rule!.layers, `${relative(ROOT, f)} imports ${spec} (src/${tl})`).toContain(tl);
        } else {
          expect(spec, `${relative(ROOT, f)} imports package ${spec}`).toMatch(rule!.packages);
        }
      }
      if (layer === 'core' || layer === 'protocol') {
        const code = stripComments(src);
        const m = RUNTIME_GLOBALS.exec(code);
        expect(m?.[0], `${relative(ROOT, f)} uses a runtime-specific global`).toBeUndefined();
      }
    });
  }
});
