import { describe, expect, it } from 'vitest';
import { importPkcs12 } from '../../../src/core/keys/pkcs12.js';
import { loadKeyFile } from '../../../src/core/keys/load.js';
import { corpusFile, fixture, rejectionKind, subtle } from './corpus-paths.js';

const PASSWORD = new TextDecoder().decode(fixture('PASSWORD'));

describe('PKCS#12 encryption and MAC variants (fixtures)', () => {
  const cases: [string, string][] = [
    ['p12-2des-rc2-128.p12', 'key pbeWithSHAAnd2-KeyTripleDES-CBC, certs pbeWithSHAAnd128BitRC2-CBC, MAC SHA-1'],
    ['p12-rc4.p12', 'key pbeWithSHAAnd128BitRC4, certs pbeWithSHAAnd40BitRC4, MAC SHA-1'],
    ['p12-rc4-nomac.p12', 'key RC4-128, certs RC2-40, no MAC'],
    ['p12-pbes2-3des-sha512mac.p12', 'key PBES2 des-ede3-cbc, certs PBES2 AES-128, MAC SHA-512'],
    ['p12-pbes2-aes192-sha384mac.p12', 'PBES2 AES-192, MAC SHA-384'],
  ];
  for (const [file, what] of cases) {
    it(`${file}: ${what}`, async () => {
      const b = await importPkcs12(subtle, fixture(file), PASSWORD);
      expect(b.keys).toHaveLength(1);
      expect(b.certificates).toHaveLength(2);
      const k = b.keys[0]!;
      expect(k.privateKey.type === 'rsa' && k.privateKey.bits).toBe(2048);
      expect(k.certificate!.subject).toBe('emailAddress=rsa2048@example.test, CN=RSA 2048 Recipient');
      expect(k.chain.map((c) => c.subject)).toEqual(['CN=Lab Test CA']);
    });
  }

  it('RFC 9579 A.1: PBMAC1 (PBKDF2-HMAC-SHA256) is verified', async () => {
    const b = await importPkcs12(subtle, fixture('rfc9579-a1-pbmac1.p12'), '1234');
    expect(b.keys).toHaveLength(1);
    expect(b.keys[0]!.certificate).toBeDefined();
    expect(await rejectionKind(importPkcs12(subtle, fixture('rfc9579-a1-pbmac1.p12'), '12345'))).toBe('wrong_password');
  });
});

describe('wrong password, garbage, truncation', () => {
  const wrong: [string, Uint8Array][] = [
    ['PBES2 with MAC (OpenSSL 3 default)', corpusFile('producers/pkcs12/p12-ossl3-default.p12')],
    ['legacy 3DES/RC2-40 with MAC', corpusFile('producers/pkcs12/p12-ossl-legacy.p12')],
    ['PBES2 without MAC', corpusFile('producers/pkcs12/p12-ossl3-nomac.p12')],
    ['torture 16: PBES2 without MAC, certificates encrypted too', corpusFile('torture/16-p12-no-mac/key.p12')],
    ['RC4 without MAC (no padding to check)', fixture('p12-rc4-nomac.p12')],
    ['NSS (PBES2, 10000 iterations)', corpusFile('public/thunderbird-nss/Bob.p12')],
  ];
  for (const [what, der] of wrong) {
    it(`${what} ⇒ wrong_password`, async () => {
      await expect(importPkcs12(subtle, der, 'not-the-password')).rejects.toMatchObject({ kind: 'wrong_password', message: 'wrong password for the PKCS#12 file' });
    });
  }

  it('a password-protected file opened without a password ⇒ wrong_password', async () => {
    expect(await rejectionKind(importPkcs12(subtle, corpusFile('producers/pkcs12/p12-ossl3-default.p12'), undefined))).toBe('wrong_password');
  });

  it('truncated file ⇒ key_unreadable', async () => {
    const full = corpusFile('producers/pkcs12/p12-ossl3-default.p12');
    for (const len of [0, 1, 10, 100, full.length >> 1, full.length - 1]) {
      expect(await rejectionKind(importPkcs12(subtle, full.subarray(0, len), 'test1234')), `length ${len}`).toBe('key_unreadable');
    }
  });

  it('NUL padding after the PFX is ignored', async () => {
    const full = corpusFile('producers/pkcs12/p12-ossl3-default.p12');
    const padded = new Uint8Array(full.length + 7);
    padded.set(full);
    expect((await importPkcs12(subtle, padded, 'test1234')).keys).toHaveLength(1);
  });

  it('garbage ⇒ key_unreadable', async () => {
    expect(await rejectionKind(importPkcs12(subtle, new TextEncoder().encode('not a pkcs12 file at all'), 'x'))).toBe('key_unreadable');
    expect(await rejectionKind(loadKeyFile(subtle, new Uint8Array(64).fill(0x30), {}))).toBe('key_unreadable');
  });

  it('unknown PBE ⇒ unsupported_algorithm naming the OID', async () => {
    // Rewrite pbeWithSHAAnd128BitRC4 (1.2.840.113549.1.12.1.1) of the key bag to an unassigned arc .1.99.
    const der = fixture('p12-rc4-nomac.p12').slice();
    const oid = [0x06, 0x0a, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x0c, 0x01, 0x01];
    const at = Buffer.from(der).indexOf(Buffer.from(oid));
    expect(at).toBeGreaterThan(0);
    der[at + oid.length - 1] = 99;
    await expect(importPkcs12(subtle, der, PASSWORD)).rejects.toMatchObject({ kind: 'unsupported_algorithm', message: expect.stringContaining('1.2.840.113549.1.12.1.99') });
  });
});

