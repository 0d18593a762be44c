import { readdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parsePem } from '../../../src/core/keys/pem.js';
import { parsePrivateKey } from '../../../src/core/keys/private-key.js';
import { loadKeyFile } from '../../../src/core/keys/load.js';
import { parseCertificate } from '../../../src/core/keys/certificate.js';
import type { PrivateKeyMaterial } from '../../../src/core/keys/types.js';
import { CORPUS, corpusFile, fixture, rejectionKind, subtle } from './corpus-paths.js';

const PASSWORD = new TextDecoder().decode(fixture('PASSWORD'));
const pemDer = (bytes: Uint8Array) => parsePem(new TextDecoder().decode(bytes))[0]!;

/** What each producers/keys/<name> holds, from `openssl pkey -text`. */
const EXPECTED: Record<string, { type: 'rsa'; bits: number } | { type: 'ec'; curve: string }> = {
  bob: { type: 'rsa', bits: 2048 },
  expired: { type: 'rsa', bits: 2048 },
  pss: { type: 'rsa', bits: 2048 },
  rsa2048: { type: 'rsa', bits: 2048 },
  rsa3072: { type: 'rsa', bits: 3072 },
  rsa4096: { type: 'rsa', bits: 4096 },
  ecp256: { type: 'ec', curve: 'P-256' },
  ecp384: { type: 'ec', curve: 'P-384' },
  ecp521: { type: 'ec', curve: 'P-521' },
};

function describeKey(k: PrivateKeyMaterial): { type: string; bits?: number; curve?: string } {
  if (k.type === 'rsa') return { type: 'rsa', bits: k.bits };
  if (k.type === 'ec') return { type: 'ec', curve: k.curve };
  return { type: k.type };
}

describe('producers/keys', () => {
  const names = readdirSync(resolve(CORPUS, 'producers/keys')).filter((f) => f.endsWith('.key')).map((f) => f.slice(0, -4));
  it('covers every key', () => expect(names.sort()).toEqual(Object.keys(EXPECTED).sort()));
  for (const name of names) {
    it(`${name}.key (PEM PKCS#8) and ${name}.p8.der agree`, async () => {
      const pem = pemDer(corpusFile(`producers/keys/${name}.key`));
      expect(pem.label).toBe('PRIVATE KEY');
      const fromPem = await parsePrivateKey(subtle, pem.der, pem.label);
      const fromDer = await parsePrivateKey(subtle, corpusFile(`producers/keys/${name}.p8.der`));
      expect(describeKey(fromPem)).toEqual(EXPECTED[name]);
      expect(fromDer.pkcs8).toEqual(fromPem.pkcs8);
      if (fromPem.type === 'ec') expect(fromPem.publicKey).toHaveLength(fromPem.curve === 'P-256' ? 65 : fromPem.curve === 'P-384' ? 97 : 133);
      // Paired with its certificate by public key.
      const bundle = await loadKeyFile(subtle, corpusFile(`producers/keys/${name}.key`), { extraCerts: [parseCertificate(pemDer(corpusFile(`producers/keys/${name}.pem`)).der)] });
      expect(bundle.keys[0]!.certificate?.subject).toBeDefined();
    });
  }

  it('RSA-PSS keys come out as rsaEncryption PKCS#8 that WebCrypto imports for OAEP', async () => {
    const pss = pemDer(corpusFile('producers/keys/pss.key'));
    const k = await parsePrivateKey(subtle, pss.der);
    await expect(subtle.importKey('pkcs8', k.pkcs8 as Uint8Array<ArrayBuffer>, { name: 'RSA-OAEP', hash: 'SHA-256' }, false, ['decrypt'])).resolves.toBeDefined();
  });
});

