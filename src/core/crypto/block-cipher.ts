/**
 * One entry point for the CBC content ciphers of CMS and PKCS#12. AES goes to WebCrypto (native
 * speed for 100 MB mail); DES, 3DES and RC2, which WebCrypto lacks, go to WebAssembly (./wasm/legacy.ts:
 * Thunderbird on Debian runs JS without its baseline JIT), which falls back to the table-driven JS code.
 */
import { asBufferSource } from '../bytes.js';
import { UnsealError } from '../errors.js';
import { addPkcs7Padding, removePkcs7Padding } from './padding.js';
import { desCbcDecrypt, desCbcEncrypt, desEde3CbcDecrypt, desEde3CbcEncrypt, rc2CbcDecrypt, rc2CbcEncrypt } from './wasm/legacy.js';

export type CbcCipher = 'aes-128-cbc' | 'aes-192-cbc' | 'aes-256-cbc' | 'des-cbc' | 'des-ede3-cbc' | 'rc2-cbc';

export interface CbcParams {
  cipher: CbcCipher;
  key: Uint8Array;
  iv: Uint8Array;
  data: Uint8Array;
  rc2EffectiveBits?: number;
  padding: boolean;
}

const FAILED = 'could not decrypt';

export function cbcBlockSize(c: CbcCipher): number {
  return c.startsWith('aes-') ? 16 : 8;
}

export function cbcKeyLength(c: CbcCipher): number | undefined {
  switch (c) {
    case 'aes-128-cbc':
      return 16;
    case 'aes-192-cbc':
      return 24;
    case 'aes-256-cbc':
      return 32;
    case 'des-cbc':
      return 8;
    case 'des-ede3-cbc':
      return 24;
    case 'rc2-cbc':
      return undefined;
  }
}

function isAes(c: CbcCipher): boolean {
  return c === 'aes-128-cbc' || c === 'aes-192-cbc' || c === 'aes-256-cbc';
}

function checkShape(p: CbcParams, forDecrypt: boolean): void {
  const bs = cbcBlockSize(p.cipher);
  const kl = cbcKeyLength(p.cipher);
  // A CEK of the wrong length is what a wrong-key RSA v1.5 unwrap produces: same error as the rest.
  const keyOk =
    kl === undefined ? p.key.length > 0 : p.key.length === kl || (p.cipher === 'des-ede3-cbc' && p.key.length === 16);
  if (!keyOk || p.iv.length !== bs) throw new UnsealError('decryption_failed', FAILED);
  if (forDecrypt && (p.data.length % bs !== 0 || (p.padding && p.data.length === 0))) {
    throw new UnsealError('decryption_failed', FAILED);
  }
  if (!forDecrypt && !p.padding && p.data.length % bs !== 0) {
    throw new RangeError('data must be a whole number of blocks without padding');
  }
}

async function importAes(crypto: SubtleCrypto, key: Uint8Array, usages: KeyUsage[]): Promise<CryptoKey> {
  return crypto.importKey('raw', asBufferSource(key), { name: 'AES-CBC' }, false, usages);
}

/** `into` (decryption only): where the plaintext goes instead of a new array. */
function legacyRaw(p: CbcParams, encrypt: boolean, data: Uint8Array, into?: Uint8Array): Uint8Array {
  switch (p.cipher) {
    case 'des-cbc':
      return encrypt ? desCbcEncrypt(p.key, p.iv, data) : desCbcDecrypt(p.key, p.iv, data, into);
    case 'des-ede3-cbc':
      return encrypt ? desEde3CbcEncrypt(p.key, p.iv, data) : desEde3CbcDecrypt(p.key, p.iv, data, into);
    case 'rc2-cbc': {
      // RFC 2268: without an explicit value the effective key length is the key's own length.
      const bits = p.rc2EffectiveBits ?? Math.min(1024, p.key.length * 8);
      return encrypt ? rc2CbcEncrypt(p.key, bits, p.iv, data) : rc2CbcDecrypt(p.key, bits, p.iv, data, into);
    }
    default:
      throw new Error(`not a legacy cipher: ${p.cipher}`);
  }
}

/**
 * Large content is decrypted in segments of this size into one output buffer, CBC-chained (the
 * next segment's IV is the previous segment's last ciphertext block). One call over a whole 100 MB
 * message holds WebCrypto's copy of its input and its separate output, or grows the WebAssembly
 * memory (which never shrinks) to twice the message; segments keep that to a few MiB. BER content
 * arrives as chunks: they are read segment by segment too, never joined into one copy first.
 */
export const CBC_SEGMENT_BYTES = 2 * 1024 * 1024;

function totalLength(chunks: readonly Uint8Array[]): number {
  let n = 0;
  for (const c of chunks) n += c.length;
  return n;
}

/** The bytes [from, from+len) of the concatenated chunks: a view when they lie in one chunk, else copied into `scratch`. */
function gather(chunks: readonly Uint8Array[], at: { chunk: number; offset: number }, len: number, scratch: Uint8Array, forceCopy: boolean): Uint8Array {
  const first = chunks[at.chunk]!;
  if (!forceCopy && first.length - at.offset >= len) {
    const v = first.subarray(at.offset, at.offset + len);
    at.offset += len;
    if (at.offset === first.length) (at.chunk++, (at.offset = 0));
    return v;
  }
  let filled = 0;
  while (filled < len) {
    const c = chunks[at.chunk]!;
    const take = Math.min(len - filled, c.length - at.offset);
    scratch.set(c.subarray(at.offset, at.offset + take), filled);
    filled += take;
    at.offset += take;
    if (at.offset === c.length) (at.chunk++, (at.offset = 0));
  }
  return scratch.subarray(0, len);
}

