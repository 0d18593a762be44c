// Legacy ciphers JS vs WebAssembly, in Node and INSIDE Thunderbird (Debian's build keeps
// javascript.options.baselinejit=false). `node test/bench/legacy-ciphers-tb.mjs [--mb 10] [--quick]`
// Measures: Node; Thunderbird's chrome context (Marionette); a test add-on's MV3 background page
// with the default CSP and with 'wasm-unsafe-eval' (the add-on id is Unseal's, which the harness
// side-loads). Prints a JSON summary and a Markdown table. Needs .ci/install-thunderbird.sh.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';

const ROOT = resolve(import.meta.dirname, '../..');
const OUT = join(ROOT, 'dist/bench');
const arg = (name, dflt) => (process.argv.includes(name) ? process.argv[process.argv.indexOf(name) + 1] : dflt);
const quick = process.argv.includes('--quick');
const MB = Number(arg('--mb', quick ? '2' : '10'));
const OPTS = { mb: MB, jsRuns: 1, wasmRuns: 3, ciphers: ['des-ede3-cbc', 'des-cbc', 'rc2-cbc-128'] };
mkdirSync(OUT, { recursive: true });

const entry = join(ROOT, 'test/bench/legacy-ciphers-tb-entry.ts');
const iife = (await build({ entryPoints: [entry], bundle: true, write: false, format: 'iife', globalName: 'UnsealLegacyBench', platform: 'browser', target: 'firefox140', logLevel: 'warning' })).outputFiles[0].text;
await build({ entryPoints: [entry], bundle: true, format: 'esm', platform: 'node', outfile: join(OUT, 'legacy-node.mjs'), logLevel: 'warning' });
await build({ entryPoints: [join(ROOT, 'test/helpers/thunderbird/index.ts')], bundle: true, format: 'esm', platform: 'node', packages: 'external', outfile: join(OUT, 'tb-harness.mjs'), logLevel: 'warning' });
const { Thunderbird, ADDON_ID, waitFor } = await import(join(OUT, 'tb-harness.mjs'));

const summary = {};
const node = await import(join(OUT, 'legacy-node.mjs'));
summary.node = node.run(OPTS);
console.error('node done');

/** A throwaway add-on with Unseal's id whose background runs the bench into storage.session. */
function benchXpi(csp) {
  const dir = mkdtempSync(join(tmpdir(), 'unseal-bench-xpi-'));
  const manifest = {
    manifest_version: 3,
    name: 'Unseal legacy-cipher bench',
    version: '0.0.1',
    browser_specific_settings: { gecko: { id: ADDON_ID, strict_min_version: '153.0' } },
    permissions: ['storage'],
    background: { scripts: ['bench.js', 'bg.js'] },
    ...(csp ? { content_security_policy: { extension_pages: csp } } : {}),
  };
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest));
  writeFileSync(join(dir, 'bench.js'), iife);
  writeFileSync(
    join(dir, 'bg.js'),
    `setTimeout(() => {
       let r;
       try { r = UnsealLegacyBench.run(${JSON.stringify(OPTS)}); } catch (e) { r = { error: String(e) }; }
       browser.storage.session.set({ legacyBench: JSON.stringify(r) });
     }, 2000);`,
  );
  const xpi = join(dir, 'bench.xpi');
  execFileSync('zip', ['-q', '-X', '-j', xpi, join(dir, 'manifest.json'), join(dir, 'bench.js'), join(dir, 'bg.js')]);
  return xpi;
}

const READ = `const { extensionStorageSession } = ChromeUtils.importESModule("resource://gre/modules/ExtensionStorage.sys.mjs");
  const policy = WebExtensionPolicy.getByID(arguments[0]);
  if (!policy || !policy.extension) return null;
  const got = extensionStorageSession.get(policy.extension, ["legacyBench"]);
  const h = got && got.legacyBench;
  if (!h) return null;
  return typeof h.deserialize === "function" ? h.deserialize(globalThis, true) : h;`;

for (const [label, csp] of [
  ['addonDefaultCsp', undefined],
  ['addonWasmUnsafeEval', "script-src 'self' 'wasm-unsafe-eval'; upgrade-insecure-requests;"],
]) {
  const tb = await Thunderbird.start({ xpi: benchXpi(csp), headless: true });
  try {
    const raw = await waitFor(() => tb.chrome(READ, [ADDON_ID]), 240_000, `${label} bench`, 500);
    summary[label] = JSON.parse(raw);
    if (label === 'addonDefaultCsp') {
      summary.prefs = await tb.chrome(`return { baselinejit: Services.prefs.getBoolPref("javascript.options.baselinejit"),
        ion: Services.prefs.getBoolPref("javascript.options.ion"), wasm_baselinejit: Services.prefs.getBoolPref("javascript.options.wasm_baselinejit", null),
        wasm_optimizingjit: Services.prefs.getBoolPref("javascript.options.wasm_optimizingjit", null), version: Services.appinfo.version };`);
      summary.chrome = await tb.chrome(`${iife}\nreturn UnsealLegacyBench.run(arguments[0]);`, [OPTS], 240_000);
    }
    console.error(`${label} done`);
  } finally {
    await tb.stop();
  }
}

writeFileSync(join(OUT, 'legacy-ciphers-tb.json'), JSON.stringify(summary, null, 2));
const med = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const rate = (ms) => (ms === undefined ? '—' : `${(MB / (ms / 1000)).toFixed(1)} MB/s (${Math.round(ms)} ms)`);
console.log(`| where | cipher | JS | WASM first call | WASM median of ${OPTS.wasmRuns} | backend |`);
console.log('|---|---|---|---|---|---|');
for (const k of ['node', 'chrome', 'addonDefaultCsp', 'addonWasmUnsafeEval']) {
  const s = summary[k];
  if (!s || s.error) {
    console.log(`| ${k} | error: ${s?.error} | | | | |`);
    continue;
  }
  for (const r of s.results) {
    console.log(`| ${k} | ${r.cipher} ${r.mb} MB | ${rate(r.jsMs[0])} | ${rate(r.firstWasmMs)} | ${rate(med(r.wasmMs))} | ${s.backend}${s.wasmCompileError ? ` (${s.wasmCompileError})` : ''}${r.equal === false ? ' MISMATCH' : ''} |`);
  }
}
console.log(JSON.stringify(summary.prefs));
