/**
 * DES, 3DES-EDE and RC2 in CBC mode through WebAssembly, with the table-driven JS code of ../des.ts
 * and ../rc2.ts as the fallback. Same functions, signatures, errors and results as those modules.
 *
 * Why: Debian's Thunderbird runs with the JS baseline JIT off (`javascript.options.baselinejit`),
 * which makes the JS ciphers 9–20× slower there than in Node; WebAssembly's compilers do not depend
 * on that pref (figures in docs/benchmarks.md, "Legacy ciphers inside Thunderbird").
 *
 * The module (assembly/legacy.ts, ~3.6 KB, no imports) is embedded as base64 and compiled
 * synchronously once, on first use. Each call copies the message into the module's memory once,
 * works in place, copies the result out once and wipes the key material and the message area.
 * Memory grows to fit the message; an instance whose memory grew past RETAIN_BYTES is dropped after
 * the call (WebAssembly memory cannot shrink) and the next call instantiates the compiled module
 * again, which is cheap. WebAssembly missing or refused, or memory that cannot grow, means the JS
 * code runs instead. Thunderbird's default MV3 CSP refuses it (measured): an extension page that
 * decrypts needs `'wasm-unsafe-eval'` in `content_security_policy.extension_pages`.
 */
import { asBufferSource, base64Decode } from '../../bytes.js';
import { UnsealError } from '../../errors.js';
import * as jsDes from '../des.js';
import * as jsRc2 from '../rc2.js';
import { LEGACY_WASM_BASE64 } from './legacy-wasm.generated.js';

interface LegacyExports {
  memory: WebAssembly.Memory;
  keyPtr(): number;
  ivPtr(): number;
  rc2KeyPtr(): number;
  dataPtr(): number;
  desSetup(keyLen: number, decrypt: number): number;
  desCbc(off: number, len: number, stages: number, encrypt: number): void;
  rc2Cbc(off: number, len: number, encrypt: number): void;
  wipe(len: number): void;
}

/** Keep the instance between calls while its memory is at most this big. */
const RETAIN_BYTES = 16 * 1024 * 1024;
const PAGE = 65536;
/**
 * Bytes per call into the module. Engines compile WebAssembly with a fast baseline tier first and
 * swap in optimized code between calls, never inside a running one (V8's first 10 MB call ran at
 * 3 MB/s in Liftoff vs 15–21 MB/s optimized): chunks let a big message reach the fast tier.
 */
const CHUNK = 64 * 1024;

let compiled: WebAssembly.Module | null | undefined;
let retained: LegacyExports | undefined;
let enabled = true;

function compiledModule(): WebAssembly.Module | null {
  if (compiled === undefined) {
    try {
      compiled = typeof WebAssembly === 'object' ? new WebAssembly.Module(asBufferSource(base64Decode(LEGACY_WASM_BASE64))) : null;
    } catch {
      compiled = null;
    }
  }
  return compiled;
}

/** Whether the next call goes to WebAssembly ('wasm') or to the JS code ('js'). */
export function legacyCipherBackend(): 'wasm' | 'js' {
  return enabled && compiledModule() !== null ? 'wasm' : 'js';
}

/** Turns the WebAssembly path off (true restores it): for tests and benchmarks of the JS path. */
export function setLegacyWasmEnabled(on: boolean): void {
  enabled = on;
  if (!on) retained = undefined;
}

/**
 * Runs `work` on an instance whose memory holds `data` at dataPtr(); returns the processed bytes,
 * or undefined when WebAssembly cannot be used (then the caller runs the JS code).
 */
function run(data: Uint8Array, key: Uint8Array, keyAt: (x: LegacyExports) => number, work: (x: LegacyExports) => void, into?: Uint8Array): Uint8Array | undefined {
  if (!enabled) return undefined;
  const mod = compiledModule();
  if (mod === null) return undefined;
  let x = retained;
  retained = undefined;
  try {
    x ??= new WebAssembly.Instance(mod, {}).exports as unknown as LegacyExports;
  } catch {
    return undefined;
  }
  const ptr = x.dataPtr();
  const need = ptr + data.length;
  if (x.memory.buffer.byteLength < need) {
    try {
      x.memory.grow(Math.ceil((need - x.memory.buffer.byteLength) / PAGE));
    } catch {
      return undefined; // out of address space or memory: the JS code allocates less
    }
  }
  try {
    const mem = new Uint8Array(x.memory.buffer);
    mem.set(key, keyAt(x));
    mem.set(data, ptr);
    work(x);
    const result = new Uint8Array(x.memory.buffer, ptr, data.length);
    if (!into) return result.slice();
    into.set(result);
    return into.subarray(0, data.length);
  } finally {
    x.wipe(data.length);
    if (x.memory.buffer.byteLength <= RETAIN_BYTES) retained = x;
  }
}