/**
 * CBC decryption of content given as chunks (a BER constructed OCTET STRING's pieces, or one
 * buffer), with PKCS#7 padding checked at the end. All or nothing: the output is returned only
 * when every segment decrypted and the final padding is valid; on failure it is wiped.
 */
export async function cbcDecryptChunks(crypto: SubtleCrypto, p: Omit<CbcParams, 'data'> & { chunks: readonly Uint8Array[] }): Promise<Uint8Array> {
  const chunks = p.chunks.filter((c) => c.length > 0);
  const total = totalLength(chunks);
  if (total <= CBC_SEGMENT_BYTES || chunks.length === 0) {
    const data = chunks.length === 1 ? chunks[0]! : gather(chunks, { chunk: 0, offset: 0 }, total, new Uint8Array(total), true);
    return cbcDecrypt(crypto, { ...p, data });
  }
  const bs = cbcBlockSize(p.cipher);
  // The key and IV checks of checkShape (the length checks: below, on the total).
  checkShape({ ...p, data: new Uint8Array(bs) }, true);
  if (total % bs !== 0) throw new UnsealError('decryption_failed', FAILED);
  const out = new Uint8Array(total);
  const scratch = new Uint8Array(CBC_SEGMENT_BYTES + 16);
  const at = { chunk: 0, offset: 0 };
  let iv = p.iv;
  let written = 0;
  try {
    const aesKey = isAes(p.cipher) ? await importAes(crypto, p.key, ['encrypt', 'decrypt']) : undefined;
    for (let done = 0; done < total; ) {
      const len = Math.min(CBC_SEGMENT_BYTES, total - done);
      const last = done + len === total;
      let plain: Uint8Array;
      let placed = false;
      if (aesKey) {
        // A middle segment gets the block that makes WebCrypto's padding check pass (see cbcDecrypt).
        const seg = gather(chunks, at, len, scratch, !last);
        const nextIv = seg.slice(len - 16);
        if (last) plain = new Uint8Array(await crypto.decrypt({ name: 'AES-CBC', iv: asBufferSource(iv) }, aesKey, asBufferSource(seg)));
        else {
          const padBlock = new Uint8Array(16).fill(16);
          const enc = new Uint8Array(await crypto.encrypt({ name: 'AES-CBC', iv: asBufferSource(nextIv) }, aesKey, padBlock));
          scratch.set(enc.subarray(0, 16), len);
          plain = new Uint8Array(await crypto.decrypt({ name: 'AES-CBC', iv: asBufferSource(iv) }, aesKey, scratch.subarray(0, len + 16)));
        }
        iv = nextIv;
      } else {
        const seg = gather(chunks, at, len, scratch, false);
        const nextIv = seg.slice(len - bs);
        // Straight into the output: no per-segment copy to collect.
        plain = legacyRaw({ ...p, iv, data: seg }, false, seg, out.subarray(written));
        placed = true;
        if (last && p.padding) plain = removePkcs7Padding(plain, bs);
        iv = nextIv;
      }
      if (!placed) out.set(plain, written);
      written += plain.length;
      done += len;
    }
    return out.subarray(0, written);
  } catch (e) {
    out.fill(0);
    throw e instanceof UnsealError ? e : new UnsealError('decryption_failed', FAILED, { cause: e });
  }
}

export async function cbcDecrypt(crypto: SubtleCrypto, p: CbcParams): Promise<Uint8Array> {
  checkShape(p, true);
  if (!isAes(p.cipher)) {
    const raw = legacyRaw(p, false, p.data);
    return p.padding ? removePkcs7Padding(raw, 8) : raw;
  }
  if (p.data.length === 0) return new Uint8Array(0);
  try {
    if (p.padding) {
      const key = await importAes(crypto, p.key, ['decrypt']);
      return new Uint8Array(await crypto.decrypt({ name: 'AES-CBC', iv: asBufferSource(p.iv) }, key, asBufferSource(p.data)));
    }
    // WebCrypto always strips PKCS#7 padding and fails when there is none. Append the block that
    // CBC-encrypting one full padding block (16 × 0x10) after the last ciphertext block gives; then
    // the check passes and exactly that block is removed, leaving the raw plaintext blocks.
    const key = await importAes(crypto, p.key, ['encrypt', 'decrypt']);
    const last = p.data.subarray(p.data.length - 16);
    const padBlock = new Uint8Array(16).fill(16);
    const enc = new Uint8Array(await crypto.encrypt({ name: 'AES-CBC', iv: asBufferSource(last.slice()) }, key, padBlock));
    const extended = new Uint8Array(p.data.length + 16);
    extended.set(p.data);
    extended.set(enc.subarray(0, 16), p.data.length);
    return new Uint8Array(await crypto.decrypt({ name: 'AES-CBC', iv: asBufferSource(p.iv) }, key, extended));
  } catch (e) {
    throw new UnsealError('decryption_failed', FAILED, { cause: e });
  }
}

export async function cbcEncrypt(crypto: SubtleCrypto, p: CbcParams): Promise<Uint8Array> {
  checkShape(p, false);
  if (!isAes(p.cipher)) return legacyRaw(p, true, p.padding ? addPkcs7Padding(p.data, 8) : p.data);
  const key = await importAes(crypto, p.key, ['encrypt']);
  const out = new Uint8Array(await crypto.encrypt({ name: 'AES-CBC', iv: asBufferSource(p.iv) }, key, asBufferSource(p.data)));
  // Without padding, the block WebCrypto appended for its own padding is not part of the result.
  return p.padding ? out : out.subarray(0, p.data.length);
}
