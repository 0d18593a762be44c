// `npm run bench`: Unseal against OpenSSL on the same machine in the same run, as ratios.
// Messages are generated here with `openssl cms`, so nothing large is stored in the repo.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { webcrypto, randomBytes, createPrivateKey } from 'node:crypto';
import { build } from 'esbuild';

const ROOT = resolve(import.meta.dirname, '../..');
const CLI = join(ROOT, 'dist/cli/unseal.mjs');
const KEY = join(ROOT, 'test/fixtures/demo/alice.key');
const CERT = join(ROOT, 'test/fixtures/demo/alice.pem');
const tmp = mkdtempSync(join(tmpdir(), 'unseal-bench-'));
const quick = process.argv.includes('--quick');
const SIZES = quick ? [1] : [1, 10, 25];
const RUNS = quick ? 2 : 5;
// `--only decrypt|bridge` runs one section; the bridge (scan path vs clamdscan) is test/bench/bridge.mjs.
const only = process.argv.includes('--only') ? process.argv[process.argv.indexOf('--only') + 1] : undefined;
if (only !== undefined && only !== 'decrypt' && only !== 'bridge') throw new Error('--only takes decrypt or bridge');
if (only === 'bridge') {
  await (await import('./bridge.mjs')).runBridge({ quick });
  process.exit(0);
}

const core = join(ROOT, 'dist/bench/core.mjs');
await build({ entryPoints: [join(ROOT, 'test/bench/core-entry.ts')], bundle: true, platform: 'node', format: 'esm', outfile: core, logLevel: 'warning' });
const m = await import(core);

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function timeCmd(cmd, args, runs = RUNS) {
  const t = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    const r = spawnSync(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'], maxBuffer: 1 << 30 });
    t.push(performance.now() - t0);
    if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr}`);
  }
  return median(t);
}

function gen(sizeMb, variant) {
  const plain = join(tmp, `plain-${sizeMb}.bin`);
  if (!existsSync(plain)) writeFileSync(plain, randomBytes(sizeMb * 1024 * 1024));
  const out = join(tmp, `${variant}-${sizeMb}.p7m`);
  const base = ['cms', '-encrypt', '-binary', '-in', plain, '-out', out, '-outform', 'DER'];
  if (variant === 'der-aes256') execFileSync('openssl', [...base, '-aes256', CERT]);
  if (variant === 'ber-aes256') execFileSync('openssl', [...base, '-stream', '-aes256', CERT]);
  if (variant === 'der-3des') execFileSync('openssl', [...base, '-des3', CERT]);
  return out;
}

const rows = [];
for (const size of SIZES) {
  for (const variant of ['der-aes256', 'ber-aes256', 'der-3des']) {
    const f = gen(size, variant);
    const ossl = timeCmd('openssl', ['cms', '-decrypt', '-binary', '-inform', 'DER', '-in', f, '-inkey', KEY, '-recip', CERT, '-out', '/dev/null']);
    const cli = timeCmd(process.execPath, [CLI, 'decrypt', '--key', KEY, '--cert', CERT, '-o', '/dev/null', f]);
    const w = JSON.parse(execFileSync(process.execPath, ['--expose-gc', join(ROOT, 'test/bench/worker.mjs'), core, f, KEY, CERT, String(RUNS)]).toString());
    rows.push({ case: `${variant} ${size} MB`, opensslMs: ossl, inProcessMs: w.ms, cliMs: cli, inProcRatio: w.ms / ossl, cliRatio: cli / ossl, peakRssMB: w.maxRssKiB / 1024, rssPerSize: (w.maxRssKiB - w.baseRssKiB) / 1024 / size });
  }
}

const f2 = (x) => x.toFixed(2);
console.log('\nDecrypt, median of', RUNS, 'runs (ratio = Unseal / openssl cms -decrypt whole process)');
console.log('case                  openssl ms  in-proc ms  ratio  unseal CLI ms  ratio  peak RSS MB  (peak-base)/size');
for (const r of rows) {
  console.log(`${r.case.padEnd(21)} ${f2(r.opensslMs).padStart(10)} ${f2(r.inProcessMs).padStart(11)} ${f2(r.inProcRatio).padStart(6)} ${f2(r.cliMs).padStart(14)} ${f2(r.cliRatio).padStart(6)} ${f2(r.peakRssMB).padStart(12)} ${f2(r.rssPerSize).padStart(9)}`);
}

// RSA PKCS#1 v1.5 unwrap, own BigInt code
console.log('\nRSA PKCS#1 v1.5 unwrap (median of 20)');
for (const bits of [2048, 3072, 4096]) {
  const pem = execFileSync('openssl', ['genpkey', '-algorithm', 'RSA', '-pkeyopt', `rsa_keygen_bits:${bits}`]).toString();
  const jwk = createPrivateKey(pem).export({ format: 'jwk' });
  const b = (s) => BigInt(`0x${Buffer.from(s, 'base64url').toString('hex')}`);
  const key = { n: b(jwk.n), e: b(jwk.e), d: b(jwk.d), p: b(jwk.p), q: b(jwk.q), dp: b(jwk.dp), dq: b(jwk.dq), qi: b(jwk.qi) };
  const ct = m.rsaEncryptPkcs1v15(key.n, key.e, randomBytes(32));
  const t = [];
  for (let i = 0; i < 20; i++) {
    const t0 = performance.now();
    m.rsaDecryptPkcs1v15(key, ct, [32]);
    t.push(performance.now() - t0);
  }
  console.log(`RSA-${bits}: ${f2(median(t))} ms${bits === 2048 ? '  (target <= 12 ms)' : ''}`);
}

// Legacy cipher throughput
const buf = randomBytes(8 * 1024 * 1024);
const iv = randomBytes(8);
for (const [name, fn] of [
  ['3DES-CBC', () => m.desEde3CbcDecrypt(randomBytes(24), iv, buf)],
  ['RC2-128-CBC', () => m.rc2CbcDecrypt(randomBytes(16), 128, iv, buf)],
]) {
  const t0 = performance.now();
  fn();
  const s = (performance.now() - t0) / 1000;
  console.log(`${name}: ${f2(buf.length / 1024 / 1024 / s)} MB/s${name === '3DES-CBC' ? '  (target >= 10 MB/s)' : ''}`);
}
console.log(`\nTargets: in-process 25 MB DER <= 1.0x openssl, BER <= 1.5x; peak RSS <= 6x message size.`);
writeFileSync(join(tmp, "bench.json"), JSON.stringify(rows, null, 2));

if (only !== 'decrypt') await (await import('./bridge.mjs')).runBridge({ quick });
