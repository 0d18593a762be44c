// One in-process measurement in a fresh process, so peak RSS belongs to this run alone.
// argv: <core.mjs> <input> <key.pem> <cert.pem> <runs>
import { readFileSync } from 'node:fs';
import { webcrypto } from 'node:crypto';

const [core, input, keyPath, certPath, runsArg] = process.argv.slice(2);
const m = await import(core);
const subtle = webcrypto.subtle;
const keyBytes = new Uint8Array(Buffer.concat([readFileSync(keyPath), readFileSync(certPath)]));
const bundle = await m.loadKeyFile(subtle, keyBytes, {});
const baseRssKiB = process.memoryUsage().rss / 1024;
const bytes = new Uint8Array(readFileSync(input));
const times = [];
for (let i = 0; i < Number(runsArg); i++) {
  const t0 = performance.now();
  const r = await m.unwrapLayers(subtle, bytes, { keys: bundle.keys }, { stopAfterFirstDecryption: true });
  times.push(performance.now() - t0);
  if (!r.firstDecrypted?.length) throw new Error('no plaintext');
  // Let each run start from a clean heap, so peak RSS is one decryption's, not the garbage of several.
  globalThis.gc?.();
}
times.sort((a, b) => a - b);
process.stdout.write(JSON.stringify({ ms: times[Math.floor(times.length / 2)], maxRssKiB: process.resourceUsage().maxRSS, baseRssKiB }));
