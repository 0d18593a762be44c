import { webcrypto } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decryptEnvelope, type RemoteKeySource, type RemoteUnwrapRequest } from '../../../src/core/cms/decrypt.js';
import { parseEnvelope, parseRecipientInfoDer } from '../../../src/core/cms/enveloped-parse.js';
import { unwrapRecipientWithKey } from '../../../src/core/cms/remote-unwrap.js';
import { UnsealError } from '../../../src/core/errors.js';
import { loadKeyFile } from '../../../src/core/keys/load.js';
import type { KeyRecord } from '../../../src/core/keys/types.js';
import { CORPUS } from '../../helpers/corpus.js';

/**
 * DecryptionMaterial.remote: the core matches recipients against a remote key's certificate and
 * decrypts the content itself; only the unwrap of a matched recipient goes to the key's holder
 * (here a function over unwrapRecipientWithKey, as in the native host).
 */
const subtle = webcrypto.subtle as SubtleCrypto;
const P = join(CORPUS, 'producers');
const der = (name: string) => new Uint8Array(readFileSync(join(P, 'enveloped', name)));

async function keys(name: string): Promise<KeyRecord[]> {
  const bytes = new Uint8Array(Buffer.concat([readFileSync(join(P, 'keys', `${name}.key`)), readFileSync(join(P, 'keys', `${name}.pem`))]));
  return (await loadKeyFile(subtle, bytes, {})).keys;
}

/** A holder with the given keys; records what it was asked. */
function holder(held: KeyRecord[]): RemoteKeySource & { asked: RemoteUnwrapRequest[] } {
  const asked: RemoteUnwrapRequest[] = [];
  return {
    asked,
    keys: held.map((k) => ({ id: k.id, certificate: k.certificate! })),
    async unwrap(req) {
      asked.push(req);
      const k = held.find((x) => x.id === req.keyId);
      if (!k) throw new UnsealError('no_matching_recipient', 'unknown key');
      return unwrapRecipientWithKey(subtle, k, req);
    },
  };
}

async function kind(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'ok';
  } catch (e) {
    return e instanceof UnsealError ? e.kind : `thrown: ${String(e)}`;
  }
}

