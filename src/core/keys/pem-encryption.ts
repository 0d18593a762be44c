/**
 * OpenSSL's traditional PEM encryption (`Proc-Type: 4,ENCRYPTED` + `DEK-Info: CIPHER,IVHEX`), as
 * written by `openssl rsa -aes256` and `openssl genrsa -des3` before PKCS#8 became the default:
 * the key is EVP_BytesToKey(MD5, salt = first 8 IV bytes, 1 iteration) over the raw password.
 */
import { md5 } from '@noble/hashes/legacy.js';
import { hexDecode } from '../bytes.js';
import { isUnsealError } from '../errors.js';
import { cbcDecrypt, type CbcCipher } from '../crypto/block-cipher.js';
import { unreadable, unsupported, wrongPassword } from './key-errors.js';

const CIPHERS: Record<string, { cipher: CbcCipher; keyLen: number }> = {
  'AES-128-CBC': { cipher: 'aes-128-cbc', keyLen: 16 },
  'AES-192-CBC': { cipher: 'aes-192-cbc', keyLen: 24 },
  'AES-256-CBC': { cipher: 'aes-256-cbc', keyLen: 32 },
  'DES-EDE3-CBC': { cipher: 'des-ede3-cbc', keyLen: 24 },
  'DES-CBC': { cipher: 'des-cbc', keyLen: 8 },
};

export function isTraditionallyEncrypted(headers: Record<string, string>): boolean {
  return /ENCRYPTED/i.test(headers['Proc-Type'] ?? '') && headers['DEK-Info'] !== undefined;
}

export async function decryptTraditionalPem(crypto: SubtleCrypto, der: Uint8Array, headers: Record<string, string>, password: string | undefined): Promise<Uint8Array> {
  const [name, ivHex] = (headers['DEK-Info'] ?? '').split(',').map((s) => s.trim());
  const alg = CIPHERS[(name ?? '').toUpperCase()];
  if (!alg) unsupported(`unsupported PEM encryption ${name}`);
  let iv: Uint8Array;
  try {
    iv = hexDecode(ivHex ?? '');
  } catch {
    unreadable('private key', 'bad DEK-Info IV');
  }
  if (iv.length < 8) unreadable('private key', 'bad DEK-Info IV');
  const pw = new TextEncoder().encode(password ?? '');
  const key = bytesToKey(pw, iv.subarray(0, 8), alg.keyLen);
  try {
    return await cbcDecrypt(crypto, { cipher: alg.cipher, key, iv, data: der, padding: true });
  } catch (e) {
    if (isUnsealError(e) && e.kind === 'decryption_failed') wrongPassword('the private key', e);
    throw e;
  }
}

function bytesToKey(password: Uint8Array, salt: Uint8Array, len: number): Uint8Array {
  const out = new Uint8Array(len);
  let prev = new Uint8Array(0);
  for (let o = 0; o < len; ) {
    const input = new Uint8Array(prev.length + password.length + salt.length);
    input.set(prev, 0);
    input.set(password, prev.length);
    input.set(salt, prev.length + password.length);
    prev = md5(input);
    out.set(prev.subarray(0, Math.min(prev.length, len - o)), o);
    o += prev.length;
  }
  return out;
}
