import { children, octets, readTlv, smallInt } from '../asn1/ber.js';
import { asBufferSource, concatBytes } from '../bytes.js';
import { aesKeyUnwrap } from '../crypto/aes-kw.js';
import { cbcDecrypt, type CbcCipher } from '../crypto/block-cipher.js';
import { x963Kdf, pbkdf2 } from '../crypto/kdf.js';
import { rsaDecryptOaep, rsaDecryptPkcs1v15, type HashName } from '../crypto/rsa.js';
import { UnsealError } from '../errors.js';
import type { PrivateKeyMaterial } from '../keys/types.js';
import { parseAlgorithm, type AlgorithmId } from './algorithm.js';
import type { KariInfo, KekriInfo, KtriInfo, PwriInfo } from './enveloped-parse.js';
import { OID } from './oids.js';

/** Recovers content-encryption keys from each kind of RecipientInfo (RFC 5652 §6.2). */

const HASHES: Record<string, HashName> = {
  [OID.sha1]: 'SHA-1',
  [OID.sha224]: 'SHA-224',
  [OID.sha256]: 'SHA-256',
  [OID.sha384]: 'SHA-384',
  [OID.sha512]: 'SHA-512',
};

function hashOf(a: AlgorithmId | undefined, fallback: HashName): HashName {
  if (!a) return fallback;
  const h = HASHES[a.oid];
  if (!h) throw new UnsealError('unsupported_algorithm', `hash ${a.oid} is not supported`);
  return h;
}

export interface OaepParams {
  hash: HashName;
  mgf1Hash: HashName;
  label: Uint8Array;
}

/** RSAES-OAEP-params (RFC 4055 §4.1); absent, NULL or empty parameters mean SHA-1/MGF1-SHA-1/no label. */
export function parseOaepParams(alg: AlgorithmId): OaepParams {
  const out: OaepParams = { hash: 'SHA-1', mgf1Hash: 'SHA-1', label: new Uint8Array(0) };
  if (!alg.params) return out;
  const p = alg.params;
  const t = readTlv(p, 0);
  if (t.tag !== 16) throw new UnsealError('malformed_cms', 'bad RSAES-OAEP parameters');
  for (const f of children(p, t)) {
    const inner = children(p, f)[0];
    if (!inner) continue;
    const a = parseAlgorithm(p, inner);
    if (f.tag === 0) out.hash = hashOf(a, 'SHA-1');
    else if (f.tag === 1) {
      if (a.oid !== OID.mgf1) throw new UnsealError('unsupported_algorithm', `mask generation function ${a.oid} is not supported`);
      out.mgf1Hash = a.params ? hashOf(parseAlgorithm(a.params, readTlv(a.params, 0)), 'SHA-1') : 'SHA-1';
    } else if (f.tag === 2) {
      if (a.oid !== OID.pSpecified) throw new UnsealError('unsupported_algorithm', `OAEP label source ${a.oid} is not supported`);
      if (a.params) out.label = octets(a.params, readTlv(a.params, 0));
    }
  }
  return out;
}

export function describeKtriAlgorithm(alg: AlgorithmId): string {
  if (alg.oid === OID.rsaEncryption) return 'RSAES-PKCS1-v1_5';
  if (alg.oid === OID.rsaesOaep) {
    const p = parseOaepParams(alg);
    return `RSAES-OAEP(${p.hash}, MGF1-${p.mgf1Hash}${p.label.length ? ', label' : ''})`;
  }
  return alg.oid;
}

export function unwrapKtri(ri: KtriInfo, key: PrivateKeyMaterial, cekLengths: readonly number[] | undefined): Uint8Array {
  if (key.type !== 'rsa') throw new UnsealError('no_matching_recipient', 'the matching key is not an RSA key');
  const alg = ri.keyEncryptionAlgorithm;
  if (alg.oid === OID.rsaEncryption) {
    // Implicit rejection: a bad padding yields a pseudo-random key that fails later, uniformly.
    return rsaDecryptPkcs1v15(key.rsa, ri.encryptedKey, cekLengths);
  }
  if (alg.oid === OID.rsaesOaep) {
    const p = parseOaepParams(alg);
    return rsaDecryptOaep(key.rsa, ri.encryptedKey, { hash: p.hash, mgf1Hash: p.mgf1Hash, label: p.label });
  }
  throw new UnsealError('unsupported_algorithm', `key transport algorithm ${alg.oid} is not supported`);
}

