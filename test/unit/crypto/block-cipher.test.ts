import { readFileSync } from 'node:fs';
import { randomBytes, webcrypto } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { CBC_SEGMENT_BYTES, cbcBlockSize, cbcDecrypt, cbcDecryptChunks, cbcEncrypt, cbcKeyLength, type CbcCipher } from '../../../src/core/crypto/block-cipher.js';
import { addPkcs7Padding, removePkcs7Padding } from '../../../src/core/crypto/padding.js';
import { UnsealError } from '../../../src/core/errors.js';
import { FIXTURES, hex, toHex } from './load-rsa-key.js';

const subtle = webcrypto.subtle as unknown as SubtleCrypto;
interface CipherVector { name: string; cipher: string; key: string; iv: string; bits: number; pt: string; ct: string }
const VECTORS: CipherVector[] = JSON.parse(readFileSync(FIXTURES + 'cipher-vectors.json', 'utf8'));
const vec = (name: string) => VECTORS.find((v) => v.name === name)!;

async function rejectsDecryptFailed(p: Promise<unknown>): Promise<void> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(UnsealError);
  expect((err as UnsealError).kind).toBe('decryption_failed');
  expect((err as UnsealError).message).toBe('could not decrypt');
}

describe('PKCS#7 padding', () => {
  it('removes 1..blockSize bytes', () => {
    expect(toHex(removePkcs7Padding(hex('41424344454601'), 7))).toBe('414243444546');
    expect(toHex(removePkcs7Padding(hex('0808080808080808'), 8))).toBe('');
    expect(toHex(removePkcs7Padding(hex('aabbcc0505050505'), 8))).toBe('aabbcc');
    expect(toHex(removePkcs7Padding(hex('00112233445566778899aabbccddee01'), 16))).toBe('00112233445566778899aabbccddee');
  });

  it('adds a whole block when the data is aligned', () => {
    expect(toHex(addPkcs7Padding(hex('0102030405060708'), 8))).toBe('01020304050607080808080808080808');
    expect(toHex(addPkcs7Padding(hex('01'), 8))).toBe('0107070707070707');
  });

  it.each([
    ['zero pad value', '0102030405060700'],
    ['pad value above block size', '0102030405060709'],
    ['inconsistent pad bytes', '0102030405030203'],
    ['empty input', ''],
    ['not a block multiple', '01020304050601'],
  ])('rejects %s with one uniform error', (_what, data) => {
    let err: unknown;
    try {
      removePkcs7Padding(hex(data), 8);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UnsealError);
    expect((err as UnsealError).kind).toBe('decryption_failed');
    expect((err as UnsealError).message).toBe('could not decrypt');
  });
});

