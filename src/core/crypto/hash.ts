/**
 * Synchronous hashes by name. RSA padding checks, the PKCS#12 KDF loop and the X9.63 KDF need
 * digests inside tight loops where awaiting WebCrypto per block would dominate the cost.
 */
import { sha1 } from '@noble/hashes/legacy.js';
import { sha224, sha256, sha384, sha512 } from '@noble/hashes/sha2.js';
import { hmac } from '@noble/hashes/hmac.js';

export type HashName = 'SHA-1' | 'SHA-224' | 'SHA-256' | 'SHA-384' | 'SHA-512';

const HASHES = {
  'SHA-1': sha1,
  'SHA-224': sha224,
  'SHA-256': sha256,
  'SHA-384': sha384,
  'SHA-512': sha512,
} as const;

function hashFn(name: HashName) {
  const h = HASHES[name];
  // Names arrive from parsed AlgorithmIdentifiers via callers' maps; guard against a stray string.
  if (h === undefined) throw new TypeError(`unknown hash ${String(name)}`);
  return h;
}

export function hashSync(name: HashName, data: Uint8Array): Uint8Array {
  return hashFn(name)(data);
}

export function hmacSync(name: HashName, key: Uint8Array, data: Uint8Array): Uint8Array {
  return hmac(hashFn(name), key, data);
}

export function hashLength(name: HashName): number {
  return hashFn(name).outputLen;
}

/** Input block size in bytes; the PKCS#12 KDF is defined in terms of it. */
export function hashBlockLength(name: HashName): number {
  return hashFn(name).blockLen;
}
