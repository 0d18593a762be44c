import { readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import {
  bigIntToBytes,
  bytesToBigInt,
  rsaDecryptOaep,
  rsaDecryptPkcs1v15,
  rsaDecryptRaw,
  rsaEncryptOaep,
  rsaEncryptPkcs1v15,
  rsaModulusBytes,
  type HashName,
  type RsaPrivateKey,
} from '../../../src/core/crypto/rsa.js';
import { UnsealError } from '../../../src/core/errors.js';
import { FIXTURES, hex, loadRsaKey, toHex } from './load-rsa-key.js';

interface OpensslVector {
  key: string;
  mode: 'pkcs1' | 'oaep';
  hash: string;
  mgf1: string;
  label: string;
  msg: string;
  ct: string;
}
const VECTORS: OpensslVector[] = JSON.parse(readFileSync(FIXTURES + 'rsa-vectors.json', 'utf8'));
const KEYS: Record<string, RsaPrivateKey> = {
  rsa2048: loadRsaKey('keys/rsa2048.key'),
  rsa3072: loadRsaKey('keys/rsa3072.key'),
  rsa4096: loadRsaKey('keys/rsa4096.key'),
};
const HASH: Record<string, HashName> = {
  sha1: 'SHA-1',
  sha224: 'SHA-224',
  sha256: 'SHA-256',
  sha384: 'SHA-384',
  sha512: 'SHA-512',
};

function expectDecryptFailed(f: () => unknown): void {
  let err: unknown;
  try {
    f();
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(UnsealError);
  expect((err as UnsealError).kind).toBe('decryption_failed');
  expect((err as UnsealError).message).toBe('could not decrypt');
}

describe('bytesToBigInt / bigIntToBytes', () => {
  it('round-trips with leading zeros and odd hex lengths', () => {
    expect(bytesToBigInt(hex('000102'))).toBe(0x102n);
    expect(toHex(bigIntToBytes(0x102n, 4))).toBe('00000102');
    expect(toHex(bigIntToBytes(0xabcn, 2))).toBe('0abc');
    expect(toHex(bigIntToBytes(0n, 2))).toBe('0000');
    expect(bytesToBigInt(new Uint8Array(0))).toBe(0n);
    expect(() => bigIntToBytes(0x10000n, 2)).toThrow(RangeError);
  });
});

describe('RSA decryption of openssl pkeyutl ciphertexts', () => {
  for (const v of VECTORS) {
    const what = v.mode === 'pkcs1' ? 'v1.5' : `OAEP ${v.hash}/MGF1-${v.mgf1}${v.label ? ' label ' + v.label : ''}`;
    it(`${v.key} ${what}, ${v.msg.length / 2}-byte message`, () => {
      const key = KEYS[v.key]!;
      const ct = hex(v.ct);
      const got =
        v.mode === 'pkcs1'
          ? rsaDecryptPkcs1v15(key, ct)
          : rsaDecryptOaep(key, ct, { hash: HASH[v.hash]!, mgf1Hash: HASH[v.mgf1]!, label: v.label ? hex(v.label) : undefined });
      expect(toHex(got)).toBe(v.msg);
    });
  }

  it('v1.5 honours expectedLengths when the real length is among them', () => {
    const v = VECTORS.find((x) => x.mode === 'pkcs1' && x.key === 'rsa2048' && x.msg.length === 64)!;
    expect(toHex(rsaDecryptPkcs1v15(KEYS.rsa2048!, hex(v.ct), [16, 32]))).toBe(v.msg);
  });

  it('v1.5 with a length outside expectedLengths gives a synthetic key of an expected length', () => {
    const v = VECTORS.find((x) => x.mode === 'pkcs1' && x.key === 'rsa2048' && x.msg.length === 64)!;
    const a = rsaDecryptPkcs1v15(KEYS.rsa2048!, hex(v.ct), [16, 24]);
    expect([16, 24]).toContain(a.length);
    expect(toHex(a)).not.toBe(v.msg.slice(0, a.length * 2));
    expect(toHex(rsaDecryptPkcs1v15(KEYS.rsa2048!, hex(v.ct), [16, 24]))).toBe(toHex(a));
  });

  it('OAEP with the wrong label, hash or MGF1 hash fails with one uniform error', () => {
    const v = VECTORS.find((x) => x.mode === 'oaep' && x.label === '0a0b0c0d')!;
    const key = KEYS[v.key]!;
    const ct = hex(v.ct);
    expectDecryptFailed(() => rsaDecryptOaep(key, ct, { hash: 'SHA-256', mgf1Hash: 'SHA-1', label: hex('0a0b0c0e') }));
    expectDecryptFailed(() => rsaDecryptOaep(key, ct, { hash: 'SHA-256', mgf1Hash: 'SHA-1' }));
    expectDecryptFailed(() => rsaDecryptOaep(key, ct, { hash: 'SHA-256', mgf1Hash: 'SHA-256', label: hex('0a0b0c0d') }));
    expectDecryptFailed(() => rsaDecryptOaep(key, ct, { hash: 'SHA-1', mgf1Hash: 'SHA-1', label: hex('0a0b0c0d') }));
    const flipped = ct.slice();
    flipped[100] = flipped[100]! ^ 1;
    expectDecryptFailed(() => rsaDecryptOaep(key, flipped, { hash: 'SHA-256', mgf1Hash: 'SHA-1', label: hex('0a0b0c0d') }));
  });
});

describe('RSA encryption is accepted by openssl', () => {
  const keyFile = FIXTURES + 'keys/rsa2048.key';
  const key = KEYS.rsa2048!;
  const msg = hex('8f1e0d2c3b4a59687766554433221100ffeeddccbbaa9988');

  function opensslDecrypt(ct: Uint8Array, opts: string[]): string {
    return execFileSync('openssl', ['pkeyutl', '-decrypt', '-inkey', keyFile, ...opts], { input: ct }).toString('hex');
  }

  it('v1.5', () => {
    const ct = rsaEncryptPkcs1v15(key.n, key.e, msg);
    expect(ct.length).toBe(256);
    expect(opensslDecrypt(ct, ['-pkeyopt', 'rsa_padding_mode:pkcs1'])).toBe(toHex(msg));
    expect(toHex(rsaDecryptPkcs1v15(key, ct))).toBe(toHex(msg));
  });

  it('OAEP SHA-384 with MGF1-SHA-1 and a label', () => {
    const p = { hash: 'SHA-384', mgf1Hash: 'SHA-1', label: hex('cafe') } as const;
    const ct = rsaEncryptOaep(key.n, key.e, msg, p);
    const opts = ['-pkeyopt', 'rsa_padding_mode:oaep', '-pkeyopt', 'rsa_oaep_md:sha384', '-pkeyopt', 'rsa_mgf1_md:sha1', '-pkeyopt', 'rsa_oaep_label:cafe'];
    expect(opensslDecrypt(ct, opts)).toBe(toHex(msg));
    expect(toHex(rsaDecryptOaep(key, ct, p))).toBe(toHex(msg));
  });

  it('rejects messages that do not fit', () => {
    expect(() => rsaEncryptPkcs1v15(key.n, key.e, new Uint8Array(246))).toThrow(RangeError);
    expect(() => rsaEncryptOaep(key.n, key.e, new Uint8Array(191), { hash: 'SHA-256', mgf1Hash: 'SHA-256' })).toThrow(RangeError);
  });
});

describe('raw private operation', () => {
  const key = KEYS.rsa2048!;

  it('inverts the public operation and reports the modulus size', () => {
    expect(rsaModulusBytes(key)).toBe(256);
    expect(rsaModulusBytes(loadRsaKey('implicit-rejection/rsa2049.pem'))).toBe(257);
    const m = 0x1234567890abcdefn;
    const c = bigIntToBytes((m ** 65537n) % key.n, 256); // tiny m: the power is cheap enough
    expect(bytesToBigInt(rsaDecryptRaw(key, c))).toBe(m);
  });

  it('rejects c >= n', () => {
    expectDecryptFailed(() => rsaDecryptRaw(key, bigIntToBytes(key.n, 256)));
    expectDecryptFailed(() => rsaDecryptRaw(key, new Uint8Array(257).fill(1)));
  });

  it('a corrupted CRT exponent never yields the faulty result', () => {
    const v = VECTORS.find((x) => x.mode === 'pkcs1' && x.key === 'rsa2048' && x.msg.length === 64)!;
    const faulty: RsaPrivateKey = { ...key, dp: key.dp ^ 4n };
    // The fault check falls back to the plain exponent d, which is intact, so the answer is right.
    expect(toHex(rsaDecryptRaw(faulty, hex(v.ct)))).toBe(toHex(rsaDecryptRaw(key, hex(v.ct))));
    expect(toHex(rsaDecryptPkcs1v15(faulty, hex(v.ct)))).toBe(v.msg);
  });

  it('a key whose d is also wrong fails instead of returning garbage', () => {
    const v = VECTORS.find((x) => x.mode === 'pkcs1' && x.key === 'rsa2048')!;
    const broken: RsaPrivateKey = { ...key, dp: key.dp ^ 4n, d: key.d ^ 2n };
    expectDecryptFailed(() => rsaDecryptRaw(broken, hex(v.ct)));
  });
});

describe('PKCS#1 v1.5 implicit rejection', () => {
  interface IrVector { key: string; note: string; ct: string; out: string; valid: boolean }
  const IR: IrVector[] = JSON.parse(readFileSync(FIXTURES + 'implicit-rejection/vectors.json', 'utf8'));
  const irKeys: Record<string, RsaPrivateKey> = {
    rsa2049: loadRsaKey('implicit-rejection/rsa2049.pem'),
    rsa3072: loadRsaKey('implicit-rejection/rsa3072.pem'),
  };

  for (const v of IR) {
    it(`OpenSSL/draft vector ${v.key}: ${v.note}`, () => {
      expect(toHex(rsaDecryptPkcs1v15(irKeys[v.key]!, hex(v.ct)))).toBe(v.out);
    });
  }

  const key = KEYS.rsa2048!;
  const good = VECTORS.find((x) => x.mode === 'pkcs1' && x.key === 'rsa2048' && x.msg.length === 64)!;
  // An OAEP ciphertext decrypts to a block without the 00 02 header: bad v1.5 padding.
  const bad = hex(VECTORS.find((x) => x.mode === 'oaep' && x.key === 'rsa2048')!.ct);
  const bad2 = hex(VECTORS.filter((x) => x.mode === 'oaep' && x.key === 'rsa2048')[1]!.ct);

  it('bad padding gives deterministic bytes of a plausible length, never an error', () => {
    const a = rsaDecryptPkcs1v15(key, bad);
    const b = rsaDecryptPkcs1v15(key, bad);
    expect(toHex(a)).toBe(toHex(b));
    expect(a.length).toBeLessThanOrEqual(256 - 11);
    expect(toHex(rsaDecryptPkcs1v15(key, bad2))).not.toBe(toHex(a));
  });

  it('with expectedLengths the synthetic message has one of them', () => {
    for (const ct of [bad, bad2]) {
      expect(rsaDecryptPkcs1v15(key, ct, [32]).length).toBe(32);
      expect([16, 24, 32]).toContain(rsaDecryptPkcs1v15(key, ct, [16, 24, 32]).length);
    }
  });

  it('ciphertexts that cannot be decrypted at all also give synthetic bytes', () => {
    const tooBig = bigIntToBytes(key.n, 256);
    const x = rsaDecryptPkcs1v15(key, tooBig, [32]);
    expect(x.length).toBe(32);
    expect(toHex(rsaDecryptPkcs1v15(key, tooBig, [32]))).toBe(toHex(x));
    expect(rsaDecryptPkcs1v15(key, new Uint8Array(300), [24]).length).toBe(24);
  });

  it('a different key gives a different synthetic message for the same ciphertext', () => {
    const other = rsaDecryptPkcs1v15(KEYS.rsa3072!, hex(good.ct), [32]);
    const mine = rsaDecryptPkcs1v15(key, bad, [32]);
    expect(other.length).toBe(32);
    expect(toHex(other)).not.toBe(toHex(mine));
    expect(toHex(other)).not.toBe(good.msg);
  });
});