const WRAP_KEK_LENGTH: Record<string, number> = { [OID.aes128Wrap]: 16, [OID.aes192Wrap]: 24, [OID.aes256Wrap]: 32 };

const KARI_SCHEMES: Record<string, { kdf: 'x963' | 'hkdf'; hash: HashName }> = {
  [OID.stdDhSha1Kdf]: { kdf: 'x963', hash: 'SHA-1' },
  [OID.stdDhSha224Kdf]: { kdf: 'x963', hash: 'SHA-224' },
  [OID.stdDhSha256Kdf]: { kdf: 'x963', hash: 'SHA-256' },
  [OID.stdDhSha384Kdf]: { kdf: 'x963', hash: 'SHA-384' },
  [OID.stdDhSha512Kdf]: { kdf: 'x963', hash: 'SHA-512' },
  // Cofactor DH equals standard DH on P-256/384/521 (cofactor 1).
  [OID.cofactorDhSha1Kdf]: { kdf: 'x963', hash: 'SHA-1' },
  [OID.cofactorDhSha224Kdf]: { kdf: 'x963', hash: 'SHA-224' },
  [OID.cofactorDhSha256Kdf]: { kdf: 'x963', hash: 'SHA-256' },
  [OID.cofactorDhSha384Kdf]: { kdf: 'x963', hash: 'SHA-384' },
  [OID.cofactorDhSha512Kdf]: { kdf: 'x963', hash: 'SHA-512' },
  [OID.dhSinglePassStdDhHkdfSha256]: { kdf: 'hkdf', hash: 'SHA-256' },
  [OID.dhSinglePassStdDhHkdfSha384]: { kdf: 'hkdf', hash: 'SHA-384' },
  [OID.dhSinglePassStdDhHkdfSha512]: { kdf: 'hkdf', hash: 'SHA-512' },
};

export function describeKariAlgorithm(alg: AlgorithmId): string {
  const s = KARI_SCHEMES[alg.oid];
  const wrap = alg.params ? parseAlgorithm(alg.params, readTlv(alg.params, 0)) : undefined;
  const w = wrap ? (WRAP_KEK_LENGTH[wrap.oid] ? `AES-${WRAP_KEK_LENGTH[wrap.oid]! * 8}-KW` : wrap.oid) : '?';
  return s ? `ECDH(${s.kdf === 'x963' ? 'X9.63' : 'HKDF'}-${s.hash}, ${w})` : alg.oid;
}

function der(tag: number, content: Uint8Array): Uint8Array {
  const n = content.length;
  const len = n < 0x80 ? [n] : n < 0x100 ? [0x81, n] : [0x82, n >> 8, n & 0xff];
  return concatBytes([new Uint8Array([tag, ...len]), content]);
}

/** ECC-CMS-SharedInfo (RFC 5753 §7.2): entityUInfo is omitted when there is no UKM (not empty). */
export function eccCmsSharedInfo(wrapAlgDer: Uint8Array, ukm: Uint8Array | undefined, kekBits: number): Uint8Array {
  const supp = new Uint8Array([(kekBits >>> 24) & 0xff, (kekBits >>> 16) & 0xff, (kekBits >>> 8) & 0xff, kekBits & 0xff]);
  const parts = [wrapAlgDer];
  if (ukm) parts.push(der(0xa0, der(0x04, ukm)));
  parts.push(der(0xa2, der(0x04, supp)));
  return der(0x30, concatBytes(parts));
}

const CURVE_BITS: Record<string, number> = { 'P-256': 256, 'P-384': 384, 'P-521': 528 };

