import { chacha20poly1305 } from '@noble/ciphers/chacha.js';
import { children, joinChunks, octets, readTlv, smallInt } from '../asn1/ber.js';
import { asBufferSource } from '../bytes.js';
import { cbcDecryptChunks, type CbcCipher } from '../crypto/block-cipher.js';
import { rc2EffectiveBitsFromVersion } from '../crypto/rc2.js';
import { UnsealError } from '../errors.js';
import type { AlgorithmId } from './algorithm.js';
import { OID } from './oids.js';

/** What a content-encryption algorithm needs, resolved from its AlgorithmIdentifier. */
export type ContentCipher =
  | { readonly mode: 'cbc'; readonly cipher: CbcCipher; readonly iv: Uint8Array; readonly keyLengths?: readonly number[]; readonly rc2EffectiveBits?: number; readonly name: string }
  | { readonly mode: 'gcm'; readonly nonce: Uint8Array; readonly tagLength: number; readonly keyLengths: readonly number[]; readonly name: string }
  | { readonly mode: 'chacha20-poly1305'; readonly nonce: Uint8Array; readonly keyLengths: readonly number[]; readonly name: string };

const CBC: Record<string, { cipher: CbcCipher; keyLength: number; name: string }> = {
  [OID.aes128Cbc]: { cipher: 'aes-128-cbc', keyLength: 16, name: 'AES-128-CBC' },
  [OID.aes192Cbc]: { cipher: 'aes-192-cbc', keyLength: 24, name: 'AES-192-CBC' },
  [OID.aes256Cbc]: { cipher: 'aes-256-cbc', keyLength: 32, name: 'AES-256-CBC' },
  [OID.desCbc]: { cipher: 'des-cbc', keyLength: 8, name: 'DES-CBC' },
  [OID.desEde3Cbc]: { cipher: 'des-ede3-cbc', keyLength: 24, name: '3DES-CBC' },
};

const GCM: Record<string, { keyLength: number; name: string }> = {
  [OID.aes128Gcm]: { keyLength: 16, name: 'AES-128-GCM' },
  [OID.aes192Gcm]: { keyLength: 24, name: 'AES-192-GCM' },
  [OID.aes256Gcm]: { keyLength: 32, name: 'AES-256-GCM' },
};

function ivParam(alg: AlgorithmId, what: string): Uint8Array {
  if (!alg.params) throw new UnsealError('malformed_cms', `${what} without IV`);
  const t = readTlv(alg.params, 0);
  if (t.cls !== 0 || t.tag !== 4) throw new UnsealError('malformed_cms', `${what} IV is not an OCTET STRING`);
  return octets(alg.params, t);
}

export function resolveContentCipher(alg: AlgorithmId, authenticated: boolean): ContentCipher {
  const cbc = CBC[alg.oid];
  if (cbc) {
    if (authenticated) throw new UnsealError('malformed_cms', `${cbc.name} cannot be used in AuthEnvelopedData`);
    const iv = ivParam(alg, cbc.name);
    if (iv.length !== (cbc.cipher.startsWith('aes') ? 16 : 8)) throw new UnsealError('malformed_cms', `${cbc.name} IV has the wrong length`);
    return { mode: 'cbc', cipher: cbc.cipher, iv, keyLengths: [cbc.keyLength], name: cbc.name };
  }
  if (alg.oid === OID.rc2Cbc) {
    if (authenticated) throw new UnsealError('malformed_cms', 'RC2 cannot be used in AuthEnvelopedData');
    if (!alg.params) throw new UnsealError('malformed_cms', 'RC2-CBC without parameters');
    const t = readTlv(alg.params, 0);
    let bits = 32; // RFC 2268 §6: an absent version means 32 effective bits
    let iv: Uint8Array;
    if (t.cls === 0 && t.tag === 4) iv = octets(alg.params, t);
    else {
      const kids = children(alg.params, t);
      const last = kids[kids.length - 1];
      if (!last || last.tag !== 4) throw new UnsealError('malformed_cms', 'bad RC2CBCParameter');
      iv = octets(alg.params, last);
      if (kids.length === 2) bits = rc2EffectiveBitsFromVersion(smallInt(alg.params, kids[0]!));
    }
    if (iv.length !== 8) throw new UnsealError('malformed_cms', 'RC2 IV has the wrong length');
    return { mode: 'cbc', cipher: 'rc2-cbc', iv, rc2EffectiveBits: bits, keyLengths: [Math.ceil(bits / 8), 16], name: `RC2-${bits}-CBC` };
  }
  const gcm = GCM[alg.oid];
  if (gcm) {
    // GCM in plain EnvelopedData has nowhere to carry the tag (pkijs produces this): refuse.
    if (!authenticated) throw new UnsealError('malformed_cms', `${gcm.name} in EnvelopedData has no authentication tag; it needs AuthEnvelopedData (RFC 5083)`);
    if (!alg.params) throw new UnsealError('malformed_cms', 'GCM without parameters');
    const kids = children(alg.params, readTlv(alg.params, 0));
    const n = kids[0];
    if (!n || n.tag !== 4) throw new UnsealError('malformed_cms', 'bad GCMParameters');
    const tagLength = kids[1] ? smallInt(alg.params, kids[1]) : 12;
    if (tagLength < 12 || tagLength > 16) throw new UnsealError('malformed_cms', `GCM tag length ${tagLength} is not allowed`);
    return { mode: 'gcm', nonce: octets(alg.params, n), tagLength, keyLengths: [gcm.keyLength], name: gcm.name };
  }
  if (alg.oid === OID.chacha20Poly1305) {
    if (!authenticated) throw new UnsealError('malformed_cms', 'ChaCha20-Poly1305 needs AuthEnvelopedData');
    return { mode: 'chacha20-poly1305', nonce: ivParam(alg, 'ChaCha20-Poly1305'), keyLengths: [32], name: 'ChaCha20-Poly1305' };
  }
  throw new UnsealError('unsupported_algorithm', `content encryption algorithm ${alg.oid} is not supported`);
}

