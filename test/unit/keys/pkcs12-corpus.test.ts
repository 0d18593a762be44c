import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { importPkcs12 } from '../../../src/core/keys/pkcs12.js';
import { loadKeyFile } from '../../../src/core/keys/load.js';
import type { KeyBundle } from '../../../src/core/keys/types.js';
import { CORPUS, corpusFile, json, subtle } from './corpus-paths.js';

interface ProducerCase {
  id: string;
  input: string;
  password?: string;
  contents?: string;
  expected: { outcome: string };
}

/** "keys=1 certs=2: RSA 2048 Recipient; Lab Test CA" → counts and the key description. */
function parseContents(s: string): { keys: number; certs: number; keyType: 'rsa' | 'ec'; detail: string } {
  const m = /^keys=(\d+) certs=(\d+): (RSA (\d+)|EC (P-\d+))/.exec(s);
  if (!m) throw new Error(`unparsed contents ${s}`);
  return { keys: Number(m[1]), certs: Number(m[2]), keyType: m[4] ? 'rsa' : 'ec', detail: m[4] ?? m[5]! };
}

function expectPaired(bundle: KeyBundle): void {
  for (const k of bundle.keys) {
    expect(k.certificate, `key ${k.id} has a certificate`).toBeDefined();
    expect(k.id).toMatch(/^[0-9a-f]{64}$/);
  }
}

describe('producers/cases.json PKCS#12 imports', () => {
  const cases = json<{ cases: ProducerCase[] }>('producers/cases.json').cases.filter((c) => c.expected.outcome === 'imports');
  it('has the ten import cases', () => expect(cases.length).toBe(10));
  for (const c of cases) {
    it(c.id, async () => {
      const want = parseContents(c.contents!);
      const bundle = await importPkcs12(subtle, corpusFile(`producers/${c.input}`), c.password);
      expect(bundle.keys).toHaveLength(want.keys);
      expect(bundle.certificates).toHaveLength(want.certs);
      const key = bundle.keys[0]!;
      expect(key.privateKey.type).toBe(want.keyType);
      if (key.privateKey.type === 'rsa') expect(String(key.privateKey.bits)).toBe(want.detail);
      if (key.privateKey.type === 'ec') expect(key.privateKey.curve).toBe(want.detail);
      expect(key.certificate!.subject).toMatch(/Recipient/);
      expect(key.usage.encryption).toBe(true);
      if (want.certs === 2) {
        expect(key.chain.map((x) => x.subject)).toEqual([expect.stringMatching(/Lab Test CA/)]);
        expect(key.chain[0]!.isCa).toBe(true);
      }
    });
  }
});

describe('torture key.p12 files', () => {
  const dirs = readdirSync(resolve(CORPUS, 'torture')).filter((d) => existsSync(resolve(CORPUS, 'torture', d, 'key.p12')));
  it('finds the torture cases', () => expect(dirs.length).toBeGreaterThanOrEqual(20));
  for (const d of dirs) {
    it(d, async () => {
      const pw = new TextDecoder().decode(readFileSync(resolve(CORPUS, 'torture', d, 'password.txt')));
      const bundle = await importPkcs12(subtle, corpusFile(`torture/${d}/key.p12`), pw);
      expect(bundle.keys.length).toBeGreaterThanOrEqual(1);
      expectPaired(bundle);
      // key.pem/cert.pem hold the key that decrypts the case: it must be among the imported ones.
      const pemBundle = await loadKeyFile(subtle, corpusFile(`torture/${d}/key.pem`), { extraCerts: [] });
      const ids = bundle.keys.map((k) => k.id);
      expect(ids).toContain(pemBundle.keys[0]!.id);
      const certPem = readFileSync(resolve(CORPUS, 'torture', d, 'cert.pem'), 'utf8');
      const expectedCert = bundle.keys.find((k) => k.id === pemBundle.keys[0]!.id)!.certificate!;
      expect(certPem.replace(/\s/g, '')).toContain(Buffer.from(expectedCert.der).toString('base64'));
    });
  }

  it('20-p12-multiple-keys: two keys, each with its own certificate', async () => {
    const bundle = await importPkcs12(subtle, corpusFile('torture/20-p12-multiple-keys/key.p12'), 'test-pass-123');
    expect(bundle.keys).toHaveLength(2);
    expect(bundle.certificates).toHaveLength(3);
    const [bob, alice] = bundle.keys;
    expect(bob!.friendlyName).toBe('Bob Example (other key)');
    expect(bob!.certificate!.subject).toMatch(/Bob/);
    expect(alice!.certificate!.subject).not.toMatch(/Bob/);
    expect(bob!.certificate!.sha256Fingerprint).not.toBe(alice!.certificate!.sha256Fingerprint);
    for (const k of bundle.keys) {
      expect(k.privateKey.type).toBe('rsa');
      // The certificate's modulus is the key's modulus.
      if (k.privateKey.type === 'rsa') {
        const n = k.privateKey.rsa.n.toString(16);
        expect(Buffer.from(k.certificate!.spkiDer).toString('hex')).toContain(n);
      }
    }
    const alicePem = await loadKeyFile(subtle, corpusFile('torture/20-p12-multiple-keys/key.pem'), {});
    expect(alice!.id).toBe(alicePem.keys[0]!.id);
  });
});

interface PublicCase {
  id: string;
  decrypt?: { key?: string; password?: string; cert?: string };
}

describe('public/cases.json key files', () => {
  const refs = new Map<string, { password?: string; cert?: string }>();
  for (const c of json<{ cases: PublicCase[] }>('public/cases.json').cases) {
    if (c.decrypt?.key) refs.set(c.decrypt.key, { ...(c.decrypt.password !== undefined ? { password: c.decrypt.password } : {}), ...(c.decrypt.cert ? { cert: c.decrypt.cert } : {}) });
  }
  it('references the known key files', () => expect(refs.size).toBe(10));
  for (const [key, ref] of refs) {
    it(key, async () => {
      const extraCerts = ref.cert ? (await import('../../../src/core/keys/load.js')).loadCertificates(corpusFile(`public/${ref.cert}`)) : Promise.resolve([]);
      const bundle = await loadKeyFile(subtle, corpusFile(`public/${key}`), { ...(ref.password !== undefined ? { password: ref.password } : {}), extraCerts: await extraCerts });
      expect(bundle.keys.length).toBeGreaterThanOrEqual(1);
      expectPaired(bundle);
      if (ref.cert) expect(bundle.keys[0]!.certificate!.der).toEqual((await extraCerts)[0]!.der);
    });
  }
});
