// Bundles each shell with esbuild. The core is not built on its own: every shell bundles it,
// so a Node or DOM import that sneaks into src/core breaks the browser bundle (and the arch test).
import { build } from 'esbuild';
import { chmod, mkdir } from 'node:fs/promises';

const common = { bundle: true, format: 'esm', sourcemap: 'linked', legalComments: 'inline', logLevel: 'warning' };

const targets = [
  {
    ...common,
    entryPoints: ['src/cli/main.ts'],
    outfile: 'dist/cli/unseal.mjs',
    platform: 'node',
    target: 'node20',
    banner: { js: '#!/usr/bin/env node' },
  },
  {
    // The native-messaging host Thunderbird starts through the launcher `unseal host install` writes.
    ...common,
    entryPoints: ['src/host/main.ts'],
    outfile: 'dist/host/unseal-host.mjs',
    platform: 'node',
    target: 'node20',
    banner: { js: '#!/usr/bin/env node' },
  },
];

await mkdir('dist', { recursive: true });
await Promise.all(targets.map((t) => build(t)));
await chmod('dist/cli/unseal.mjs', 0o755);
await chmod('dist/host/unseal-host.mjs', 0o755);
