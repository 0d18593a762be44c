/**
 * Legacy-cipher benchmark that runs unchanged in Node, in Thunderbird's chrome context and in an
 * add-on background page (bundled as an iife, global `UnsealLegacyBench`). Times 3DES-CBC decrypt
 * (and DES, RC2) through the JS code and through WebAssembly on the same random bytes.
 */
import * as jsDes from '../../src/core/crypto/des.js';
import * as jsRc2 from '../../src/core/crypto/rc2.js';
import * as wasm from '../../src/core/crypto/wasm/legacy.js';

export interface BenchOptions { mb: number; jsRuns: number; wasmRuns: number; ciphers?: string[] }
export interface CipherResult { cipher: string; mb: number; jsMs: number[]; wasmMs: number[]; firstWasmMs: number; equal: boolean | null }
export interface BenchResult { backend: string; wasmCompileError: string | null; results: CipherResult[]; ua: string }

function randomBytes(n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let off = 0; off < n; off += 65536) crypto.getRandomValues(out.subarray(off, Math.min(n, off + 65536)));
  return out;
}

function same(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  const x = new Int32Array(a.buffer, a.byteOffset, a.length >> 2);
  const y = new Int32Array(b.buffer, b.byteOffset, b.length >> 2);
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}

type Fn = (key: Uint8Array, iv: Uint8Array, data: Uint8Array) => Uint8Array;
const CIPHERS: Record<string, { keyLen: number; js: Fn; wasm: Fn }> = {
  'des-ede3-cbc': { keyLen: 24, js: jsDes.desEde3CbcDecrypt, wasm: wasm.desEde3CbcDecrypt },
  'des-cbc': { keyLen: 8, js: jsDes.desCbcDecrypt, wasm: wasm.desCbcDecrypt },
  'rc2-cbc-128': { keyLen: 16, js: (k, i, d) => jsRc2.rc2CbcDecrypt(k, 128, i, d), wasm: (k, i, d) => wasm.rc2CbcDecrypt(k, 128, i, d) },
};

export function run(o: BenchOptions): BenchResult {
  let wasmCompileError: string | null = null;
  try {
    const b64 = 'AGFzbQEAAAA='; // an empty module: does this context allow compiling WebAssembly at all?
    new WebAssembly.Module(Uint8Array.from(atob(b64), (c) => c.charCodeAt(0)));
  } catch (e) {
    wasmCompileError = String(e);
  }
  const backend = wasm.legacyCipherBackend();
  const data = randomBytes(o.mb * 1024 * 1024);
  const iv = randomBytes(8);
  const results: CipherResult[] = [];
  for (const name of o.ciphers ?? ['des-ede3-cbc']) {
    const c = CIPHERS[name]!;
    const key = randomBytes(c.keyLen);
    const wasmMs: number[] = [];
    let wOut: Uint8Array | undefined;
    for (let i = 0; i < o.wasmRuns; i++) {
      const t = performance.now();
      wOut = c.wasm(key, iv, data);
      wasmMs.push(performance.now() - t);
    }
    const jsMs: number[] = [];
    let jOut: Uint8Array | undefined;
    for (let i = 0; i < o.jsRuns; i++) {
      const t = performance.now();
      jOut = c.js(key, iv, data);
      jsMs.push(performance.now() - t);
    }
    results.push({ cipher: name, mb: o.mb, jsMs, wasmMs, firstWasmMs: wasmMs[0] ?? NaN, equal: wOut && jOut ? same(wOut, jOut) : null });
  }
  return { backend, wasmCompileError, results, ua: typeof navigator === 'object' ? navigator.userAgent : `node ${globalThis.process?.version}` };
}
