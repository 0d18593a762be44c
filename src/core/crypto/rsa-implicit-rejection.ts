/**
 * The synthetic message OpenSSL 3.2+ returns instead of a padding error (draft-irtf-cfrg-rsa-guidance,
 * "implicit rejection"). Reproducing OpenSSL's exact construction means a wrong ciphertext gives the
 * same bytes here as under `openssl pkeyutl`, and the published vectors can check it.
 */
import { hashSync, hmacSync } from './hash.js';

function be16(x: number): Uint8Array {
  return new Uint8Array([(x >>> 8) & 0xff, x & 0xff]);
}

const LABEL_LENGTH = new TextEncoder().encode('length');
const LABEL_MESSAGE = new TextEncoder().encode('message');
/** OpenSSL draws 128 16-bit length candidates so rejection sampling practically never runs dry. */
const LENGTH_CANDIDATES = 128;

/** Key derivation key: HMAC-SHA256 keyed by SHA-256(d), over the ciphertext left-padded to k bytes. */
export function implicitRejectionKdk(dBytes: Uint8Array, ciphertextPadded: Uint8Array): Uint8Array {
  return hmacSync('SHA-256', hashSync('SHA-256', dBytes), ciphertextPadded);
}

/** The PRF: HMAC-SHA256(kdk, be16(i) || label || be16(bits)) for i = 0, 1, … truncated to `bytes`. */
export function implicitRejectionPrf(kdk: Uint8Array, label: Uint8Array, bytes: number): Uint8Array {
  const out = new Uint8Array(Math.ceil(bytes / 32) * 32);
  const input = new Uint8Array(2 + label.length + 2);
  input.set(label, 2);
  input.set(be16(bytes * 8), 2 + label.length);
  for (let i = 0, off = 0; off < bytes; i++, off += 32) {
    input.set(be16(i), 0);
    out.set(hmacSync('SHA-256', kdk, input), off);
  }
  return out.subarray(0, bytes);
}

/**
 * Returns the full k-byte synthetic buffer and the synthetic message length; the message is the
 * buffer's last `length` bytes. With `expectedLengths`, the length is one of them, so a caller that
 * knows its key size cannot tell a rejected ciphertext from a real key by its length.
 */
export function syntheticMessage(
  kdk: Uint8Array,
  k: number,
  expectedLengths: readonly number[] | undefined,
): { buffer: Uint8Array; length: number } {
  const buffer = implicitRejectionPrf(kdk, LABEL_MESSAGE, k);
  const cand = implicitRejectionPrf(kdk, LABEL_LENGTH, LENGTH_CANDIDATES * 2);
  const maxSepOffset = k - 2 - 8;
  let mask = maxSepOffset;
  mask |= mask >>> 1;
  mask |= mask >>> 2;
  mask |= mask >>> 4;
  mask |= mask >>> 8;
  let length = 0;
  if (expectedLengths && expectedLengths.length > 0) {
    const first = (cand[0]! << 8) | cand[1]!;
    length = expectedLengths[first % expectedLengths.length]!;
  } else {
    // OpenSSL keeps the LAST candidate below the bound, selecting without a data-dependent branch.
    for (let i = 0; i < LENGTH_CANDIDATES * 2; i += 2) {
      const c = ((cand[i]! << 8) | cand[i + 1]!) & mask;
      const take = -((c - maxSepOffset) >>> 31); // all ones when c < maxSepOffset
      length = (c & take) | (length & ~take);
    }
  }
  return { buffer, length };
}