async function sharedSecret(crypto: SubtleCrypto, key: PrivateKeyMaterial, originatorPoint: Uint8Array): Promise<Uint8Array> {
  if (key.type === 'ec') {
    // RFC 5753: the originator's key is on the recipient's curve, whatever (explicit) parameters it states.
    const algo = { name: 'ECDH', namedCurve: key.curve };
    const priv = await crypto.importKey('pkcs8', asBufferSource(key.pkcs8), algo, false, ['deriveBits']);
    const pub = await crypto.importKey('raw', asBufferSource(originatorPoint), algo, false, []);
    return new Uint8Array(await crypto.deriveBits({ name: 'ECDH', public: pub }, priv, CURVE_BITS[key.curve]!));
  }
  if (key.type === 'x25519' || key.type === 'x448') {
    const name = key.type === 'x25519' ? 'X25519' : 'X448';
    const priv = await crypto.importKey('pkcs8', asBufferSource(key.pkcs8), { name }, false, ['deriveBits']);
    const pub = await crypto.importKey('raw', asBufferSource(originatorPoint), { name }, false, []);
    return new Uint8Array(await crypto.deriveBits({ name, public: pub } as unknown as EcdhKeyDeriveParams, priv, key.type === 'x25519' ? 256 : 448));
  }
  throw new UnsealError('no_matching_recipient', 'the matching key cannot do key agreement');
}

export async function unwrapKari(crypto: SubtleCrypto, ri: KariInfo, encryptedKey: Uint8Array, key: PrivateKeyMaterial): Promise<Uint8Array> {
  const scheme = KARI_SCHEMES[ri.keyEncryptionAlgorithm.oid];
  if (!scheme) throw new UnsealError('unsupported_algorithm', `key agreement algorithm ${ri.keyEncryptionAlgorithm.oid} is not supported`);
  if (ri.originator.type !== 'publicKey') {
    throw new UnsealError('unsupported_algorithm', 'key agreement with a static originator key (no ephemeral public key) is not supported');
  }
  const wrapParams = ri.keyEncryptionAlgorithm.params;
  if (!wrapParams) throw new UnsealError('malformed_cms', 'key agreement without a key wrap algorithm');
  const wrap = parseAlgorithm(wrapParams, readTlv(wrapParams, 0));
  const kekLen = WRAP_KEK_LENGTH[wrap.oid];
  if (!kekLen) throw new UnsealError('unsupported_algorithm', `key wrap algorithm ${wrap.oid} is not supported`);
  let z: Uint8Array;
  try {
    z = await sharedSecret(crypto, key, ri.originator.publicKey);
  } catch (e) {
    if (e instanceof UnsealError) throw e;
    throw new UnsealError('decryption_failed', 'the originator public key is not usable with this key', { cause: e });
  }
  const info = eccCmsSharedInfo(wrap.der, ri.ukm, kekLen * 8);
  let kek: Uint8Array;
  if (scheme.kdf === 'x963') kek = x963Kdf(scheme.hash, z, info, kekLen);
  else {
    // RFC 8418 §2.2: HKDF with the UKM (if any) as salt and ECC-CMS-SharedInfo as info.
    const ikm = await crypto.importKey('raw', asBufferSource(z), 'HKDF', false, ['deriveBits']);
    const bits = await crypto.deriveBits(
      { name: 'HKDF', hash: scheme.hash, salt: asBufferSource(ri.ukm ?? new Uint8Array(0)), info: asBufferSource(info) },
      ikm,
      kekLen * 8,
    );
    kek = new Uint8Array(bits);
  }
  return aesKeyUnwrap(crypto, kek, encryptedKey);
}

export async function unwrapKekri(crypto: SubtleCrypto, ri: KekriInfo, kek: Uint8Array): Promise<Uint8Array> {
  const need = WRAP_KEK_LENGTH[ri.keyEncryptionAlgorithm.oid];
  if (!need) throw new UnsealError('unsupported_algorithm', `KEK wrap algorithm ${ri.keyEncryptionAlgorithm.oid} is not supported`);
  if (kek.length !== need) throw new UnsealError('usage', `the KEK must be ${need} bytes for ${ri.keyEncryptionAlgorithm.oid}, got ${kek.length}`);
  return aesKeyUnwrap(crypto, kek, ri.encryptedKey);
}

