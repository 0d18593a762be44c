import { UnsealError } from '../errors.js';

/**
 * PKCS#7 unpadding that inspects every byte of the last block whatever the pad value and fails with
 * the same message as every other decryption failure, so it cannot serve as a padding oracle.
 */
export function removePkcs7Padding(data: Uint8Array, blockSize: number): Uint8Array {
  if (data.length === 0 || data.length % blockSize !== 0) throw new UnsealError('decryption_failed', 'could not decrypt');
  const n = data[data.length - 1]!;
  let bad = ((n - 1) >>> 31) | ((blockSize - n) >>> 31); // n === 0 or n > blockSize
  for (let i = 1; i <= blockSize; i++) {
    const inPad = ((i - n - 1) >>> 31) & 1; // i <= n
    bad |= inPad & (((data[data.length - i]! ^ n) + 0xff) >>> 8);
  }
  if (bad !== 0) throw new UnsealError('decryption_failed', 'could not decrypt');
  return data.subarray(0, data.length - n);
}

export function addPkcs7Padding(data: Uint8Array, blockSize: number): Uint8Array {
  const n = blockSize - (data.length % blockSize);
  const out = new Uint8Array(data.length + n);
  out.set(data);
  out.fill(n, data.length);
  return out;
}
