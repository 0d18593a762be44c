import { webcrypto } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hexDecode, hexEncode } from '../../../src/core/bytes.js';
import { decryptEnvelope } from '../../../src/core/cms/decrypt.js';
import { eccCmsSharedInfo } from '../../../src/core/cms/recipient-unwrap.js';
import { normalizeSerial } from '../../../src/core/cms/recipient-match.js';
import { UnsealError } from '../../../src/core/errors.js';
import { loadKeyFile } from '../../../src/core/keys/load.js';
import { CORPUS } from '../../helpers/corpus.js';

const subtle = webcrypto.subtle as SubtleCrypto;
const P = join(CORPUS, 'producers');
const der = (name: string) => new Uint8Array(readFileSync(join(P, 'enveloped', name)));

async function keys(name: string) {
  const bytes = new Uint8Array(Buffer.concat([readFileSync(join(P, 'keys', `${name}.key`)), readFileSync(join(P, 'keys', `${name}.pem`))]));
  return (await loadKeyFile(subtle, bytes, {})).keys;
}

async function kind(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'ok';
  } catch (e) {
    return e instanceof UnsealError ? e.kind : `thrown: ${String(e)}`;
  }
}

describe('decryptEnvelope', () => {
  it('reports the recipient and key used', async () => {
    const k = await keys('rsa2048');
    const r = await decryptEnvelope(subtle, der('ossl-ktri-rsa15-aes256cbc.der'), { keys: k });
    expect(r.usedKeyId).toBe(k[0]!.id);
    expect(r.usedRecipient).toMatchObject({ type: 'ktri', algorithm: 'RSAES-PKCS1-v1_5' });
    expect(r.contentAlgorithm).toBe('AES-256-CBC');
    expect(r.encoding).toBe('DER');
  });

  it('refuses input over the size bound before parsing it', async () => {
    expect(await kind(decryptEnvelope(subtle, der('ossl-ktri-rsa15-aes256cbc.der'), { keys: [] }, { maxBytes: 100 }))).toBe('too_large');
  });

  it('tampered ciphertext fails as a whole (no partial plaintext), with one uniform message', async () => {
    const k = await keys('rsa2048');
    const d = der('ossl-ktri-rsa15-aes256cbc.der');
    const t = d.slice();
    t[t.length - 5] = t[t.length - 5]! ^ 0x01; // last block: breaks the padding
    const e = await decryptEnvelope(subtle, t, { keys: k }).catch((x: unknown) => x as UnsealError);
    expect(e).toBeInstanceOf(UnsealError);
    expect((e as UnsealError).kind).toBe('decryption_failed');
  });

  it('a corrupted RSA-wrapped key gives the same failure as tampered content (implicit rejection)', async () => {
    const k = await keys('rsa2048');
    const d = der('ossl-ktri-rsa15-aes256cbc.der').slice();
    // The encrypted key sits before the content; flip a byte inside the first recipient's 256-byte block.
    const hex = hexEncode(d);
    const at = hex.indexOf('04820100') / 2 + 4 + 100;
    d[at] = d[at]! ^ 0xff;
    const e = (await decryptEnvelope(subtle, d, { keys: k }).catch((x: unknown) => x)) as UnsealError;
    expect(e.kind).toBe('decryption_failed');
    expect(e.message).toBe('could not decrypt the message content (wrong key, or the message was altered)');
  });

  it('AuthEnvelopedData: a flipped tag byte is an integrity failure', async () => {
    const k = await keys('rsa2048');
    const d = der('ossl-authenv-aes256gcm.der').slice();
    d[d.length - 1] = d[d.length - 1]! ^ 0x01; // the mac is the last field
    expect(await kind(decryptEnvelope(subtle, d, { keys: k }))).toBe('decryption_failed');
  });

  it('KEK of the wrong length is a usage error; wrong KEK an integrity failure', async () => {
    const d = der('ossl-kekri-aes128wrap-aes128cbc.der');
    const kekId = new TextEncoder().encode('KEK-12');
    expect(await kind(decryptEnvelope(subtle, d, { keys: [], keks: [{ kek: new Uint8Array(15), kekId }] }))).toBe('usage');
    expect(await kind(decryptEnvelope(subtle, d, { keys: [], keks: [{ kek: new Uint8Array(16), kekId }] }))).toBe('decryption_failed');
  });

  it('wrong recipient password is a decryption failure', async () => {
    expect(await kind(decryptEnvelope(subtle, der('ossl-pwri-aes128cbc.der'), { keys: [], passwords: [new TextEncoder().encode('wrong horse')] }))).toBe('decryption_failed');
  });
});

describe('recipient identity helpers', () => {
  it('serials compare as integers: redundant sign octets are dropped', () => {
    expect(hexEncode(normalizeSerial(hexDecode('0001')))).toBe('01');
    expect(hexEncode(normalizeSerial(hexDecode('0080')))).toBe('0080');
    expect(hexEncode(normalizeSerial(hexDecode('ff80')))).toBe('80');
    expect(hexEncode(normalizeSerial(hexDecode('ff7f')))).toBe('ff7f');
  });

  it('ECC-CMS-SharedInfo omits entityUInfo without UKM (RFC 5753), includes it with one', () => {
    const aes128wrap = hexDecode('300b0609608648016503040105');
    expect(hexEncode(eccCmsSharedInfo(aes128wrap, undefined, 128))).toBe('3015' + '300b0609608648016503040105' + 'a2060404' + '00000080');
    expect(hexEncode(eccCmsSharedInfo(aes128wrap, hexDecode('aabb'), 128))).toBe('301b' + '300b0609608648016503040105' + 'a0040402aabb' + 'a2060404' + '00000080');
  });
});