describe('cbcDecrypt / cbcEncrypt', () => {
  it('reports block and key sizes', () => {
    expect(cbcBlockSize('aes-192-cbc')).toBe(16);
    expect(cbcBlockSize('rc2-cbc')).toBe(8);
    expect(cbcKeyLength('aes-256-cbc')).toBe(32);
    expect(cbcKeyLength('des-ede3-cbc')).toBe(24);
    expect(cbcKeyLength('rc2-cbc')).toBeUndefined();
  });

  it.each(['aes-128-cbc', 'aes-192-cbc', 'aes-256-cbc'] as const)(
    '%s with padding:false returns the raw blocks openssl enc -nopad -d gives',
    async (cipher) => {
      const v = vec(cipher);
      const got = await cbcDecrypt(subtle, { cipher, key: hex(v.key), iv: hex(v.iv), data: hex(v.ct), padding: false });
      expect(toHex(got)).toBe(v.pt);
      const enc = await cbcEncrypt(subtle, { cipher, key: hex(v.key), iv: hex(v.iv), data: hex(v.pt), padding: false });
      expect(toHex(enc)).toBe(v.ct);
    },
  );

  it('AES padding:false works on a single block whose plaintext is not valid padding', async () => {
    // NIST SP 800-38A F.2.5 CBC-AES256.Encrypt, block 1.
    const key = hex('603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4');
    const iv = hex('000102030405060708090a0b0c0d0e0f');
    const got = await cbcDecrypt(subtle, { cipher: 'aes-256-cbc', key, iv, data: hex('f58c4c04d6e5f1ba779eabfb5f7bfbd6'), padding: false });
    expect(toHex(got)).toBe('6bc1bee22e409f96e93d7e117393172a');
  });

  it('AES padding:true round-trips and strips the padding', async () => {
    const key = hex('2b7e151628aed2a6abf7158809cf4f3c');
    const iv = hex('000102030405060708090a0b0c0d0e0f');
    const data = new TextEncoder().encode('seventeen bytes!!');
    const ct = await cbcEncrypt(subtle, { cipher: 'aes-128-cbc', key, iv, data, padding: true });
    expect(ct.length).toBe(32);
    // The raw last block carries fifteen 0x0f bytes of padding.
    const raw = await cbcDecrypt(subtle, { cipher: 'aes-128-cbc', key, iv, data: ct, padding: false });
    expect(toHex(raw.subarray(17))).toBe('0f'.repeat(15));
    const pt = await cbcDecrypt(subtle, { cipher: 'aes-128-cbc', key, iv, data: ct, padding: true });
    expect(new TextDecoder().decode(pt)).toBe('seventeen bytes!!');
  });

  it.each([
    ['des-cbc', 'des-cbc', undefined],
    ['des-ede3-cbc', 'des-ede3-cbc', undefined],
    ['des-ede-cbc', 'des-ede3-cbc', undefined],
    ['rc2-40', 'rc2-cbc', 40],
    ['rc2-128', 'rc2-cbc', 128],
  ] as const)('legacy %s dispatches to the right cipher', async (name, cipher, bits) => {
    const v = vec(name);
    const p = { cipher: cipher as CbcCipher, key: hex(v.key), iv: hex(v.iv), rc2EffectiveBits: bits };
    expect(toHex(await cbcDecrypt(subtle, { ...p, data: hex(v.ct), padding: false }))).toBe(v.pt);
    expect(toHex(await cbcEncrypt(subtle, { ...p, data: hex(v.pt), padding: false }))).toBe(v.ct);
  });

  it('legacy padding:true strips what openssl enc (with padding) adds', async () => {
    // echo -n "Unseal" | openssl enc -des-ede3-cbc -K 0123..0123 -iv fedcba9876543210 -provider legacy -provider default
    const v = vec('des-ede3-cbc');
    const ct = await cbcEncrypt(subtle, { cipher: 'des-ede3-cbc', key: hex(v.key), iv: hex(v.iv), data: new TextEncoder().encode('Unseal'), padding: true });
    expect(toHex(ct)).toBe('583f2b4ab1a33c98');
    const pt = await cbcDecrypt(subtle, { cipher: 'des-ede3-cbc', key: hex(v.key), iv: hex(v.iv), data: ct, padding: true });
    expect(new TextDecoder().decode(pt)).toBe('Unseal');
  });

  it('a wrong AES key gives the uniform decryption error, not a WebCrypto one', async () => {
    const v = vec('aes-128-cbc');
    const wrong = hex(v.key);
    wrong[0] = wrong[0]! ^ 1;
    await rejectsDecryptFailed(cbcDecrypt(subtle, { cipher: 'aes-128-cbc', key: wrong, iv: hex(v.iv), data: hex(v.ct).subarray(0, 64), padding: true }));
  });

  it('a CEK of the wrong length, a bad IV or a ragged ciphertext fail uniformly', async () => {
    const iv16 = new Uint8Array(16);
    await rejectsDecryptFailed(cbcDecrypt(subtle, { cipher: 'aes-256-cbc', key: new Uint8Array(16), iv: iv16, data: new Uint8Array(32), padding: true }));
    await rejectsDecryptFailed(cbcDecrypt(subtle, { cipher: 'aes-128-cbc', key: new Uint8Array(16), iv: new Uint8Array(8), data: new Uint8Array(32), padding: true }));
    await rejectsDecryptFailed(cbcDecrypt(subtle, { cipher: 'aes-128-cbc', key: new Uint8Array(16), iv: iv16, data: new Uint8Array(20), padding: false }));
    await rejectsDecryptFailed(cbcDecrypt(subtle, { cipher: 'des-ede3-cbc', key: new Uint8Array(8), iv: new Uint8Array(8), data: new Uint8Array(16), padding: true }));
    await rejectsDecryptFailed(cbcDecrypt(subtle, { cipher: 'des-cbc', key: new Uint8Array(8), iv: new Uint8Array(8), data: new Uint8Array(0), padding: true }));
  });
});

