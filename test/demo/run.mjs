// Bundles the demo (it reuses the real-Thunderbird harness and the test clamd helpers) and runs it.
import { build } from 'esbuild';
import { resolve } from 'node:path';

const root = resolve(import.meta.dirname, '../..');
const out = resolve(root, 'dist/demo/demo.mjs');
await build({ entryPoints: [resolve(root, 'test/demo/demo.ts')], bundle: true, platform: 'node', format: 'esm', target: 'node20', outfile: out, logLevel: 'warning', banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" } });
process.chdir(root);
await import(out);
