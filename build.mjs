// Bundles each shell with esbuild. The core is not built on its own: every shell bundles it,
// so a Node or DOM import that sneaks into src/core breaks the browser bundle (and the arch test).
import { build } from 'esbuild';
import { chmod, mkdir } from 'node:fs/promises';
import { buildLegacyWasm } from './src/core/crypto/wasm/compile.mjs';

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

// The WebAssembly legacy ciphers (AssemblyScript → base64 module that every bundle embeds).
await buildLegacyWasm();
await mkdir('dist', { recursive: true });
await Promise.all(targets.map((t) => build(t)));
await chmod('dist/cli/unseal.mjs', 0o755);
await chmod('dist/host/unseal-host.mjs', 0o755);

// ---- The Thunderbird add-on: dist/ext (unpacked) and dist/unseal-<version>.xpi ----
// Background and display scripts are classic scripts (iife): a message display script cannot be
// a module, and one format for all keeps the bundles alike. The .xpi is written by the small zip
// writer below, so a fresh machine needs nothing but Node to build it.
import * as extFs from 'node:fs/promises';
import { deflateRawSync } from 'node:zlib';

const extCommon = { bundle: true, format: 'iife', platform: 'browser', target: 'firefox140', sourcemap: false, legalComments: 'inline', logLevel: 'warning' };
const extTargets = [
  { ...extCommon, entryPoints: ['src/background/main.ts'], outfile: 'dist/ext/background/main.js' },
  { ...extCommon, entryPoints: ['src/platform/display-channel.ts'], outfile: 'dist/ext/display/channel.js' },
  { ...extCommon, entryPoints: ['src/display/main.ts'], outfile: 'dist/ext/display/gate.js' },
  // The keys page (options page; also opened in a tab): keys.html + keys.css are copied beside it.
  { ...extCommon, entryPoints: ['src/pages/keys/keys.ts'], outfile: 'dist/ext/pages/keys.js' },
  // Monitoring pages: re-scan (progress, summary) and the audit viewer; html + monitor.css copied beside them.
  { ...extCommon, entryPoints: ['src/pages/rescan/rescan.ts'], outfile: 'dist/ext/pages/rescan.js' },
  { ...extCommon, entryPoints: ['src/pages/audit/audit.ts'], outfile: 'dist/ext/pages/audit.js' },
  // The Unseal viewer tab (pages/viewer.html?message=<id>): viewer.html + viewer.css copied beside it.
  { ...extCommon, entryPoints: ['src/pages/viewer/viewer.ts'], outfile: 'dist/ext/pages/viewer.js' },
  // The status page (pages/status.html, linked from the keys page): effective policy, policy errors, scanner.
  { ...extCommon, entryPoints: ['src/pages/status/status.ts'], outfile: 'dist/ext/pages/status.js' },
];

const crcTable = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(buf) {
  let c = 0xffffffff;
  for (const b of buf) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** A deterministic zip (sorted names, fixed 1980-01-01 timestamps, deflate). */
function zip(files) {
  const local = [];
  const central = [];
  let offset = 0;
  for (const { name, data } of files) {
    const nameBuf = Buffer.from(name, 'utf8');
    const packed = deflateRawSync(data, { level: 9 });
    const [method, body] = packed.length < data.length ? [8, packed] : [0, data];
    const crc = crc32(data);
    const lh = Buffer.alloc(30);
    lh.writeUInt32LE(0x04034b50, 0);
    lh.writeUInt16LE(20, 4);
    lh.writeUInt16LE(0x0800, 6); // UTF-8 names
    lh.writeUInt16LE(method, 8);
    lh.writeUInt16LE(0, 10);
    lh.writeUInt16LE(0x21, 12); // 1980-01-01
    lh.writeUInt32LE(crc, 14);
    lh.writeUInt32LE(body.length, 18);
    lh.writeUInt32LE(data.length, 22);
    lh.writeUInt16LE(nameBuf.length, 26);
    lh.writeUInt16LE(0, 28);
    const ch = Buffer.alloc(46);
    ch.writeUInt32LE(0x02014b50, 0);
    ch.writeUInt16LE(0x0314, 4); // made by: unix, 2.0
    ch.writeUInt16LE(20, 6);
    ch.writeUInt16LE(0x0800, 8);
    ch.writeUInt16LE(method, 10);
    ch.writeUInt16LE(0, 12);
    ch.writeUInt16LE(0x21, 14);
    ch.writeUInt32LE(crc, 16);
    ch.writeUInt32LE(body.length, 20);
    ch.writeUInt32LE(data.length, 24);
    ch.writeUInt16LE(nameBuf.length, 28);
    ch.writeUInt32LE(((0o100644 << 16) >>> 0), 38);
    ch.writeUInt32LE(offset, 42);
    local.push(lh, nameBuf, body);
    central.push(ch, nameBuf);
    offset += lh.length + nameBuf.length + body.length;
  }
  const cd = Buffer.concat(central);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(files.length, 8);
  end.writeUInt16LE(files.length, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...local, cd, end]);
}

async function listFiles(dir, prefix = '') {
  const out = [];
  for (const e of await extFs.readdir(dir, { withFileTypes: true })) {
    const rel = prefix ? `${prefix}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...(await listFiles(`${dir}/${e.name}`, rel)));
    else out.push(rel);
  }
  return out;
}

async function buildExtension() {
  await extFs.rm('dist/ext', { recursive: true, force: true });
  await Promise.all(extTargets.map((t) => build(t)));
  const pkg = JSON.parse(await extFs.readFile('package.json', 'utf8'));
  const manifest = JSON.parse(await extFs.readFile('manifest.json', 'utf8'));
  manifest.version = pkg.version; // one version: package.json's
  await extFs.writeFile('dist/ext/manifest.json', JSON.stringify(manifest, null, 2) + '\n');
  await extFs.cp('icons', 'dist/ext/icons', { recursive: true });
  await extFs.cp('src/_locales', 'dist/ext/_locales', { recursive: true });
  for (const f of ['keys.html', 'keys.css']) await extFs.cp(`src/pages/keys/${f}`, `dist/ext/pages/${f}`);
  for (const f of ['rescan/rescan.html', 'rescan/monitor.css', 'audit/audit.html']) await extFs.cp(`src/pages/${f}`, `dist/ext/pages/${f.split('/')[1]}`);
  for (const f of ['viewer.html', 'viewer.css']) await extFs.cp(`src/pages/viewer/${f}`, `dist/ext/pages/${f}`);
  for (const f of ['status.html', 'status.css']) await extFs.cp(`src/pages/status/${f}`, `dist/ext/pages/${f}`);
  const names = (await listFiles('dist/ext')).sort();
  const files = await Promise.all(names.map(async (name) => ({ name, data: await extFs.readFile(`dist/ext/${name}`) })));
  await extFs.writeFile(`dist/unseal-${pkg.version}.xpi`, zip(files));
}

await buildExtension();

// ---- docs/policy.schema.json: generated from src/core/policy (the one definition of the settings) ----
{
  const out = await build({ entryPoints: ['src/core/policy/json-schema.ts'], bundle: true, format: 'esm', platform: 'neutral', write: false, logLevel: 'warning' });
  const mod = await import(`data:text/javascript;base64,${Buffer.from(out.outputFiles[0].text).toString('base64')}`);
  await extFs.writeFile('docs/policy.schema.json', mod.policyJsonSchemaText());
}
