import { describe, expect, it } from 'vitest';
import { verifySignedData, type SignedResult } from '../../../src/core/cms/signed.js';
import { ascii, bytes, CORPUS, pemCerts, splitEml, subtle } from './helpers.js';

const NSS = `${CORPUS}public/thunderbird-nss/`;
const MANUAL = `${CORPUS}public/thunderbird-manual/`;
const anchors = pemCerts(`${NSS}TestCA.pem`);
// After the 2026 NSS run and before the certificates expire in 2031.
const now = new Date('2027-06-01T00:00:00Z');

const ALICE = 'CN=Alice, emailAddress=Alice@example.com, O=BOGUS NSS, L=Mountain View, ST=California, C=US';
const TEST_CA = 'CN=NSS Test CA (RSA), O=BOGUS NSS, L=Mountain View, ST=California, C=US';

async function verifyEml(path: string, extra: { now?: Date } = {}): Promise<SignedResult> {
  return verifyParts(splitEml(bytes(path)), extra);
}

async function verifyParts(parts: ReturnType<typeof splitEml>, extra: { now?: Date } = {}): Promise<SignedResult> {
  const opts = { trustAnchors: anchors, now: extra.now ?? now };
  if (parts.signature) return verifySignedData(subtle, parts.signature, { ...opts, detachedContent: parts.signedPart! });
  return verifySignedData(subtle, parts.p7m!, opts);
}

