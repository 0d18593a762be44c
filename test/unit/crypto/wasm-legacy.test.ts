import { readFileSync } from 'node:fs';
import { webcrypto } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { cbcDecrypt, cbcEncrypt, type CbcCipher } from '../../../src/core/crypto/block-cipher.js';
import * as jsDes from '../../../src/core/crypto/des.js';
import * as jsRc2 from '../../../src/core/crypto/rc2.js';
import * as wasm from '../../../src/core/crypto/wasm/legacy.js';
import { UnsealError } from '../../../src/core/errors.js';
import { FIXTURES, hex, toHex } from './load-rsa-key.js';

interface CipherVector { name: string; cipher: string; key: string; iv: string; bits: number; pt: string; ct: string }
const VECTORS: CipherVector[] = JSON.parse(readFileSync(FIXTURES + 'cipher-vectors.json', 'utf8'));
const vec = (name: string) => VECTORS.find((v) => v.name === name)!;
const ZERO_IV = new Uint8Array(8);
const subtle = webcrypto.subtle as unknown as SubtleCrypto;

interface Impl {
  desCbcDecrypt: typeof jsDes.desCbcDecrypt;
  desCbcEncrypt: typeof jsDes.desCbcEncrypt;
  desEde3CbcDecrypt: typeof jsDes.desEde3CbcDecrypt;
  desEde3CbcEncrypt: typeof jsDes.desEde3CbcEncrypt;
  rc2CbcDecrypt: typeof jsRc2.rc2CbcDecrypt;
  rc2CbcEncrypt: typeof jsRc2.rc2CbcEncrypt;
}
const JS: Impl = { ...jsDes, ...jsRc2 };
const PATHS: [string, Impl][] = [['js', JS], ['wasm', wasm]];

afterEach(() => wasm.setLegacyWasmEnabled(true));

/** Deterministic xorshift32 bytes, so a failure reproduces. */
function prng(seed: number): (n: number) => Uint8Array {
  let s = seed >>> 0 || 1;
  return (n) => {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
      out[i] = s & 0xff;
    }
    return out;
  };
}

it('WebAssembly is available in Node, so the wasm path below is not the JS fallback', () => {
  expect(wasm.legacyCipherBackend()).toBe('wasm');
  wasm.setLegacyWasmEnabled(false);
  expect(wasm.legacyCipherBackend()).toBe('js');
});