function checkDesKey(key: Uint8Array, lengths: readonly number[]): void {
  if (!lengths.includes(key.length)) {
    throw new UnsealError('decryption_failed', `DES key must be ${lengths.join(' or ')} bytes, got ${key.length}`);
  }
}

function checkBlocks(iv: Uint8Array, data: Uint8Array, name: string): void {
  if (iv.length !== 8) throw new UnsealError('decryption_failed', `${name} needs an 8-byte IV`);
  if (data.length % 8 !== 0) throw new UnsealError('decryption_failed', 'could not decrypt');
}

function desRun(key: Uint8Array, iv: Uint8Array, data: Uint8Array, encrypt: boolean, into?: Uint8Array): Uint8Array | undefined {
  return run(
    data,
    key,
    (x) => x.keyPtr(),
    (x) => {
      new Uint8Array(x.memory.buffer).set(iv, x.ivPtr());
      const stages = x.desSetup(key.length, encrypt ? 0 : 1);
      for (let off = 0; off < data.length; off += CHUNK) x.desCbc(off, Math.min(CHUNK, data.length - off), stages, encrypt ? 1 : 0);
    },
    into,
  );
}

/** The JS fallback's result where the caller wants it (see `into` on the decrypt functions). */
function placed(r: Uint8Array, into: Uint8Array | undefined): Uint8Array {
  if (!into) return r;
  into.set(r);
  return into.subarray(0, r.length);
}

/** `into`: write the plaintext there (at least data.length bytes) instead of a new array; returns that view. */
export function desCbcDecrypt(key: Uint8Array, iv: Uint8Array, data: Uint8Array, into?: Uint8Array): Uint8Array {
  checkDesKey(key, [8]);
  checkBlocks(iv, data, 'DES');
  return desRun(key, iv, data, false, into) ?? placed(jsDes.desCbcDecrypt(key, iv, data), into);
}

export function desCbcEncrypt(key: Uint8Array, iv: Uint8Array, data: Uint8Array): Uint8Array {
  checkDesKey(key, [8]);
  checkBlocks(iv, data, 'DES');
  return desRun(key, iv, data, true) ?? jsDes.desCbcEncrypt(key, iv, data);
}

export function desEde3CbcDecrypt(key: Uint8Array, iv: Uint8Array, data: Uint8Array, into?: Uint8Array): Uint8Array {
  checkDesKey(key, [16, 24]);
  checkBlocks(iv, data, 'DES');
  return desRun(key, iv, data, false, into) ?? placed(jsDes.desEde3CbcDecrypt(key, iv, data), into);
}

export function desEde3CbcEncrypt(key: Uint8Array, iv: Uint8Array, data: Uint8Array): Uint8Array {
  checkDesKey(key, [16, 24]);
  checkBlocks(iv, data, 'DES');
  return desRun(key, iv, data, true) ?? jsDes.desEde3CbcEncrypt(key, iv, data);
}

function rc2Run(key: Uint8Array, effectiveBits: number, iv: Uint8Array, data: Uint8Array, encrypt: boolean, into?: Uint8Array): Uint8Array | undefined {
  checkBlocks(iv, data, 'RC2');
  // The key schedule (and its validation) is the JS one: 64 words, microseconds even unjitted.
  const k = jsRc2.rc2KeySchedule(key, effectiveBits);
  const kBytes = new Uint8Array(128);
  for (let i = 0; i < 64; i++) {
    kBytes[2 * i] = k[i]! & 0xff;
    kBytes[2 * i + 1] = k[i]! >>> 8;
  }
  try {
    return run(
      data,
      kBytes,
      (x) => x.rc2KeyPtr(),
      (x) => {
        new Uint8Array(x.memory.buffer).set(iv, x.ivPtr());
        for (let off = 0; off < data.length; off += CHUNK) x.rc2Cbc(off, Math.min(CHUNK, data.length - off), encrypt ? 1 : 0);
      },
      into,
    );
  } finally {
    kBytes.fill(0);
    k.fill(0);
  }
}

export function rc2CbcDecrypt(key: Uint8Array, effectiveBits: number, iv: Uint8Array, data: Uint8Array, into?: Uint8Array): Uint8Array {
  return rc2Run(key, effectiveBits, iv, data, false, into) ?? placed(jsRc2.rc2CbcDecrypt(key, effectiveBits, iv, data), into);
}

export function rc2CbcEncrypt(key: Uint8Array, effectiveBits: number, iv: Uint8Array, data: Uint8Array): Uint8Array {
  return rc2Run(key, effectiveBits, iv, data, true) ?? jsRc2.rc2CbcEncrypt(key, effectiveBits, iv, data);
}
