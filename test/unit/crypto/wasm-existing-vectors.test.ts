/**
 * Runs the whole existing legacy-ciphers.test.ts (FIPS 81, SP 800-67, RFC 2268, openssl enc vectors,
 * error cases) a second time with ../des.js and ../rc2.js swapped for the WebAssembly versions.
 */
import { afterAll, expect, it, vi } from 'vitest';

type Fn = (...a: never[]) => Uint8Array;
const wasm = vi.hoisted(() => ({ fns: {} as Record<string, Fn>, calls: 0 }));
const via = (name: string) => (...a: never[]) => {
  wasm.calls++;
  return wasm.fns[name]!(...a);
};

vi.mock('../../../src/core/crypto/des.js', async (importOriginal) => ({
  ...(await importOriginal<object>()),
  desCbcDecrypt: via('desCbcDecrypt'),
  desCbcEncrypt: via('desCbcEncrypt'),
  desEde3CbcDecrypt: via('desEde3CbcDecrypt'),
  desEde3CbcEncrypt: via('desEde3CbcEncrypt'),
}));
vi.mock('../../../src/core/crypto/rc2.js', async (importOriginal) => ({
  ...(await importOriginal<object>()),
  rc2CbcDecrypt: via('rc2CbcDecrypt'),
  rc2CbcEncrypt: via('rc2CbcEncrypt'),
}));

const w = await import('../../../src/core/crypto/wasm/legacy.js');
Object.assign(wasm.fns, {
  desCbcDecrypt: w.desCbcDecrypt,
  desCbcEncrypt: w.desCbcEncrypt,
  desEde3CbcDecrypt: w.desEde3CbcDecrypt,
  desEde3CbcEncrypt: w.desEde3CbcEncrypt,
  rc2CbcDecrypt: w.rc2CbcDecrypt,
  rc2CbcEncrypt: w.rc2CbcEncrypt,
});

it('the swapped-in functions really run in WebAssembly (no silent JS fallback)', () => {
  expect(w.legacyCipherBackend()).toBe('wasm');
});

afterAll(() => {
  // The mock reached the imported test file: every DES/RC2 vector above went through here.
  expect(wasm.calls).toBeGreaterThanOrEqual(40);
});

await import('./legacy-ciphers.test.js');
