import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { desCbcDecrypt, desCbcEncrypt, desEde3CbcDecrypt, desEde3CbcEncrypt } from '../../../src/core/crypto/des.js';
import { rc2CbcDecrypt, rc2CbcEncrypt, rc2EffectiveBitsFromVersion } from '../../../src/core/crypto/rc2.js';
import { rc4 } from '../../../src/core/crypto/rc4.js';
import { UnsealError } from '../../../src/core/errors.js';
import { FIXTURES, hex, toHex } from './load-rsa-key.js';

interface CipherVector { name: string; cipher: string; key: string; iv: string; bits: number; pt: string; ct: string }
const VECTORS: CipherVector[] = JSON.parse(readFileSync(FIXTURES + 'cipher-vectors.json', 'utf8'));
const vec = (name: string) => VECTORS.find((v) => v.name === name)!;
const ZERO_IV = new Uint8Array(8);

describe('DES', () => {
  it('FIPS 81 Appendix B CBC example', () => {
    const pt = new TextEncoder().encode('Now is the time for all ');
    const ct = 'e5c7cdde872bf27c43e934008c389c0f683788499a7c05f6';
    expect(toHex(desCbcEncrypt(hex('0123456789abcdef'), hex('1234567890abcdef'), pt))).toBe(ct);
    expect(toHex(desCbcDecrypt(hex('0123456789abcdef'), hex('1234567890abcdef'), hex(ct)))).toBe(toHex(pt));
  });

  it.each([
    // [key, plaintext, ciphertext]: single blocks (CBC with a zero IV is ECB for one block)
    ['133457799bbcdff1', '0123456789abcdef', '85e813540f0ab405'], // the textbook worked example
    ['0101010101010101', '8000000000000000', '95f8a5e5dd31d900'], // NIST SP 800-17 variable plaintext
    ['0123456789abcdef', '4e6f772069732074', '3fa40e8a984d4815'],
  ])('ECB known answer key %s', (k, p, c) => {
    expect(toHex(desCbcEncrypt(hex(k), ZERO_IV, hex(p)))).toBe(c);
    expect(toHex(desCbcDecrypt(hex(k), ZERO_IV, hex(c)))).toBe(p);
  });

  it('matches openssl enc -des-cbc -nopad over 52 blocks', () => {
    const v = vec('des-cbc');
    expect(toHex(desCbcDecrypt(hex(v.key), hex(v.iv), hex(v.ct)))).toBe(v.pt);
    expect(toHex(desCbcEncrypt(hex(v.key), hex(v.iv), hex(v.pt)))).toBe(v.ct);
  });

  it('rejects partial blocks and wrong key sizes with UnsealError', () => {
    expect(() => desCbcDecrypt(hex('0123456789abcdef'), ZERO_IV, new Uint8Array(12))).toThrow(UnsealError);
    expect(() => desCbcDecrypt(new Uint8Array(7), ZERO_IV, new Uint8Array(8))).toThrow(UnsealError);
    expect(() => desEde3CbcDecrypt(new Uint8Array(8), ZERO_IV, new Uint8Array(8))).toThrow(UnsealError);
  });
});

describe('3DES (EDE)', () => {
  it('NIST SP 800-67 example (three keys)', () => {
    const key = hex('0123456789abcdef23456789abcdef01456789abcdef0123');
    const pt = new TextEncoder().encode('The qufck brown fox jump');
    // SP 800-67 gives ECB; encrypt each block separately through CBC with a zero IV.
    const ct = ['a826fd8ce53b855f', 'cce21c8112256fe6', '68d5c05dd9b6b900'];
    for (let i = 0; i < 3; i++) {
      expect(toHex(desEde3CbcEncrypt(key, ZERO_IV, pt.subarray(8 * i, 8 * i + 8)))).toBe(ct[i]);
      expect(toHex(desEde3CbcDecrypt(key, ZERO_IV, hex(ct[i]!)))).toBe(toHex(pt.subarray(8 * i, 8 * i + 8)));
    }
  });

  it('matches openssl enc -des-ede3-cbc -nopad', () => {
    const v = vec('des-ede3-cbc');
    expect(toHex(desEde3CbcDecrypt(hex(v.key), hex(v.iv), hex(v.ct)))).toBe(v.pt);
    expect(toHex(desEde3CbcEncrypt(hex(v.key), hex(v.iv), hex(v.pt)))).toBe(v.ct);
  });

  it('two-key variant matches openssl enc -des-ede-cbc', () => {
    const v = vec('des-ede-cbc');
    expect(toHex(desEde3CbcDecrypt(hex(v.key), hex(v.iv), hex(v.ct)))).toBe(v.pt);
    expect(toHex(desEde3CbcEncrypt(hex(v.key), hex(v.iv), hex(v.pt)))).toBe(v.ct);
  });

  it('with K1 = K2 = K3 equals single DES', () => {
    const k = hex('133457799bbcdff1');
    const k3 = new Uint8Array(24);
    k3.set(k, 0); k3.set(k, 8); k3.set(k, 16);
    expect(toHex(desEde3CbcEncrypt(k3, ZERO_IV, hex('0123456789abcdef')))).toBe('85e813540f0ab405');
  });
});