describe('passwords', () => {
  it('empty password: "" and absent both open OpenSSL (00 00) files', async () => {
    for (const f of ['producers/pkcs12/p12-ossl3-emptypass.p12', 'producers/pkcs12/p12-ossl-legacy-emptypass.p12', 'torture/17-p12-empty-password/key.p12']) {
      expect((await importPkcs12(subtle, corpusFile(f), '')).keys, f).toHaveLength(1);
      expect((await importPkcs12(subtle, corpusFile(f), undefined)).keys, f).toHaveLength(1);
    }
  });

  it('UTF-8 password: PBES2 (UTF-8 bytes) and legacy (BMPString)', async () => {
    const pw = 'P\u00e4ssw\u00f6rd\u20ac';
    expect((await importPkcs12(subtle, corpusFile('producers/pkcs12/p12-ossl3-utf8pass.p12'), pw)).keys).toHaveLength(1);
    expect((await importPkcs12(subtle, corpusFile('producers/pkcs12/p12-ossl-legacy-utf8pass.p12'), pw)).keys).toHaveLength(1);
    expect(await rejectionKind(importPkcs12(subtle, corpusFile('producers/pkcs12/p12-ossl-legacy-utf8pass.p12'), 'Passwort'))).toBe('wrong_password');
  });

  it('a file with nothing encrypted and no MAC opens with any password', async () => {
    const b = await importPkcs12(subtle, corpusFile('producers/pkcs12/p12-ossl3-nopass-nomac.p12'), 'whatever');
    expect(b.keys).toHaveLength(1);
  });
});

describe('contents', () => {
  it('certificates only ⇒ keys: [] with the certificates listed', async () => {
    const b = await importPkcs12(subtle, corpusFile('public/pyca-cryptography/cert-aes256cbc-no-key.p12'), 'cryptography');
    expect(b.keys).toEqual([]);
    expect(b.certificates.map((c) => c.subject)).toEqual(['CN=cryptography CA, C=US']);
  });

  it('a key without a certificate is usable for everything', async () => {
    const b = await importPkcs12(subtle, corpusFile('public/pyca-cryptography/no-cert-key-aes256cbc.p12'), 'cryptography');
    expect(b.keys).toHaveLength(1);
    expect(b.keys[0]!.certificate).toBeUndefined();
    expect(b.keys[0]!.usage).toEqual({ encryption: true, signing: true });
  });

  it('only a DSA key ⇒ unsupported_algorithm naming DSA', async () => {
    await expect(importPkcs12(subtle, corpusFile('public/mimekit/dsa-smime.pfx'), 'no.secret')).rejects.toMatchObject({ kind: 'unsupported_algorithm', message: expect.stringContaining('DSA') });
  });

  it('MimeKit: EC key with explicit P-384 parameters, three-level chain', async () => {
    const b = await importPkcs12(subtle, corpusFile('public/mimekit/ec-smime.pfx'), 'no.secret');
    const k = b.keys[0]!;
    expect(k.privateKey.type === 'ec' && k.privateKey.curve).toBe('P-384');
    expect(k.certificate!.curve).toBe('P-384');
    expect(k.friendlyName).toBe('MimeKit UnitTests');
    expect(k.chain.map((c) => c.subject.match(/CN=([^,]+)/)![1])).toEqual(['MimeKit Secondary Intermediate CA', 'MimeKit Primary Intermediate CA', 'MimeKit Root Certification Authority']);
  });

  it('CA certificate with its key: usage follows keyUsage (keyCertSign only)', async () => {
    const b = await importPkcs12(subtle, corpusFile('public/mimekit/certificate-authority.pfx'), 'no.secret');
    expect(b.keys[0]!.certificate!.isCa).toBe(true);
    expect(b.keys[0]!.usage).toEqual({ encryption: false, signing: false });
  });

  it('friendlyName with a stray BMPString terminator is cleaned', async () => {
    const b = await importPkcs12(subtle, corpusFile('public/pyca-cryptography/no-password.p12'), undefined);
    expect(b.keys[0]!.friendlyName).toBe('6BC162DA');
  });

  it('friendlyName in Unicode (pyca name-unicode-pwd.p12)', async () => {
    const b = await importPkcs12(subtle, corpusFile('public/pyca-cryptography/name-unicode-pwd.p12'), 'password');
    expect(b.keys[0]!.friendlyName).toBe('\u263a');
    expect(b.certificates).toHaveLength(3);
  });

  it('PEM-armoured PKCS#12 (notmuch, empty password) through loadKeyFile', async () => {
    const b = await loadKeyFile(subtle, corpusFile('public/notmuch/bob.p12'), { password: '' });
    expect(b.keys[0]!.certificate!.subject).toBe('CN=Bob Babbage');
    expect(b.keys[0]!.certificate!.emails).toEqual(['bob@smime.example']);
  });
});

describe('speed', () => {
  it('legacy and NSS files import quickly', async () => {
    const t0 = performance.now();
    await importPkcs12(subtle, corpusFile('public/thunderbird-nss/Bob-2019-emptypw.p12'), undefined);
    await importPkcs12(subtle, corpusFile('public/pyca-cryptography/name-all-pwd.p12'), 'password');
    await importPkcs12(subtle, corpusFile('public/thunderbird-nss/Bob.p12'), 'nss');
    expect(performance.now() - t0).toBeLessThan(5000);
  });
});