describe('fixtures: encrypted and traditional keys', () => {
  const cases: [string, { type: string; bits?: number; curve?: string }, string][] = [
    ['rsa2048.pbes2-aes256.p8.pem', { type: 'rsa', bits: 2048 }, 'rsa2048'],
    ['ecp256.pbe-sha1-3des.p8.pem', { type: 'ec', curve: 'P-256' }, 'ecp256'],
    ['ecp384.pbes2-3des-sha512.p8.der', { type: 'ec', curve: 'P-384' }, 'ecp384'],
    ['ecp521.scrypt-aes256.p8.pem', { type: 'ec', curve: 'P-521' }, 'ecp521'],
    ['bob.pbes1-md5-des.p8.pem', { type: 'rsa', bits: 2048 }, 'bob'],
    ['bob.pbe-sha1-rc2-40.p8.pem', { type: 'rsa', bits: 2048 }, 'bob'],
    ['rsa2048.pkcs1.pem', { type: 'rsa', bits: 2048 }, 'rsa2048'],
    ['rsa2048.pkcs1.der', { type: 'rsa', bits: 2048 }, 'rsa2048'],
    ['rsa2048.pkcs1-aes256.pem', { type: 'rsa', bits: 2048 }, 'rsa2048'],
    ['ecp256.sec1-3des.pem', { type: 'ec', curve: 'P-256' }, 'ecp256'],
    ['ecp384.sec1-nopub.pem', { type: 'ec', curve: 'P-384' }, 'ecp384'],
    ['ecp521.sec1.der', { type: 'ec', curve: 'P-521' }, 'ecp521'],
  ];
  for (const [file, want, source] of cases) {
    it(file, async () => {
      const bundle = await loadKeyFile(subtle, fixture(file), { password: PASSWORD });
      expect(bundle.keys).toHaveLength(1);
      const k = bundle.keys[0]!.privateKey;
      expect(describeKey(k)).toEqual(want);
      // Same key as the unencrypted original: identical normalised PKCS#8.
      const original = await parsePrivateKey(subtle, pemDer(corpusFile(`producers/keys/${source}.key`)).der);
      expect(k.pkcs8).toEqual(original.pkcs8);
    });
  }

  it('SEC1 without a public key gets the point derived', async () => {
    const k = (await loadKeyFile(subtle, fixture('ecp384.sec1-nopub.pem'), {})).keys[0]!.privateKey;
    const original = await parsePrivateKey(subtle, corpusFile('producers/keys/ecp384.p8.der'));
    expect(k.type === 'ec' && original.type === 'ec' && Buffer.from(k.publicKey).equals(Buffer.from(original.publicKey))).toBe(true);
  });

  it('wrong or missing password on encrypted PKCS#8 and traditional PEM ⇒ wrong_password', async () => {
    const enc = pemDer(fixture('rsa2048.pbes2-aes256.p8.pem'));
    expect(await rejectionKind(parsePrivateKey(subtle, enc.der, enc.label, 'nope'))).toBe('wrong_password');
    expect(await rejectionKind(parsePrivateKey(subtle, enc.der, enc.label))).toBe('wrong_password');
    expect(await rejectionKind(loadKeyFile(subtle, fixture('ecp256.pbe-sha1-3des.p8.pem'), { password: 'nope' }))).toBe('wrong_password');
    expect(await rejectionKind(loadKeyFile(subtle, fixture('rsa2048.pkcs1-aes256.pem'), { password: 'nope' }))).toBe('wrong_password');
    expect(await rejectionKind(loadKeyFile(subtle, fixture('rsa2048.pkcs1-aes256.pem'), {}))).toBe('wrong_password');
  });

  for (const t of ['x25519', 'x448'] as const) {
    it(`${t} PKCS#8 with its public key derived`, async () => {
      const pem = pemDer(fixture(`${t}.p8.pem`));
      const k = await parsePrivateKey(subtle, pem.der, pem.label);
      expect(k.type).toBe(t);
      expect(k.type === t && k.publicKey && Buffer.from(k.publicKey).toString('hex')).toBe(Buffer.from(fixture(`${t}.pub.bin`)).toString('hex'));
    });
  }
});

describe('public key files', () => {
  it('RFC 9216 X25519 key (cryptosys lamps-dana) matches its certificate', async () => {
    const cert = parseCertificate(pemDer(corpusFile('public/cryptosys-examples-cms/lamps-dana.encrypt.crt')).der);
    const bundle = await loadKeyFile(subtle, corpusFile('public/cryptosys-examples-cms/lamps-dana.decrypt.p8.pem'), { extraCerts: [cert] });
    expect(bundle.keys[0]!.privateKey.type).toBe('x25519');
    expect(bundle.keys[0]!.certificate?.publicKeyAlgorithm).toBe('x25519');
  });

  it('MimeKit traditional PEM keys: RSA 4096 and EC P-384', async () => {
    const rsa = (await loadKeyFile(subtle, corpusFile('public/mimekit/rsa-smime.key'), {})).keys[0]!.privateKey;
    const ec = (await loadKeyFile(subtle, corpusFile('public/mimekit/ec-smime.key'), {})).keys[0]!.privateKey;
    expect(describeKey(rsa)).toEqual({ type: 'rsa', bits: 4096 });
    expect(describeKey(ec)).toEqual({ type: 'ec', curve: 'P-384' });
  });

  it('RFC 4134 DER PKCS#8 keys (.pri)', async () => {
    const k = (await loadKeyFile(subtle, corpusFile('public/rfc4134-bc-test-data/BobPrivRSAEncrypt.pri'), {})).keys[0]!.privateKey;
    expect(describeKey(k)).toEqual({ type: 'rsa', bits: 1024 });
  });

  it('signature-only algorithms are unsupported, naming the algorithm', async () => {
    await expect(loadKeyFile(subtle, corpusFile('public/cryptosys-examples-cms/lamps-carlos.p8.pem'), {})).rejects.toMatchObject({ kind: 'unsupported_algorithm', message: expect.stringMatching(/Ed25519/) });
    await expect(loadKeyFile(subtle, corpusFile('public/rfc4134-bc-test-data/AlicePrivDSSSign.pri'), {})).rejects.toMatchObject({ kind: 'unsupported_algorithm', message: expect.stringMatching(/DSA/) });
  });

  it('garbage ⇒ key_unreadable', async () => {
    expect(await rejectionKind(parsePrivateKey(subtle, new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x05])))).toBe('key_unreadable');
    expect(await rejectionKind(parsePrivateKey(subtle, new TextEncoder().encode('hello')))).toBe('key_unreadable');
  });
});

