/**
 * RFC 3394 AES key wrap for ECDH (RFC 5753) and KEK recipients. Done with @noble/ciphers rather than
 * WebCrypto because WebCrypto only unwraps into a CryptoKey of a named algorithm, and 3DES CEKs
 * (24 bytes) have none; the data is a few dozen bytes, so speed is irrelevant.
 */
import { aeskw } from '@noble/ciphers/aes.js';
import { UnsealError } from '../errors.js';

function checkKek(kek: Uint8Array): void {
  if (kek.length !== 16 && kek.length !== 24 && kek.length !== 32) {
    throw new UnsealError('decryption_failed', 'could not decrypt');
  }
}

export async function aesKeyUnwrap(_crypto: SubtleCrypto, kek: Uint8Array, wrapped: Uint8Array): Promise<Uint8Array> {
  checkKek(kek);
  if (wrapped.length < 24 || wrapped.length % 8 !== 0) throw new UnsealError('decryption_failed', 'could not decrypt');
  try {
    return aeskw(kek).decrypt(wrapped);
  } catch (e) {
    throw new UnsealError('decryption_failed', 'could not decrypt', { cause: e });
  }
}

export async function aesKeyWrap(_crypto: SubtleCrypto, kek: Uint8Array, key: Uint8Array): Promise<Uint8Array> {
  checkKek(kek);
  if (key.length < 16 || key.length % 8 !== 0) throw new RangeError('AES key wrap needs a key of 16+ bytes, multiple of 8');
  return aeskw(kek).encrypt(key);
}