describe.each(PATHS)('known answers through the %s path', (path, c) => {
  it('DES: FIPS 81 Appendix B CBC example', () => {
    const pt = new TextEncoder().encode('Now is the time for all ');
    const ct = 'e5c7cdde872bf27c43e934008c389c0f683788499a7c05f6';
    expect(toHex(c.desCbcEncrypt(hex('0123456789abcdef'), hex('1234567890abcdef'), pt))).toBe(ct);
    expect(toHex(c.desCbcDecrypt(hex('0123456789abcdef'), hex('1234567890abcdef'), hex(ct)))).toBe(toHex(pt));
  });

  it.each([
    ['133457799bbcdff1', '0123456789abcdef', '85e813540f0ab405'],
    ['0101010101010101', '8000000000000000', '95f8a5e5dd31d900'],
    ['0123456789abcdef', '4e6f772069732074', '3fa40e8a984d4815'],
  ])('DES single block, key %s', (k, p, ct) => {
    expect(toHex(c.desCbcEncrypt(hex(k), ZERO_IV, hex(p)))).toBe(ct);
    expect(toHex(c.desCbcDecrypt(hex(k), ZERO_IV, hex(ct)))).toBe(p);
  });

  it('3DES: NIST SP 800-67 example', () => {
    const key = hex('0123456789abcdef23456789abcdef01456789abcdef0123');
    const pt = new TextEncoder().encode('The qufck brown fox jump');
    const ct = ['a826fd8ce53b855f', 'cce21c8112256fe6', '68d5c05dd9b6b900'];
    for (let i = 0; i < 3; i++) {
      expect(toHex(c.desEde3CbcEncrypt(key, ZERO_IV, pt.subarray(8 * i, 8 * i + 8)))).toBe(ct[i]);
      expect(toHex(c.desEde3CbcDecrypt(key, ZERO_IV, hex(ct[i]!)))).toBe(toHex(pt.subarray(8 * i, 8 * i + 8)));
    }
  });

  it.each([
    ['des-cbc', 'des'],
    ['des-ede3-cbc', 'ede3'],
    ['des-ede-cbc', 'ede3'], // two-key 3DES
  ] as const)('openssl enc %s', (name, kind) => {
    const v = vec(name);
    const [enc, dec] = kind === 'des' ? [c.desCbcEncrypt, c.desCbcDecrypt] : [c.desEde3CbcEncrypt, c.desEde3CbcDecrypt];
    expect(toHex(dec(hex(v.key), hex(v.iv), hex(v.ct)))).toBe(v.pt);
    expect(toHex(enc(hex(v.key), hex(v.iv), hex(v.pt)))).toBe(v.ct);
  });

  it.each([
    ['0000000000000000', 63, '0000000000000000', 'ebb773f993278eff'],
    ['ffffffffffffffff', 64, 'ffffffffffffffff', '278b27e42e2f0d49'],
    ['3000000000000000', 64, '1000000000000001', '30649edf9be7d2c2'],
    ['88', 64, '0000000000000000', '61a8a244adacccf0'],
    ['88bca90e90875a', 64, '0000000000000000', '6ccf4308974c267f'],
    ['88bca90e90875a7f0f79c384627bafb2', 64, '0000000000000000', '1a807d272bbe5db1'],
    ['88bca90e90875a7f0f79c384627bafb2', 128, '0000000000000000', '2269552ab0f85ca6'],
    ['88bca90e90875a7f0f79c384627bafb216f80a6f85920584c42fceb0be255daf1e', 129, '0000000000000000', '5b78d3a43dfff1f1'],
  ])('RC2: RFC 2268 key %s, %i bits', (k, bits, p, ct) => {
    expect(toHex(c.rc2CbcEncrypt(hex(k), bits, ZERO_IV, hex(p)))).toBe(ct);
    expect(toHex(c.rc2CbcDecrypt(hex(k), bits, ZERO_IV, hex(ct)))).toBe(p);
  });

  it.each(['rc2-128', 'rc2-64', 'rc2-40'])('openssl enc %s', (name) => {
    const v = vec(name);
    expect(toHex(c.rc2CbcDecrypt(hex(v.key), v.bits, hex(v.iv), hex(v.ct)))).toBe(v.pt);
    expect(toHex(c.rc2CbcEncrypt(hex(v.key), v.bits, hex(v.iv), hex(v.pt)))).toBe(v.ct);
  });

  it('block-cipher dispatch (cbcDecrypt/cbcEncrypt) gives the openssl answers', async () => {
    wasm.setLegacyWasmEnabled(path === 'wasm');
    expect(wasm.legacyCipherBackend()).toBe(path);
    for (const [name, cipher, bits] of [
      ['des-cbc', 'des-cbc', undefined],
      ['des-ede3-cbc', 'des-ede3-cbc', undefined],
      ['des-ede-cbc', 'des-ede3-cbc', undefined],
      ['rc2-40', 'rc2-cbc', 40],
      ['rc2-128', 'rc2-cbc', 128],
    ] as const) {
      const v = vec(name);
      const p = { cipher: cipher as CbcCipher, key: hex(v.key), iv: hex(v.iv), rc2EffectiveBits: bits };
      expect(toHex(await cbcDecrypt(subtle, { ...p, data: hex(v.ct), padding: false }))).toBe(v.pt);
      expect(toHex(await cbcEncrypt(subtle, { ...p, data: hex(v.pt), padding: false }))).toBe(v.ct);
      const padded = await cbcEncrypt(subtle, { ...p, data: hex(v.pt).subarray(3), padding: true });
      expect(toHex(await cbcDecrypt(subtle, { ...p, data: padded, padding: true }))).toBe(v.pt.slice(6));
    }
  });
});