describe('RC2 (RFC 2268)', () => {
  it.each([
    // RFC 2268 §5: key, effective bits, plaintext, ciphertext
    ['0000000000000000', 63, '0000000000000000', 'ebb773f993278eff'],
    ['ffffffffffffffff', 64, 'ffffffffffffffff', '278b27e42e2f0d49'],
    ['3000000000000000', 64, '1000000000000001', '30649edf9be7d2c2'],
    ['88', 64, '0000000000000000', '61a8a244adacccf0'],
    ['88bca90e90875a', 64, '0000000000000000', '6ccf4308974c267f'],
    ['88bca90e90875a7f0f79c384627bafb2', 64, '0000000000000000', '1a807d272bbe5db1'],
    ['88bca90e90875a7f0f79c384627bafb2', 128, '0000000000000000', '2269552ab0f85ca6'],
    ['88bca90e90875a7f0f79c384627bafb216f80a6f85920584c42fceb0be255daf1e', 129, '0000000000000000', '5b78d3a43dfff1f1'],
  ])('RFC 2268 key %s, %i effective bits', (k, bits, p, c) => {
    expect(toHex(rc2CbcEncrypt(hex(k), bits, ZERO_IV, hex(p)))).toBe(c);
    expect(toHex(rc2CbcDecrypt(hex(k), bits, ZERO_IV, hex(c)))).toBe(p);
  });

  it.each(['rc2-128', 'rc2-64', 'rc2-40'])('matches openssl enc %s', (name) => {
    const v = vec(name);
    expect(toHex(rc2CbcDecrypt(hex(v.key), v.bits, hex(v.iv), hex(v.ct)))).toBe(v.pt);
    expect(toHex(rc2CbcEncrypt(hex(v.key), v.bits, hex(v.iv), hex(v.pt)))).toBe(v.ct);
  });

  it('1024 effective bits with a 128-byte key round-trips and differs from 128 bits', () => {
    const key = new Uint8Array(128).map((_, i) => (i * 37 + 11) & 0xff);
    const pt = new Uint8Array(64).map((_, i) => i);
    const ct = rc2CbcEncrypt(key, 1024, ZERO_IV, pt);
    expect(toHex(rc2CbcDecrypt(key, 1024, ZERO_IV, ct))).toBe(toHex(pt));
    expect(toHex(ct)).not.toBe(toHex(rc2CbcEncrypt(key, 128, ZERO_IV, pt)));
  });

  it('maps RC2CBCParameter versions to effective bits', () => {
    expect(rc2EffectiveBitsFromVersion(160)).toBe(40);
    expect(rc2EffectiveBitsFromVersion(120)).toBe(64);
    expect(rc2EffectiveBitsFromVersion(58)).toBe(128);
    expect(rc2EffectiveBitsFromVersion(256)).toBe(256);
    expect(rc2EffectiveBitsFromVersion(1024)).toBe(1024);
    expect(() => rc2EffectiveBitsFromVersion(7)).toThrow(UnsealError);
  });

  it('rejects impossible keys and effective bit counts', () => {
    expect(() => rc2CbcDecrypt(new Uint8Array(0), 40, ZERO_IV, new Uint8Array(8))).toThrow(UnsealError);
    expect(() => rc2CbcDecrypt(new Uint8Array(5), 0, ZERO_IV, new Uint8Array(8))).toThrow(UnsealError);
    expect(() => rc2CbcDecrypt(new Uint8Array(5), 1025, ZERO_IV, new Uint8Array(8))).toThrow(UnsealError);
  });
});

describe('RC4', () => {
  it.each([
    ['Key', 'Plaintext', 'bbf316e8d940af0ad3'],
    ['Wiki', 'pedia', '1021bf0420'],
    ['Secret', 'Attack at dawn', '45a01f645fc35b383552544b9bf5'],
  ])('classic vector key %s', (k, p, c) => {
    const enc = new TextEncoder();
    expect(toHex(rc4(enc.encode(k), enc.encode(p)))).toBe(c);
  });

  it('RFC 6229 40-bit key keystream, offset 0', () => {
    expect(toHex(rc4(hex('0102030405'), new Uint8Array(16)))).toBe('b2396305f03dc027ccc3524a0a1118a8');
  });

  it('matches openssl enc -rc4', () => {
    const v = vec('rc4-128');
    expect(toHex(rc4(hex(v.key), hex(v.pt)))).toBe(v.ct);
  });
});
