import { UnsealError } from '../errors.js';
import type { KeyRecord } from '../keys/types.js';
import type { RemoteUnwrapRequest } from './decrypt.js';
import { parseRecipientInfoDer } from './enveloped-parse.js';
import { keyMatches } from './recipient-match.js';
import { unwrapKari, unwrapKtri } from './recipient-unwrap.js';

/**
 * The holder's half of DecryptionMaterial.remote: recovers the content-encryption key of one
 * RecipientInfo with one private key, with the same code a local key uses (so RSAES-PKCS1-v1_5
 * keeps its implicit rejection: a bad padding yields a pseudo-random key of one of `cekLengths`,
 * indistinguishable from a good one until the content fails to decrypt on the caller's side).
 * The recipient must name this key (issuer+serial or SKI): the holder is never a decryption oracle
 * for recipients addressed to someone else.
 */
export async function unwrapRecipientWithKey(crypto: SubtleCrypto, key: KeyRecord, req: Omit<RemoteUnwrapRequest, 'keyId'>): Promise<Uint8Array> {
  const ri = parseRecipientInfoDer(req.recipientInfo);
  if (ri.type === 'ktri') {
    if (req.rekIndex !== undefined) throw new UnsealError('malformed_cms', 'rekIndex is only for key agreement recipients');
    if (key.privateKey.type !== 'rsa' || !keyMatches(key, ri.rid)) throw new UnsealError('no_matching_recipient', 'the recipient is not addressed to this key');
    for (const n of req.cekLengths ?? []) {
      if (!Number.isInteger(n) || n < 1 || n > 64) throw new UnsealError('malformed_cms', `content-encryption key length ${n} is not plausible`);
    }
    return unwrapKtri(ri, key.privateKey, req.cekLengths && req.cekLengths.length > 0 ? req.cekLengths : undefined);
  }
  if (req.cekLengths !== undefined) throw new UnsealError('malformed_cms', 'cekLengths is only for key transport recipients');
  const rek = req.rekIndex === undefined ? undefined : ri.recipientEncryptedKeys[req.rekIndex];
  if (!rek) throw new UnsealError('malformed_cms', 'the key agreement recipient has no RecipientEncryptedKey at rekIndex');
  if (key.privateKey.type === 'rsa' || !keyMatches(key, rek.rid)) throw new UnsealError('no_matching_recipient', 'the recipient is not addressed to this key');
  return unwrapKari(crypto, ri, rek.encryptedKey, key.privateKey);
}