describe('cbcDecryptChunks: large content in CBC-chained segments, from chunks', () => {
  // Reference: OpenSSL encrypts, so neither side of the comparison is our own encryption.
  const openssl = (cipher: string, key: Uint8Array, iv: Uint8Array, pt: Uint8Array): Uint8Array =>
    new Uint8Array(execFileSync('openssl', ['enc', `-${cipher}`, '-K', Buffer.from(key).toString('hex'), '-iv', Buffer.from(iv).toString('hex'), ...(cipher === 'des-ede3-cbc' ? ['-provider', 'legacy', '-provider', 'default'] : [])], { input: pt, maxBuffer: 64 * 1024 * 1024 }));
  /** Splits `b` at pseudo-random points (BER chunking is arbitrary, also off block boundaries). */
  const chop = (b: Uint8Array, seed: number): Uint8Array[] => {
    const out: Uint8Array[] = [];
    let x = seed;
    for (let i = 0; i < b.length; ) {
      x = (x * 1103515245 + 12345) % 2 ** 31;
      const n = 1 + (x % 1_500_000);
      out.push(b.subarray(i, i + n));
      i += n;
    }
    return out;
  };
  const S = CBC_SEGMENT_BYTES;

  for (const [cipher, keyLen, bs] of [['aes-256-cbc', 32, 16], ['des-ede3-cbc', 24, 8]] as const) {
    for (const size of [S - 1, S, S + 1, 2 * S + bs, 3 * S + 7 * bs + 5]) {
      it(`${cipher}, ${size} bytes of plaintext: equals the plaintext, whole or in odd chunks`, async () => {
        const key = new Uint8Array(randomBytes(keyLen));
        const iv = new Uint8Array(randomBytes(bs));
        const pt = new Uint8Array(randomBytes(size));
        const ct = openssl(cipher, key, iv, pt);
        for (const chunks of [[ct], chop(ct, size), [ct.subarray(0, 1), ct.subarray(1)]]) {
          const got = await cbcDecryptChunks(subtle, { cipher, key, iv, chunks, padding: true });
          expect(Buffer.from(got).equals(Buffer.from(pt))).toBe(true);
        }
      }, 30_000);
    }
    it(`${cipher}: a damaged last block, a wrong key, a short tail ⇒ the one decryption_failed, nothing returned`, async () => {
      const key = new Uint8Array(randomBytes(keyLen));
      const iv = new Uint8Array(randomBytes(bs));
      const ct = openssl(cipher, key, iv, new Uint8Array(randomBytes(2 * S + 100)));
      const bad = ct.slice();
      bad[bad.length - 1]! ^= 0x55;
      const wrongKey = new Uint8Array(randomBytes(keyLen));
      for (const [k, chunks] of [[key, chop(bad, 7)], [wrongKey, [ct]], [key, [ct.subarray(0, ct.length - 3)]]] as const) {
        await expect(cbcDecryptChunks(subtle, { cipher, key: k, iv, chunks, padding: true })).rejects.toMatchObject({ kind: 'decryption_failed', message: 'could not decrypt' });
      }
    }, 30_000);
  }
});