describe('remote (organisation-managed) keys', () => {
  it('KTRI RSA v1.5: opens with a remote key only, asks once with the recipient DER and the CEK lengths', async () => {
    const h = holder(await keys('rsa2048'));
    const r = await decryptEnvelope(subtle, der('ossl-ktri-rsa15-aes256cbc.der'), { keys: [], remote: h });
    expect(r.usedRemoteKey).toBe(true);
    expect(r.usedKeyId).toBe(h.keys[0]!.id);
    expect(h.asked).toHaveLength(1);
    expect(h.asked[0]!.cekLengths).toEqual([32]);
    expect(h.asked[0]!.rekIndex).toBeUndefined();
    // Only the one RecipientInfo travels, not the message.
    expect(parseRecipientInfoDer(h.asked[0]!.recipientInfo).type).toBe('ktri');
    expect(h.asked[0]!.recipientInfo.length).toBeLessThan(1024);
  });

  it('KTRI by SKI and RSA-OAEP', async () => {
    for (const f of ['ossl-ktri-rsa15-aes256cbc-skid.der', 'ossl-ktri-oaep-sha256-aes256cbc.der']) {
      const r = await decryptEnvelope(subtle, der(f), { keys: [], remote: holder(await keys('rsa2048')) });
      expect(r.usedRemoteKey, f).toBe(true);
    }
  });

  it('KARI (ECDH P-256 / P-384): the holder gets the RecipientInfo and the index of the matching RecipientEncryptedKey', async () => {
    const h = holder(await keys('ecp256'));
    const r = await decryptEnvelope(subtle, der('ossl-kari-p256-sha256kdf-aes256cbc.der'), { keys: [], remote: h });
    expect(r.usedRemoteKey).toBe(true);
    expect(h.asked[0]!.rekIndex).toBe(0);
    expect(h.asked[0]!.cekLengths).toBeUndefined();
    const r2 = await decryptEnvelope(subtle, der('ossl-kari-p384-sha384kdf-aes256cbc.der'), { keys: [], remote: holder(await keys('ecp384')) });
    expect(r2.usedRemoteKey).toBe(true);
  });

  it('the user’s own key is tried first: no round trip when it opens the message', async () => {
    const own = await keys('rsa2048');
    const h = holder(own);
    const r = await decryptEnvelope(subtle, der('ossl-ktri-rsa15-aes256cbc.der'), { keys: own, remote: h });
    expect(r.usedRemoteKey).toBeUndefined();
    expect(h.asked).toHaveLength(0);
  });

  it('matching is by identity: a remote key that is not a recipient is never asked', async () => {
    const h = holder(await keys('rsa3072'));
    expect(await kind(decryptEnvelope(subtle, der('ossl-ktri-rsa15-aes256cbc.der'), { keys: [], remote: h }))).toBe('no_matching_recipient');
    expect(h.asked).toHaveLength(0);
  });

  it('a tampered wrapped key through the holder fails like a local one (implicit rejection: decryption_failed, no oracle)', async () => {
    const d = der('ossl-ktri-rsa15-aes256cbc.der').slice();
    const env = parseEnvelope(d);
    const ri = env.recipients[0]!;
    if (ri.type !== 'ktri') throw new Error('expected ktri');
    d[ri.encryptedKey.byteOffset + 100]! ^= 0x01;
    const h = holder(await keys('rsa2048'));
    const e = await decryptEnvelope(subtle, d, { keys: [], remote: h }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(UnsealError);
    expect((e as UnsealError).kind).toBe('decryption_failed');
    // The holder produced a key (pseudo-random), it did not report a padding error.
    expect(h.asked).toHaveLength(1);
  });

  it('holder errors keep their kind; a failed holder is decryption_failed with its message', async () => {
    const base = holder(await keys('rsa2048'));
    const down: RemoteKeySource = { keys: base.keys, unwrap: async () => Promise.reject(new UnsealError('decryption_failed', 'the native host is not reachable')) };
    const e = (await decryptEnvelope(subtle, der('ossl-ktri-rsa15-aes256cbc.der'), { keys: [], remote: down }).catch((x: unknown) => x)) as UnsealError;
    expect(e.kind).toBe('decryption_failed');
    expect(e.message).toMatch(/not reachable/);
    const unsupported: RemoteKeySource = { keys: base.keys, unwrap: async () => Promise.reject(new UnsealError('unsupported_algorithm', 'nope')) };
    expect(await kind(decryptEnvelope(subtle, der('ossl-ktri-rsa15-aes256cbc.der'), { keys: [], remote: unsupported }))).toBe('unsupported_algorithm');
  });

  it('the holder refuses a recipient addressed to another key, and malformed requests', async () => {
    const [rsa] = await keys('rsa2048');
    const [other] = await keys('rsa3072');
    const env = parseEnvelope(der('ossl-ktri-rsa15-aes256cbc.der'));
    const ri = env.recipients[0]!;
    if (ri.type !== 'ktri') throw new Error('expected ktri');
    expect(await kind(unwrapRecipientWithKey(subtle, other!, { recipientInfo: ri.der, cekLengths: [32] }))).toBe('no_matching_recipient');
    expect(await kind(unwrapRecipientWithKey(subtle, rsa!, { recipientInfo: ri.der, cekLengths: [0] }))).toBe('malformed_cms');
    expect(await kind(unwrapRecipientWithKey(subtle, rsa!, { recipientInfo: ri.der, rekIndex: 0 }))).toBe('malformed_cms');
    expect(await kind(unwrapRecipientWithKey(subtle, rsa!, { recipientInfo: new Uint8Array([...ri.der, 0]) }))).toBe('malformed_cms');
    expect(await kind(unwrapRecipientWithKey(subtle, rsa!, { recipientInfo: new Uint8Array([0x30, 0x00]) }))).toBe('malformed_cms');
    const kekri = parseEnvelope(der('ossl-kekri-aes128wrap-aes128cbc.der'));
    expect(kekri.recipients[0]!.type).toBe('kekri');
    const [ec] = await keys('ecp256');
    const kari = parseEnvelope(der('ossl-kari-p256-sha256kdf-aes256cbc.der')).recipients[0]!;
    if (kari.type !== 'kari') throw new Error('expected kari');
    expect(await kind(unwrapRecipientWithKey(subtle, ec!, { recipientInfo: kari.der, rekIndex: 5 }))).toBe('malformed_cms');
    expect(await kind(unwrapRecipientWithKey(subtle, rsa!, { recipientInfo: kari.der, rekIndex: 0 }))).toBe('no_matching_recipient');
    expect((await unwrapRecipientWithKey(subtle, ec!, { recipientInfo: kari.der, rekIndex: 0 })).length).toBe(32);
  });
});