const PRF: Record<string, HashName> = {
  [OID.hmacSha1]: 'SHA-1',
  [OID.hmacSha224]: 'SHA-224',
  [OID.hmacSha256]: 'SHA-256',
  [OID.hmacSha384]: 'SHA-384',
  [OID.hmacSha512]: 'SHA-512',
};

const PWRI_CIPHERS: Record<string, { cipher: CbcCipher; keyLength: number; block: number }> = {
  [OID.aes128Cbc]: { cipher: 'aes-128-cbc', keyLength: 16, block: 16 },
  [OID.aes192Cbc]: { cipher: 'aes-192-cbc', keyLength: 24, block: 16 },
  [OID.aes256Cbc]: { cipher: 'aes-256-cbc', keyLength: 32, block: 16 },
  [OID.desEde3Cbc]: { cipher: 'des-ede3-cbc', keyLength: 24, block: 8 },
};

/** RFC 3211 password recipient: PBKDF2 → KEK, then the two-pass CBC key unwrap with its check bytes. */
export async function unwrapPwri(crypto: SubtleCrypto, ri: PwriInfo, password: Uint8Array): Promise<Uint8Array> {
  const kdf = ri.keyDerivationAlgorithm;
  if (!kdf || kdf.oid !== OID.pbkdf2 || !kdf.params) throw new UnsealError('unsupported_algorithm', 'password recipient without PBKDF2 is not supported');
  const p = kdf.params;
  const f = children(p, readTlv(p, 0));
  const saltT = f[0];
  if (!saltT || saltT.tag !== 4) throw new UnsealError('malformed_cms', 'PBKDF2 salt must be an OCTET STRING');
  const salt = octets(p, saltT);
  const iterations = smallInt(p, f[1]!);
  let prf: HashName = 'SHA-1';
  for (const x of f.slice(2)) if (x.tag === 16) prf = PRF[parseAlgorithm(p, x).oid] ?? fail(`PBKDF2 PRF ${parseAlgorithm(p, x).oid}`);
  if (iterations < 1 || iterations > 10_000_000) throw new UnsealError('malformed_cms', `unreasonable PBKDF2 iteration count ${iterations}`);

  const kea = ri.keyEncryptionAlgorithm;
  if (kea.oid !== OID.pwriKek || !kea.params) throw new UnsealError('unsupported_algorithm', `password key encryption ${kea.oid} is not supported`);
  const inner = parseAlgorithm(kea.params, readTlv(kea.params, 0));
  const c = PWRI_CIPHERS[inner.oid];
  if (!c || !inner.params) throw new UnsealError('unsupported_algorithm', `PWRI-KEK cipher ${inner.oid} is not supported`);
  const iv = octets(inner.params, readTlv(inner.params, 0));
  const kek = await pbkdf2(crypto, prf, password, salt, iterations, c.keyLength);

  const ek = ri.encryptedKey;
  const b = c.block;
  if (ek.length < 2 * b || ek.length % b !== 0) throw new UnsealError('malformed_cms', 'bad PWRI encrypted key length');
  const dec = (ivx: Uint8Array, data: Uint8Array) => cbcDecrypt(crypto, { cipher: c.cipher, key: kek, iv: ivx, data, padding: false });
  const n = ek.length;
  // Undo the outer pass: the last block first (chained from the one before), then the rest chained from it.
  const lastPlain = await dec(ek.subarray(n - 2 * b, n - b), ek.subarray(n - b));
  const head = await dec(lastPlain, ek.subarray(0, n - b));
  const plain = await dec(iv, concatBytes([head, lastPlain]));
  const len = plain[0]!;
  const check = (plain[1]! ^ plain[4]!) & (plain[2]! ^ plain[5]!) & (plain[3]! ^ plain[6]!);
  if (check !== 0xff || len < 1 || len > n - 4) throw new UnsealError('decryption_failed', 'wrong password for the password recipient');
  return plain.slice(4, 4 + len);
}

function fail(what: string): never {
  throw new UnsealError('unsupported_algorithm', `${what} is not supported`);
}

