import { readFileSync } from 'node:fs';
import { webcrypto } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { aesKeyUnwrap, aesKeyWrap } from '../../../src/core/crypto/aes-kw.js';
import { hashLength, hashSync, hmacSync, type HashName } from '../../../src/core/crypto/hash.js';
import { passwordToBmp, pbkdf2, pkcs12Kdf, x963Kdf } from '../../../src/core/crypto/kdf.js';
import { UnsealError } from '../../../src/core/errors.js';
import { FIXTURES, hex, toHex } from './load-rsa-key.js';

const subtle = webcrypto.subtle as unknown as SubtleCrypto;
const H: Record<string, HashName> = { SHA1: 'SHA-1', SHA256: 'SHA-256', SHA384: 'SHA-384', SHA512: 'SHA-512' };

describe('AES key wrap (RFC 3394 §4)', () => {
  const KEK = '000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f';
  it.each([
    ['4.1 128-bit KEK, 128-bit key', KEK.slice(0, 32), '00112233445566778899aabbccddeeff', '1fa68b0a8112b447aef34bd8fb5a7b829d3e862371d2cfe5'],
    ['4.2 192-bit KEK, 128-bit key', KEK.slice(0, 48), '00112233445566778899aabbccddeeff', '96778b25ae6ca435f92b5b97c050aed2468ab8a17ad84e5d'],
    ['4.3 256-bit KEK, 128-bit key', KEK, '00112233445566778899aabbccddeeff', '64e8c3f9ce0f5ba263e9777905818a2a93c8191e7d6e8ae7'],
    ['4.4 192-bit KEK, 192-bit key', KEK.slice(0, 48), '00112233445566778899aabbccddeeff0001020304050607', '031d33264e15d33268f24ec260743edce1c6c7ddee725a936ba814915c6762d2'],
    ['4.5 256-bit KEK, 192-bit key', KEK, '00112233445566778899aabbccddeeff0001020304050607', 'a8f9bc1612c68b3ff6e6f4fbe30e71e4769c8b80a32cb8958cd5d17d6b254da1'],
    ['4.6 256-bit KEK, 256-bit key', KEK, '00112233445566778899aabbccddeeff000102030405060708090a0b0c0d0e0f', '28c9f404c4b810f4cbccb35cfb87f8263f5786e2d80ed326cbc7f0e71a99f43bfb988b9b7a02dd21'],
  ])('%s', async (_name, kek, key, wrapped) => {
    expect(toHex(await aesKeyWrap(subtle, hex(kek), hex(key)))).toBe(wrapped);
    expect(toHex(await aesKeyUnwrap(subtle, hex(kek), hex(wrapped)))).toBe(key);
  });

  it('a tampered wrap or a wrong KEK fails with decryption_failed', async () => {
    const wrapped = hex('1fa68b0a8112b447aef34bd8fb5a7b829d3e862371d2cfe5');
    const bad = wrapped.slice();
    bad[5] = bad[5]! ^ 0x80;
    for (const [kek, w] of [[hex(KEK.slice(0, 32)), bad], [hex(KEK.slice(2, 34)), wrapped], [new Uint8Array(10), wrapped], [hex(KEK.slice(0, 32)), wrapped.subarray(0, 20)]] as const) {
      const err = await aesKeyUnwrap(subtle, kek, w).then(() => undefined, (e: unknown) => e);
      expect(err).toBeInstanceOf(UnsealError);
      expect((err as UnsealError).kind).toBe('decryption_failed');
    }
  });
});

const KDF = JSON.parse(readFileSync(FIXTURES + 'kdf-vectors.json', 'utf8')) as {
  pkcs12: { hash: string; passwordBmp: string; salt: string; id: 1 | 2 | 3; iter: number; out: string }[];
  x963: { hash: string; z: string; info: string; out: string }[];
};

describe('ANSI X9.63 KDF', () => {
  it('NIST CAVS SHA-256 vector (Z 96c0…4f08, no SharedInfo, 128 bits)', () => {
    expect(toHex(x963Kdf('SHA-256', hex('96c05619d56c328ab95fe84b18264b08725b85e33fd34f08'), new Uint8Array(0), 16))).toBe(
      '443024c3dae66b95e6f5670601558f71',
    );
  });
  it.each(KDF.x963)('openssl kdf X963KDF $hash, $out.length hex chars', (v) => {
    expect(toHex(x963Kdf(H[v.hash]!, hex(v.z), hex(v.info), v.out.length / 2))).toBe(v.out);
  });
});