const COULD_NOT_DECRYPT = 'could not decrypt the message content (wrong key, or the message was altered)';

/**
 * Decrypts the content (the ciphertext's pieces, see Envelope.encryptedContent) and returns it only if every check passed: CBC padding,
 * GCM/Poly1305 tag. Nothing partial ever leaves this function, and every failure has the same
 * message so the caller is no padding or tag oracle.
 */
export async function decryptContent(
  crypto: SubtleCrypto,
  c: ContentCipher,
  cek: Uint8Array,
  pieces: readonly Uint8Array[],
  auth?: { mac: Uint8Array; aad?: Uint8Array },
): Promise<Uint8Array> {
  try {
    switch (c.mode) {
      case 'cbc': {
        let length = 0;
        for (const p of pieces) length += p.length;
        if (length === 0 || length % (c.cipher.startsWith('aes') ? 16 : 8) !== 0) {
          throw new UnsealError('malformed_cms', 'encrypted content is not a whole number of cipher blocks (truncated?)');
        }
        return await cbcDecryptChunks(crypto, {
          cipher: c.cipher,
          key: cek,
          iv: c.iv,
          chunks: pieces,
          ...(c.rc2EffectiveBits !== undefined ? { rc2EffectiveBits: c.rc2EffectiveBits } : {}),
          padding: true,
        });
      }
      case 'gcm': {
        if (!auth) throw new UnsealError('malformed_cms', 'GCM content without a MAC');
        if (auth.mac.length !== c.tagLength) throw new UnsealError('malformed_cms', 'GCM tag length does not match its parameters');
        const key = await crypto.importKey('raw', asBufferSource(cek), 'AES-GCM', false, ['decrypt']);
        // One contiguous copy, ciphertext then tag (WebCrypto's AES-GCM input), also of BER pieces.
        const joined = joinChunks([...pieces, auth.mac]);
        const out = await crypto.decrypt(
          { name: 'AES-GCM', iv: asBufferSource(c.nonce), tagLength: c.tagLength * 8, ...(auth.aad ? { additionalData: asBufferSource(auth.aad) } : {}) },
          key,
          asBufferSource(joined),
        );
        return new Uint8Array(out);
      }
      case 'chacha20-poly1305': {
        if (!auth) throw new UnsealError('malformed_cms', 'ChaCha20-Poly1305 content without a MAC');
        return chacha20poly1305(cek, c.nonce, auth.aad).decrypt(joinChunks([...pieces, auth.mac]));
      }
    }
  } catch (e) {
    if (e instanceof UnsealError && e.kind === 'malformed_cms') throw e;
    throw new UnsealError('decryption_failed', COULD_NOT_DECRYPT, { cause: e });
  }
}