describe('Thunderbird / NSS signed mail (outer layer not encrypted)', () => {
  it('opaque signed text (BER, indefinite lengths, chunked eContent)', async () => {
    const r = await verifyEml(`${NSS}alice.sig.SHA256.opaque.eml`);
    expect(r.detached).toBe(false);
    expect(ascii(r.content)).toContain('This is a test message from Alice to Bob.');
    expect(r.signers).toHaveLength(1);
    expect(r.signers[0]).toMatchObject({
      signatureValid: true,
      certificateStatus: 'valid',
      digestAlgorithm: 'SHA-256',
      signatureAlgorithm: 'RSASSA-PKCS1-v1_5',
      weakDigest: false,
      signingTime: '2026-01-26T14:40:10.000Z',
      subject: ALICE,
      email: 'Alice@example.com',
      issuer: TEST_CA,
      serialHex: '1e',
    });
  });

  it('opaque signed over an encrypted part (alice.env.sig): the signature covers the enveloped MIME entity', async () => {
    const r = await verifyEml(`${NSS}alice.env.sig.SHA256.opaque.eml`);
    expect(ascii(r.content)).toMatch(/^Content-Type: application\/pkcs7-mime; name=smime\.p7m;\s+smime-type=enveloped-data/);
    expect(r.signers[0]).toMatchObject({ signatureValid: true, certificateStatus: 'valid', signingTime: '2026-01-26T14:40:11.000Z', subject: ALICE });
  });

  it('opaque signed HTML', async () => {
    const r = await verifyEml(`${NSS}alice.html.sig.SHA256.opaque.eml`);
    expect(ascii(r.content)).toContain('<html><body>This is a test message from Alice to Bob.</body></html>');
    expect(r.signers[0]).toMatchObject({ signatureValid: true, certificateStatus: 'valid' });
  });

  it('multipart/signed text: the detached signature verifies over the first part', async () => {
    const parts = splitEml(bytes(`${NSS}alice.dsig.SHA256.multipart.eml`));
    expect(ascii(parts.signedPart!)).toMatch(/^Content-Type: text\/plain; charset=utf-8; format=flowed\r\n[\s\S]*to Bob\.\r\n$/);
    const r = await verifyParts(parts);
    expect(r.detached).toBe(true);
    expect(r.content).toBe(parts.signedPart);
    expect(r.signers[0]).toMatchObject({ signatureValid: true, certificateStatus: 'valid', signingTime: '2026-01-26T14:40:10.000Z' });
  });

  it('the multipart/signed part stored with LF line endings still verifies (canonicalised retry)', async () => {
    const parts = splitEml(bytes(`${NSS}alice.dsig.SHA256.multipart.eml`));
    const lf = new TextEncoder().encode(ascii(parts.signedPart!).replace(/\r\n/g, '\n'));
    const r = await verifyParts({ ...parts, signedPart: lf });
    expect(r.signers[0]!.signatureValid).toBe(true);
  });

  it('Date header later than signingTime (alice.future) does not matter: valid', async () => {
    const r = await verifyEml(`${NSS}alice.future.dsig.SHA256.multipart.eml`);
    expect(r.signers[0]).toMatchObject({ signatureValid: true, certificateStatus: 'valid' });
  });

  it('the certificate validity is judged at signingTime, so the result holds after Alice expires in 2031', async () => {
    const r = await verifyEml(`${NSS}alice.sig.SHA256.opaque.eml`, { now: new Date('2040-01-01T00:00:00Z') });
    expect(r.signers[0]).toMatchObject({ signatureValid: true, certificateStatus: 'valid' });
  });

  it('body altered after signing (alice.dsig...bad) ⇒ invalid', async () => {
    const r = await verifyEml(`${NSS}alice.dsig.SHA256.multipart.bad.eml`);
    expect(r.signers[0]!.signatureValid).toBe(false);
    expect(r.signers[0]!.error).toMatch(/digest mismatch/);
    expect(r.signers[0]!.certificateStatus).toBe('valid');
  });

  it('detached signature that also embeds different eContent (mismatch-econtent) ⇒ invalid', async () => {
    const r = await verifyEml(`${NSS}alice.dsig.SHA256.multipart.mismatch-econtent.eml`);
    expect(r.detached).toBe(false);
    expect(r.signers[0]!.signatureValid).toBe(false);
    expect(r.signers[0]!.error).toMatch(/different content/);
  });

  // These NSS vectors sign something other than the enveloped part they carry; Thunderbird's own
  // test (test_smime_decrypt.js) and `openssl cms -verify` both report the signature BAD.
  it.each(['SHA1', 'SHA256', 'SHA384', 'SHA512'])('multipart/signed over an encrypted part (alice.env.dsig.%s): digest does not match', async (h) => {
    const r = await verifyEml(`${NSS}alice.env.dsig.${h}.multipart.eml`);
    expect(r.detached).toBe(true);
    const s = r.signers[0]!;
    expect(s.signatureValid).toBe(false);
    expect(s.error).toMatch(/digest mismatch/);
    expect(s.digestAlgorithm).toBe(h.replace('SHA', 'SHA-'));
    expect(s.weakDigest).toBe(h === 'SHA1');
    expect(s.subject).toBe(ALICE);
  });

  it('nested: Dave signs (opaque) a message Alice signed (opaque); both verify', async () => {
    const outer = await verifyEml(`${NSS}alice.plain.sig.SHA256.opaque.dave.sig.SHA256.opaque.eml`);
    expect(outer.signers[0]).toMatchObject({ signatureValid: true, certificateStatus: 'valid', email: 'Dave@example.com' });
    const inner = await verifyParts(splitEml(outer.content));
    expect(inner.signers[0]).toMatchObject({ signatureValid: true, certificateStatus: 'valid', email: 'Alice@example.com' });
    expect(ascii(inner.content)).toContain('This is a test message from Alice to Bob.');
  });

  it('nested: Dave multipart/signed around Alice multipart/signed; both verify', async () => {
    const outerParts = splitEml(bytes(`${NSS}alice.plain.dsig.SHA256.multipart.dave.dsig.SHA256.multipart.eml`));
    const outer = await verifyParts(outerParts);
    expect(outer.signers[0]).toMatchObject({ signatureValid: true, certificateStatus: 'valid', email: 'Dave@example.com' });
    const inner = await verifyParts(splitEml(outerParts.signedPart!));
    expect(inner.signers[0]).toMatchObject({ signatureValid: true, certificateStatus: 'valid', email: 'Alice@example.com' });
  });

  it.each([
    'alice.env.sig.SHA256.opaque.dave.sig.SHA256.opaque.eml',
    'alice.env.dsig.SHA256.multipart.dave.sig.SHA256.opaque.eml',
    'alice.plain.dsig.SHA256.multipart.dave.sig.SHA256.opaque.eml',
    'alice.plain.sig.SHA256.opaque.dave.dsig.SHA256.multipart.eml',
  ])('outer Dave signature of %s verifies', async (name) => {
    const r = await verifyEml(`${NSS}${name}`);
    expect(r.signers[0]).toMatchObject({ signatureValid: true, certificateStatus: 'valid', email: 'Dave@example.com' });
  });

  it('without the NSS test CA the same signature is valid but untrusted', async () => {
    const r = await verifySignedData(subtle, splitEml(bytes(`${NSS}alice.sig.SHA256.opaque.eml`)).p7m!, { now });
    expect(r.signers[0]).toMatchObject({ signatureValid: true, certificateStatus: 'untrusted' });
  });
});

describe('thunderbird-manual: hand-made bad signatures', () => {
  it.each(['outer-smime-bad-sig-inner-smime-enc.eml', 'outer-smime-bad-sig-inner-smime-enc-sig.eml'])('%s ⇒ signatureValid false', async (name) => {
    const r = await verifyEml(`${MANUAL}${name}`);
    expect(r.signers).toHaveLength(1);
    const s = r.signers[0]!;
    expect(s.signatureValid).toBe(false);
    expect(s.error).toMatch(/digest mismatch/);
    // Signed by an older "NSS Test CA", not the current "(RSA)" one.
    expect(s.issuer).toBe('CN=NSS Test CA, O=BOGUS NSS, L=Mountain View, ST=California, C=US');
    expect(s.certificateStatus).toBe('untrusted');
  });

  it.each(['alice.env.mixed.dsig.SHA256.multipart.eml', 'alice.dsig.SHA256.multipart.env.dsig.eml'])('%s (inner part replaced) ⇒ signatureValid false', async (name) => {
    const r = await verifyEml(`${MANUAL}${name}`);
    expect(r.signers[0]!.signatureValid).toBe(false);
  });
});