describe('randomized cross-check: WebAssembly equals the JS code', () => {
  // 65,536 is the wasm side's chunk size: lengths around it test chaining across calls.
  const LENGTHS = [0, 8, 16, 24, 4096, 65528, 65536, 65544, 131072 + 40, 300_000];

  it('DES, two-key and three-key 3DES, both directions, many keys and IVs', () => {
    const rnd = prng(0x5eed);
    for (let i = 0; i < 60; i++) {
      const len = i < LENGTHS.length ? LENGTHS[i]! : 8 * (rnd(2)[0]! * 3 + rnd(1)[0]!);
      const data = rnd(len);
      const iv = rnd(8);
      const copy = data.slice();
      for (const [kl, dec, enc, jdec, jenc] of [
        [8, wasm.desCbcDecrypt, wasm.desCbcEncrypt, JS.desCbcDecrypt, JS.desCbcEncrypt],
        [16, wasm.desEde3CbcDecrypt, wasm.desEde3CbcEncrypt, JS.desEde3CbcDecrypt, JS.desEde3CbcEncrypt],
        [24, wasm.desEde3CbcDecrypt, wasm.desEde3CbcEncrypt, JS.desEde3CbcDecrypt, JS.desEde3CbcEncrypt],
      ] as const) {
        const key = rnd(kl);
        const d = dec(key, iv, data);
        expect(Buffer.from(d).equals(Buffer.from(jdec(key, iv, data))), `decrypt len ${len} key ${kl}`).toBe(true);
        const e = enc(key, iv, data);
        expect(Buffer.from(e).equals(Buffer.from(jenc(key, iv, data))), `encrypt len ${len} key ${kl}`).toBe(true);
        expect(Buffer.from(dec(key, iv, e)).equals(Buffer.from(data))).toBe(true);
        expect(d.buffer).not.toBe(data.buffer);
      }
      expect(Buffer.from(data).equals(Buffer.from(copy)), 'input left untouched').toBe(true);
    }
  });

  it('RC2, key lengths 1..128 bytes and effective bits 1..1024', () => {
    const rnd = prng(0x2268);
    for (let i = 0; i < 60; i++) {
      const len = i < LENGTHS.length ? LENGTHS[i]! : 8 * rnd(1)[0]!;
      const data = rnd(len);
      const iv = rnd(8);
      const key = rnd(1 + (rnd(1)[0]! % 128));
      const r = rnd(2);
      const bits = 1 + (((r[0]! << 8) | r[1]!) % 1024);
      const d = wasm.rc2CbcDecrypt(key, bits, iv, data);
      expect(Buffer.from(d).equals(Buffer.from(JS.rc2CbcDecrypt(key, bits, iv, data))), `len ${len} key ${key.length} bits ${bits}`).toBe(true);
      const e = wasm.rc2CbcEncrypt(key, bits, iv, data);
      expect(Buffer.from(e).equals(Buffer.from(JS.rc2CbcEncrypt(key, bits, iv, data)))).toBe(true);
    }
  });

  it('a message bigger than the retained memory (17 MB) then a small one', () => {
    const rnd = prng(7);
    const key = rnd(24);
    const iv = rnd(8);
    const big = new Uint8Array(17 * 1024 * 1024);
    big.set(rnd(4096), big.length - 4096);
    const tail = (a: Uint8Array) => toHex(a.subarray(a.length - 4096));
    expect(tail(wasm.desEde3CbcDecrypt(key, iv, big))).toBe(tail(JS.desEde3CbcDecrypt(key, iv, big)));
    const v = vec('des-ede3-cbc');
    expect(toHex(wasm.desEde3CbcDecrypt(hex(v.key), hex(v.iv), hex(v.ct)))).toBe(v.pt);
  });
});

describe('the wasm path fails exactly like the JS code', () => {
  const cases: [string, (c: Impl) => unknown][] = [
    ['ragged DES data', (c) => c.desCbcDecrypt(hex('0123456789abcdef'), ZERO_IV, new Uint8Array(12))],
    ['7-byte DES key', (c) => c.desCbcDecrypt(new Uint8Array(7), ZERO_IV, new Uint8Array(8))],
    ['8-byte 3DES key', (c) => c.desEde3CbcDecrypt(new Uint8Array(8), ZERO_IV, new Uint8Array(8))],
    ['7-byte DES IV', (c) => c.desCbcEncrypt(new Uint8Array(8), new Uint8Array(7), new Uint8Array(8))],
    ['empty RC2 key', (c) => c.rc2CbcDecrypt(new Uint8Array(0), 40, ZERO_IV, new Uint8Array(8))],
    ['0 effective bits', (c) => c.rc2CbcDecrypt(new Uint8Array(5), 0, ZERO_IV, new Uint8Array(8))],
    ['1025 effective bits', (c) => c.rc2CbcDecrypt(new Uint8Array(5), 1025, ZERO_IV, new Uint8Array(8))],
    ['129-byte RC2 key', (c) => c.rc2CbcEncrypt(new Uint8Array(129), 64, ZERO_IV, new Uint8Array(8))],
    ['ragged RC2 data', (c) => c.rc2CbcDecrypt(new Uint8Array(5), 40, ZERO_IV, new Uint8Array(9))],
    ['9-byte RC2 IV', (c) => c.rc2CbcDecrypt(new Uint8Array(5), 40, new Uint8Array(9), new Uint8Array(8))],
  ];
  it.each(cases)('%s', (_, call) => {
    const err = (c: Impl) => {
      try {
        call(c);
      } catch (e) {
        return e;
      }
      return undefined;
    };
    const [j, w] = [err(JS), err(wasm)];
    expect(j).toBeInstanceOf(UnsealError);
    expect(w).toBeInstanceOf(UnsealError);
    expect([(w as UnsealError).kind, (w as UnsealError).message]).toEqual([(j as UnsealError).kind, (j as UnsealError).message]);
  });
});
