// The bridge benchmark: what the Unseal scan path costs on top of the scanner itself.
// One private clamd serves the whole run; `clamdscan --stream` on the same bytes is the reference,
// so every figure is a ratio measured on this machine in this run. Run it with `npm run bench`
// (after the decrypt section) or alone: `npm run build && node test/bench/bridge.mjs [--quick]`.
//
// Paths compared on one object of random bytes (1/10/25 MB):
//   clamdscan   clamdscan --stream (whole process), the reference
//   CLI         unseal scan --as file (whole process: Node start-up + canary self-test + one scan)
//   host        dist/host/unseal-host.mjs spawned once, driven with real native-messaging frames
//               (4-byte LE length + JSON, base64 chunks of RECOMMENDED_CHUNK_BYTES, ≤ 4 unacked),
//               timed from scan.begin to scan.result.
// The host only knows message mode (the add-on always sends a MIME entity). Random bytes with a NUL
// up front are refused by the MIME splitter, so the host scans the whole object exactly once and
// answers `unscanned` (engine_error, "could not split"): the same scanner work as the other paths.
// The run checks that reason, so the figures cannot silently come from a different path.
import { spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';

const ROOT = resolve(import.meta.dirname, '../..');
const CLI = join(ROOT, 'dist/cli/unseal.mjs');
// UNSEAL_BENCH_HOST: another host bundle (e.g. a patched build) to compare on the same run's clamd.
export const HOST = process.env.UNSEAL_BENCH_HOST ? resolve(process.env.UNSEAL_BENCH_HOST) : join(ROOT, 'dist/host/unseal-host.mjs');
const MB = 1024 * 1024;

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const sha256 = (b) => createHash('sha256').update(b).digest('hex');
const f0 = (x) => x.toFixed(0);
const f1 = (x) => x.toFixed(1);
const f2 = (x) => x.toFixed(2);

/** Runs a whole process, returns wall-clock ms; throws unless the exit code is one of `ok`. */
function timeProc(cmd, args, ok = [0]) {
  const t0 = performance.now();
  const r = spawnSync(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 1 << 26 });
  const ms = performance.now() - t0;
  if (!ok.includes(r.status)) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}: ${r.stdout}${r.stderr}`);
  return ms;
}

/** The native-messaging host as Thunderbird drives it: a child with frames on stdin/stdout. */
export class HostClient {
  constructor(env, cwd, script = HOST) {
    this.t0 = performance.now();
    this.child = spawn(process.execPath, [script], { cwd, env: { PATH: process.env.PATH, HOME: cwd, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
    this.pending = new Map();
    this.stderr = '';
    this.seq = 0;
    let buf = Buffer.alloc(0);
    this.child.stdout.on('data', (d) => {
      buf = buf.length ? Buffer.concat([buf, d]) : d;
      while (buf.length >= 4) {
        const len = buf.readUInt32LE(0);
        if (buf.length < 4 + len) break;
        const msg = JSON.parse(buf.subarray(4, 4 + len).toString('utf8'));
        buf = buf.subarray(4 + len);
        const p = this.pending.get(msg.id);
        if (p) {
          this.pending.delete(msg.id);
          p(msg);
        } else if (msg.id === null) throw new Error(`host frame error: ${JSON.stringify(msg)}`);
      }
    });
    this.child.stderr.on('data', (d) => (this.stderr = (this.stderr + d).slice(-4000)));
    this.exited = new Promise((r) => this.child.on('exit', r));
  }

  static frame(msg) {
    const body = Buffer.from(JSON.stringify(msg));
    const head = Buffer.alloc(4);
    head.writeUInt32LE(body.length);
    return [msg.id, head, body];
  }

  request(msg) {
    return this.send(HostClient.frame(msg));
  }

  send([id, head, body]) {
    return new Promise((res) => {
      this.pending.set(id, res);
      this.child.stdin.write(head);
      this.child.stdin.write(body);
    });
  }

  /**
   * begin → chunks (window of 4 unacknowledged) → end; ms from begin to the scan.result.
   * By default each chunk is base64-encoded and serialised when it is sent, as the add-on does;
   * `encodeAhead` builds every frame before the clock starts, leaving the pipe and the host alone.
   */
  async scan(bytes, digest, chunkBytes, { encodeAhead = false } = {}) {
    const scanId = `s${++this.seq}`;
    const chunkFrame = (seq, o) =>
      HostClient.frame({ id: `${scanId}.c${seq}`, type: 'scan.chunk', scanId, seq, data: Buffer.from(bytes.buffer, bytes.byteOffset + o, Math.min(chunkBytes, bytes.length - o)).toString('base64') });
    const ahead = [];
    if (encodeAhead) for (let seq = 0, o = 0; o < bytes.length; seq++, o += chunkBytes) ahead.push(chunkFrame(seq, o));
    const t0 = performance.now();
    const begin = await this.request({ id: `${scanId}.b`, type: 'scan.begin', scanId, size: bytes.length, sha256: digest, meta: {} });
    if (begin.type !== 'ack') throw new Error(`scan.begin: ${JSON.stringify(begin)}`);
    const window = [];
    for (let seq = 0, o = 0; o < bytes.length; seq++, o += chunkBytes) {
      if (window.length >= 4) {
        const a = await window.shift();
        if (a.type !== 'ack') throw new Error(`scan.chunk: ${JSON.stringify(a)}`);
      }
      window.push(this.send(encodeAhead ? ahead[seq] : chunkFrame(seq, o)));
    }
    for (const a of await Promise.all(window)) if (a.type !== 'ack') throw new Error(`scan.chunk: ${JSON.stringify(a)}`);
    const end = await this.request({ id: `${scanId}.e`, type: 'scan.end', scanId });
    const ms = performance.now() - t0;
    if (end.type !== 'scan.result') throw new Error(`scan.end: ${JSON.stringify(end)}\n${this.stderr}`);
    return { ms, verdict: end.verdict };
  }

  async close() {
    this.child.stdin.end();
    return this.exited;
  }
}

/** A seeded PRNG, so the batch of mails has the same shape on every run. */
function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WORDS = 'the invoice for march is attached please find the signed contract and the minutes of our meeting regarding budget planning review schedule delivery thanks regards best kind'.split(' ');

function words(rng, n) {
  const out = [];
  let line = '';
  for (let i = 0; i < n; i++) {
    const w = WORDS[Math.floor(rng() * WORDS.length)];
    if (line.length + w.length + 1 > 72) {
      out.push(line);
      line = '';
    }
    line += (line ? ' ' : '') + w;
  }
  if (line) out.push(line);
  return out;
}

const b64lines = (b) => Buffer.from(b).toString('base64').replace(/.{76}/g, '$&\r\n').replace(/\r\n$/, '');

function alternative(rng, boundary) {
  const text = words(rng, 150 + Math.floor(rng() * 1200));
  const html = `<html><body>${text.map((l) => `<p>${l}</p>`).join('\r\n')}</body></html>`;
  return [
    `Content-Type: multipart/alternative; boundary="${boundary}"`,
    '',
    `--${boundary}`,
    'Content-Type: text/plain; charset=utf-8',
    'Content-Transfer-Encoding: 8bit',
    '',
    ...text,
    `--${boundary}`,
    'Content-Type: text/html; charset=utf-8',
    'Content-Transfer-Encoding: 8bit',
    '',
    html,
    `--${boundary}--`,
  ].join('\r\n');
}

function attachmentBytes(m, kind, size) {
  if (kind === 'pdf') {
    const head = Buffer.from(`%PDF-1.4\n1 0 obj\n<< /Length ${size} >>\nstream\n`);
    return Buffer.concat([head, randomBytes(size), Buffer.from('\nendstream\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n')]);
  }
  if (kind === 'docx') {
    return Buffer.from(
      m.storedZip([
        { name: '[Content_Types].xml', data: Buffer.from('<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>') },
        { name: 'word/document.xml', data: Buffer.from(`<w:document><w:body>${'<w:p>text</w:p>'.repeat(200)}</w:body></w:document>`) },
        { name: 'word/media/image1.png', data: randomBytes(size) },
      ]),
    );
  }
  return Buffer.from(m.storedZip([{ name: 'data.bin', data: randomBytes(size) }]));
}

const ATTACHMENT_TYPES = {
  pdf: ['application/pdf', 'report.pdf'],
  docx: ['application/vnd.openxmlformats-officedocument.wordprocessingml.document', 'contract.docx'],
  zip: ['application/zip', 'files.zip'],
};

/** A typical decrypted mail: text + HTML alternative; ~70 % with one 50–500 KB attachment; 5 % forward a message. */
function typicalMail(m, rng, i) {
  const header = [
    `From: Sender ${i} <sender${i}@example.org>`,
    'To: Alice <alice@example.com>',
    `Subject: Benchmark mail ${i}`,
    'Date: Thu, 01 Jan 2026 00:00:00 +0000',
    `Message-ID: <bench-${i}@example.org>`,
    'MIME-Version: 1.0',
  ];
  const withAttachment = rng() < 0.7;
  const nested = i % 20 === 7;
  if (!withAttachment && !nested) return { bytes: Buffer.from([...header, alternative(rng, `alt-${i}`), ''].join('\r\n')), attachment: null, nested };
  const mixed = `mixed-${i}`;
  const parts = [...header, `Content-Type: multipart/mixed; boundary="${mixed}"`, '', `--${mixed}`, alternative(rng, `alt-${i}`)];
  let attachment = null;
  if (withAttachment) {
    const kind = ['pdf', 'docx', 'zip'][Math.floor(rng() * 3)];
    const size = 50 * 1024 + Math.floor(rng() * 450 * 1024);
    const [type, name] = ATTACHMENT_TYPES[kind];
    attachment = kind;
    parts.push(`--${mixed}`, `Content-Type: ${type}; name="${name}"`, `Content-Disposition: attachment; filename="${name}"`, 'Content-Transfer-Encoding: base64', '', b64lines(attachmentBytes(m, kind, size)));
  }
  if (nested) {
    const inner = [
      'From: Bob <bob@example.net>',
      'To: Sender <sender@example.org>',
      'Subject: the original',
      'MIME-Version: 1.0',
      `Content-Type: multipart/mixed; boundary="inner-${i}"`,
      '',
      `--inner-${i}`,
      'Content-Type: text/plain; charset=utf-8',
      '',
      ...words(rng, 200),
      `--inner-${i}`,
      'Content-Type: application/octet-stream; name="notes.bin"',
      'Content-Disposition: attachment; filename="notes.bin"',
      'Content-Transfer-Encoding: base64',
      '',
      b64lines(randomBytes(20 * 1024)),
      `--inner-${i}--`,
      '',
    ].join('\r\n');
    parts.push(`--${mixed}`, 'Content-Type: message/rfc822; name="fwd.eml"', 'Content-Disposition: attachment; filename="fwd.eml"', '', inner);
  }
  parts.push(`--${mixed}--`, '');
  return { bytes: Buffer.from(parts.join('\r\n')), attachment, nested };
}

/** Random bytes that are certainly not MIME (a NUL first), so the host scans them exactly once. */
export function opaqueObject(size) {
  const b = randomBytes(size);
  b[0] = 0;
  return b;
}

function mailWithAttachment(sizeBytes) {
  return Buffer.from(
    [
      'From: Sender <sender@example.org>',
      'To: Alice <alice@example.com>',
      'Subject: big attachment',
      'MIME-Version: 1.0',
      'Content-Type: multipart/mixed; boundary="b"',
      '',
      '--b',
      'Content-Type: text/plain; charset=utf-8',
      '',
      'See attachment.',
      '--b',
      'Content-Type: application/octet-stream; name="big.bin"',
      'Content-Disposition: attachment; filename="big.bin"',
      'Content-Transfer-Encoding: base64',
      '',
      b64lines(randomBytes(sizeBytes)),
      '--b--',
      '',
    ].join('\r\n'),
  );
}

export async function runBridge({ quick = false, log = console.log } = {}) {
  const SIZES = quick ? [1] : [1, 10, 25];
  const RUNS = quick ? 3 : 5;
  const MAILS = quick ? 40 : 200;
  const bundle = join(ROOT, 'dist/bench/bridge.mjs');
  await build({ entryPoints: [join(ROOT, 'test/bench/bridge-entry.ts')], bundle: true, platform: 'node', format: 'esm', outfile: bundle, logLevel: 'warning' });
  const m = await import(pathToFileURL(bundle).href);
  const CHUNK = m.RECOMMENDED_CHUNK_BYTES;

  const tmp = mkdtempSync(join(tmpdir(), 'unseal-bridge-'));
  const clamd = await m.startClamd({ streamMaxLength: '64M', alertExceedsMax: true });
  const clamdConf = join(tmp, 'clamdscan.conf');
  writeFileSync(clamdConf, `LocalSocket ${clamd.socketPath}\n`);
  const clamdscan = (file) => timeProc('clamdscan', [`--config-file=${clamdConf}`, '--stream', '--no-summary', file]);
  const cliScan = (file, url, ok = [0]) => timeProc(process.execPath, [CLI, 'scan', '--scanner', url, '--as', 'file', file], ok);
  const hosts = [];
  const startHost = async (scanner) => {
    const h = new HostClient({ UNSEAL_SCANNER: scanner, UNSEAL_AUDIT_LOG: join(tmp, 'audit.jsonl') }, tmp);
    hosts.push(h);
    const hello = await h.request({ id: 'hello', type: 'hello', protocol: m.PROTOCOL_VERSION, client: 'bench' });
    h.helloMs = performance.now() - h.t0;
    if (hello.type !== 'hello' || hello.scanner === null) throw new Error(`hello: ${JSON.stringify(hello)}\n${h.stderr}`);
    return h;
  };
  const result = { machine: { cpus: (await import('node:os')).cpus().length, node: process.version }, runs: RUNS };

  try {
    // ---- Fixed costs: Node start-up, the canary self-test ----
    const helpMs = median(Array.from({ length: RUNS }, () => timeProc(process.execPath, [CLI, 'scan', '--help'])));
    const canaryMs = [];
    for (let i = 0; i < RUNS; i++) {
      const raw = m.createScanner(clamd.url); // fresh: the CLI starts without a cached VERSION
      const t0 = performance.now();
      const rep = await m.checkCanaries(raw, {});
      canaryMs.push(performance.now() - t0);
      if (!rep.ok) throw new Error(`canaries failed against the private clamd: ${JSON.stringify(rep.advice)}`);
    }
    result.fixed = { cliStartupMs: helpMs, canaryInProcessMs: median(canaryMs) };

    const host = await startHost(clamd.url);
    let t0 = performance.now();
    const health = await host.request({ id: 'health', type: 'health' });
    const healthMs = performance.now() - t0;
    if (!health.ok) throw new Error(`health: ${JSON.stringify(health)}`);
    const warm = opaqueObject(1 * MB);
    const warmFirst = await host.scan(warm, sha256(warm), CHUNK);
    const warmAgain = median(await sequence(RUNS, () => host.scan(warm, sha256(warm), CHUNK).then((r) => r.ms)));
    result.fixed.hostHelloMs = host.helloMs;
    result.fixed.hostHealthMs = healthMs;
    result.fixed.hostFirstScan1MbMs = warmFirst.ms;
    result.fixed.hostWarm1MbMs = warmAgain;

    // ---- Objects ----
    result.objects = [];
    for (const size of SIZES) {
      const bytes = opaqueObject(size * MB);
      const file = join(tmp, `object-${size}.bin`);
      writeFileSync(file, bytes);
      const digest = sha256(bytes);
      const t = { clamdscan: [], cli: [], host: [], hostAhead: [] };
      const viaHost = async (opts) => {
        const r = await host.scan(bytes, digest, CHUNK, opts);
        if (r.verdict.verdict !== 'unscanned' || !/could not split/.test(r.verdict.message)) throw new Error(`host took another path: ${JSON.stringify(r.verdict)}`);
        return r.ms;
      };
      clamdscan(file); // page cache and clamd warm for this size
      for (let i = 0; i < RUNS; i++) {
        t.clamdscan.push(clamdscan(file));
        t.cli.push(cliScan(file, clamd.url));
        t.host.push(await viaHost());
        t.hostAhead.push(await viaHost({ encodeAhead: true }));
      }
      const row = { size, clamdscanMs: median(t.clamdscan), cliMs: median(t.cli), hostMs: median(t.host), hostAheadMs: median(t.hostAhead) };
      row.cliNoCanaryMs = row.cliMs - result.fixed.canaryInProcessMs;
      result.objects.push(row);
    }

    // A realistic large message: 10 MB attachment (13.5 MB of base64); the host scans the entity and
    // the decoded attachment (and the text), clamdscan the entity (clamd decodes the MIME itself).
    {
      const size = quick ? 1 : 10;
      const bytes = mailWithAttachment(size * MB);
      const file = join(tmp, `mail-${size}.eml`);
      writeFileSync(file, bytes);
      const digest = sha256(bytes);
      const t = { clamdscan: [], host: [] };
      let parts = 0;
      for (let i = 0; i < RUNS; i++) {
        t.clamdscan.push(clamdscan(file));
        const r = await host.scan(bytes, digest, CHUNK);
        if (r.verdict.verdict !== 'clean') throw new Error(`mail: ${JSON.stringify(r.verdict)}`);
        parts = r.verdict.scannedParts;
        t.host.push(r.ms);
      }
      result.bigMail = { size, entityBytes: bytes.length, scannedParts: parts, clamdscanMs: median(t.clamdscan), hostMs: median(t.host) };
    }

    // ---- A batch of typical mails ----
    const rng = mulberry32(20260101);
    const mails = Array.from({ length: MAILS }, (_, i) => typicalMail(m, rng, i));
    const files = mails.map((x, i) => {
      const f = join(tmp, `mail-${String(i).padStart(3, '0')}.eml`);
      writeFileSync(f, x.bytes);
      return f;
    });
    const digests = mails.map((x) => sha256(x.bytes));
    const expectedScans = mails.map((x) => 1 + m.splitMessage(x.bytes).length);
    const totalBytes = mails.reduce((a, x) => a + x.bytes.length, 0);
    const batch = {
      mails: MAILS,
      withAttachment: mails.filter((x) => x.attachment).length,
      nested: mails.filter((x) => x.nested).length,
      meanKiB: totalBytes / MAILS / 1024,
      scansPerMail: expectedScans.reduce((a, b) => a + b, 0) / MAILS,
      scansPerMailMin: Math.min(...expectedScans),
      scansPerMailMax: Math.max(...expectedScans),
    };
    const checkVerdict = (v, i) => {
      if (v.verdict !== 'clean' || v.scannedParts !== expectedScans[i]) throw new Error(`mail ${i}: ${JSON.stringify(v)} (expected ${expectedScans[i]} clean scans)`);
    };
    t0 = performance.now();
    for (let i = 0; i < MAILS; i++) checkVerdict((await host.scan(mails[i].bytes, digests[i], CHUNK)).verdict, i);
    batch.hostSequentialS = (performance.now() - t0) / 1000;
    t0 = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        while (next < MAILS) {
          const i = next++;
          checkVerdict((await host.scan(mails[i].bytes, digests[i], CHUNK)).verdict, i);
        }
      }),
    );
    batch.host4S = (performance.now() - t0) / 1000;
    t0 = performance.now();
    for (const f of files) clamdscan(f);
    batch.clamdscanPerMailS = (performance.now() - t0) / 1000;
    t0 = performance.now();
    timeProc('clamdscan', [`--config-file=${clamdConf}`, '--stream', '--no-summary', ...files]);
    batch.clamdscanOneProcessS = (performance.now() - t0) / 1000;
    // The CLI pays Node start-up and the canary self-test per mail: a sample is enough.
    const cliSample = quick ? 10 : 40;
    t0 = performance.now();
    for (let i = 0; i < cliSample; i++) timeProc(process.execPath, [CLI, 'scan', '--scanner', clamd.url, files[i]]);
    batch.cliSample = cliSample;
    batch.cliPerMailMs = (performance.now() - t0) / cliSample;
    result.batch = batch;

    // ---- ICAP (c-icap avscan in front of the same clamd) ----
    let cicap;
    try {
      cicap = await m.startCicap({ clamdSocket: clamd.socketPath });
      const ih = await startHost(cicap.avscanUrl);
      const warmI = opaqueObject(1 * MB);
      const first = await ih.scan(warmI, sha256(warmI), CHUNK);
      if (first.verdict.verdict !== 'unscanned' || !/could not split/.test(first.verdict.message)) throw new Error(`icap warm-up: ${JSON.stringify(first.verdict)}`);
      const size = quick ? 1 : 10;
      const bytes = opaqueObject(size * MB);
      const file = join(tmp, `object-${size}.bin`);
      writeFileSync(file, bytes);
      const digest = sha256(bytes);
      const t = { clamdscan: [], host: [], cli: [] };
      for (let i = 0; i < RUNS; i++) {
        t.clamdscan.push(clamdscan(file));
        const r = await ih.scan(bytes, digest, CHUNK);
        if (r.verdict.verdict !== 'unscanned' || !/could not split/.test(r.verdict.message)) throw new Error(`icap: ${JSON.stringify(r.verdict)}`);
        t.host.push(r.ms);
        t.cli.push(cliScan(file, cicap.avscanUrl));
      }
      result.icap = { size, firstScan1MbMs: first.ms, clamdscanMs: median(t.clamdscan), hostMs: median(t.host), cliMs: median(t.cli) };
    } finally {
      await cicap?.stop();
    }
  } finally {
    await Promise.all(hosts.map((h) => h.close()));
    await clamd.stop();
    rmSync(tmp, { recursive: true, force: true });
  }

  print(result, log);
  return result;
}

async function sequence(n, fn) {
  const out = [];
  for (let i = 0; i < n; i++) out.push(await fn());
  return out;
}

function print(r, log) {
  const fx = r.fixed;
  log(`\nBridge: scanning through Unseal vs clamdscan --stream on the same bytes (${r.machine.cpus} CPUs, Node ${r.machine.node}; median of ${r.runs} runs; ratio = path / clamdscan)`);
  log('object  clamdscan ms   host ms  ratio  host* ms  ratio   CLI ms  ratio   CLI-canary ms  ratio');
  for (const o of r.objects) {
    log(
      `${`${o.size} MB`.padEnd(6)} ${f1(o.clamdscanMs).padStart(12)} ${f1(o.hostMs).padStart(9)} ${f2(o.hostMs / o.clamdscanMs).padStart(6)} ${f1(o.hostAheadMs).padStart(9)} ${f2(o.hostAheadMs / o.clamdscanMs).padStart(6)} ${f1(o.cliMs).padStart(8)} ${f2(o.cliMs / o.clamdscanMs).padStart(6)} ${f1(o.cliNoCanaryMs).padStart(15)} ${f2(o.cliNoCanaryMs / o.clamdscanMs).padStart(6)}`,
    );
  }
  log('host = scan.begin → scan.result, chunks encoded as sent (as the add-on does); host* = frames encoded before the clock starts (pipe + host only)');
  log(`fixed costs: CLI start-up (unseal scan --help) ${f1(fx.cliStartupMs)} ms; canary self-test in-process ${f1(fx.canaryInProcessMs)} ms;`);
  log(`  host spawn→hello ${f1(fx.hostHelloMs)} ms; health (runs canaries) ${f1(fx.hostHealthMs)} ms; first 1 MB scan ${f1(fx.hostFirstScan1MbMs)} ms vs warm ${f1(fx.hostWarm1MbMs)} ms (first-scan canary cost ≈ ${f1(fx.hostFirstScan1MbMs - fx.hostWarm1MbMs)} ms)`);
  const bm = r.bigMail;
  log(`mail with a ${bm.size} MB attachment (${f1(bm.entityBytes / MB)} MB entity, host scans ${bm.scannedParts} objects): clamdscan ${f1(bm.clamdscanMs)} ms, host ${f1(bm.hostMs)} ms, ratio ${f2(bm.hostMs / bm.clamdscanMs)}`);
  const b = r.batch;
  log(`\nBatch: ${b.mails} typical mails (${b.withAttachment} with an attachment, ${b.nested} with a nested message; mean ${f0(b.meanKiB)} KiB; ${f2(b.scansPerMail)} scans per mail, ${b.scansPerMailMin}–${b.scansPerMailMax})`);
  const rate = (s) => `${f1(b.mails / s)} mails/s`;
  log(`  host sequential          ${rate(b.hostSequentialS).padStart(16)}  (${f1((b.mails * b.scansPerMail) / b.hostSequentialS)} scans/s)`);
  log(`  host, 4 concurrent scans ${rate(b.host4S).padStart(16)}  (${f1((b.mails * b.scansPerMail) / b.host4S)} scans/s)`);
  log(`  unseal scan per mail     ${`${f1(1000 / b.cliPerMailMs)} mails/s`.padStart(16)}  (${f0(b.cliPerMailMs)} ms per mail, sample of ${b.cliSample})`);
  log(`  clamdscan per mail       ${rate(b.clamdscanPerMailS).padStart(16)}  (one scan per mail, whole process each)`);
  log(`  clamdscan, one process   ${rate(b.clamdscanOneProcessS).padStart(16)}  (one scan per mail)`);
  if (r.icap) {
    const i = r.icap;
    log(`\nICAP (c-icap avscan → same clamd), ${i.size} MB object: clamdscan ${f1(i.clamdscanMs)} ms, host ${f1(i.hostMs)} ms (ratio ${f2(i.hostMs / i.clamdscanMs)}), CLI ${f1(i.cliMs)} ms (ratio ${f2(i.cliMs / i.clamdscanMs)}); first 1 MB scan incl. canaries ${f1(i.firstScan1MbMs)} ms`);
  }
  log('Target: host and CLI <= 1.1x clamdscan.');
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const r = await runBridge({ quick: process.argv.includes('--quick') });
  if (process.argv.includes('--json')) console.log(JSON.stringify(r, null, 2));
}