describe('PKCS#12 KDF (RFC 7292 B.2)', () => {
  it.each(KDF.pkcs12)('openssl kdf PKCS12KDF $hash id $id iter $iter pass $passwordBmp', (v) => {
    expect(toHex(pkcs12Kdf(H[v.hash]!, hex(v.passwordBmp), hex(v.salt), v.id, v.iter, v.out.length / 2))).toBe(v.out);
  });

  it('passwordToBmp gives UTF-16BE plus two zero bytes', () => {
    expect(toHex(passwordToBmp(''))).toBe('0000');
    expect(toHex(passwordToBmp('sesame'))).toBe('0073006500730061006d00650000');
    expect(toHex(passwordToBmp('pässwörd €'))).toBe(KDF.pkcs12.find((v) => v.iter === 1000 && v.hash === 'SHA1')!.passwordBmp);
    expect(toHex(passwordToBmp('𝄞'))).toBe('d834dd1e0000');
  });

  it('derives the MAC key of a real openssl pkcs12 -legacy file', () => {
    // openssl pkcs12 -export -legacy -macalg sha1 -passout pass:Unseal-Test ... (gen-legacy-p12-mac.sh):
    // MAC = HMAC-SHA1(key = KDF(id 3, 20 bytes), authSafe content octets).
    const f = JSON.parse(readFileSync(FIXTURES + 'legacy-p12-mac.json', 'utf8')) as {
      password: string; salt: string; iter: number; authSafe: string; mac: string;
    };
    const macKey = pkcs12Kdf('SHA-1', passwordToBmp(f.password), hex(f.salt), 3, f.iter, 20);
    expect(toHex(hmacSync('SHA-1', macKey, hex(f.authSafe)))).toBe(f.mac);
  });
});

describe('PBKDF2 via WebCrypto', () => {
  it('RFC 6070 SHA-1 vector (2 iterations)', async () => {
    const te = new TextEncoder();
    expect(toHex(await pbkdf2(subtle, 'SHA-1', te.encode('password'), te.encode('salt'), 2, 20))).toBe('ea6c014dc72d6f8ccd1ed92ace1d41f0d8de8957');
  });
  it('RFC 7914 §11 PBKDF2-HMAC-SHA256 vector', async () => {
    const te = new TextEncoder();
    expect(toHex(await pbkdf2(subtle, 'SHA-256', te.encode('passwd'), te.encode('salt'), 1, 64))).toBe(
      '55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc49ca9cccf179b645991664b39d77ef317c71b845b1e30bd509112041d3a19783',
    );
  });
  it('an empty password works (PKCS#12 files use it); answer from openssl kdf PBKDF2', async () => {
    const got = await pbkdf2(subtle, 'SHA-256', new Uint8Array(0), hex('0102030405060708'), 1000, 32);
    expect(toHex(got)).toBe('fb6eb798d0e7e3c568922465099bd747681fcbeb89420612967b574a4612f70e');
  });
});

describe('sync hashes', () => {
  it('SHA family and HMAC known answers', () => {
    const abc = new TextEncoder().encode('abc');
    expect(toHex(hashSync('SHA-1', abc))).toBe('a9993e364706816aba3e25717850c26c9cd0d89d');
    expect(toHex(hashSync('SHA-224', abc))).toBe('23097d223405d8228642a477bda255b32aadbce4bda0b3f7e36c9da7');
    expect(toHex(hashSync('SHA-256', abc))).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(toHex(hashSync('SHA-384', abc)).slice(0, 32)).toBe('cb00753f45a35e8bb5a03d699ac65007');
    expect(toHex(hashSync('SHA-512', abc)).slice(0, 32)).toBe('ddaf35a193617abacc417349ae204131');
    // RFC 4231 test case 2
    const te = new TextEncoder();
    expect(toHex(hmacSync('SHA-256', te.encode('Jefe'), te.encode('what do ya want for nothing?')))).toBe(
      '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843',
    );
    expect([hashLength('SHA-1'), hashLength('SHA-224'), hashLength('SHA-384')]).toEqual([20, 28, 48]);
  });
});
