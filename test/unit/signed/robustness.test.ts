import { describe, expect, it } from 'vitest';
import { verifySignedData } from '../../../src/core/cms/signed.js';
import { isUnsealError } from '../../../src/core/errors.js';
import { bytes, CORPUS, FIXTURES, pemCerts, splitEml, subtle } from './helpers.js';

const P = `${CORPUS}producers/`;
const anchors = pemCerts(`${P}keys/ca.pem`);
const now = new Date('2027-06-01T00:00:00Z');

/** Deterministic PRNG so a failure names a reproducible case. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const inputs: [string, Uint8Array][] = [
  ['DER rsa', bytes(`${P}signed/ossl-signed-rsa15-sha256-opaque.der`)],
  ['DER ecdsa ski noattr', bytes(`${FIXTURES}ecdsa-p256-ski-noattr.der`)],
  ['BER NSS', splitEml(bytes(`${CORPUS}public/thunderbird-nss/alice.sig.SHA256.opaque.eml`)).p7m!],
];

/** Either a report, or UnsealError('malformed_cms'); never a TypeError or a hang. */
async function outcome(der: Uint8Array): Promise<'ok' | 'malformed'> {
  try {
    const r = await verifySignedData(subtle, der, { trustAnchors: anchors, now });
    for (const s of r.signers) if (!s.signatureValid) expect(typeof s.error).toBe('string');
    return 'ok';
  } catch (e) {
    if (isUnsealError(e) && e.kind === 'malformed_cms') return 'malformed';
    throw e;
  }
}

describe('hostile input', () => {
  it.each(inputs)('%s: every truncation is malformed_cms or a report', async (_name, der) => {
    for (let n = 0; n < der.length; n += 7) expect(['ok', 'malformed']).toContain(await outcome(der.subarray(0, n)));
  });

  it.each(inputs)('%s: 600 random byte flips never crash and never validate other content', async (_name, der) => {
    const rand = rng(der.length);
    const original = (await verifySignedData(subtle, der, { now })).content;
    for (let i = 0; i < 600; i++) {
      const m = der.slice();
      const at = Math.floor(rand() * m.length);
      m[at]! ^= 1 + Math.floor(rand() * 255);
      let r;
      try {
        r = await verifySignedData(subtle, m, { trustAnchors: anchors, now });
      } catch (e) {
        if (isUnsealError(e) && e.kind === 'malformed_cms') continue;
        throw new Error(`flip at ${at}: ${String(e)}`);
      }
      // A flip may land in unsigned data (certificate bag order, unused bits): then the signature
      // can still verify, but never over content different from the original.
      for (const s of r.signers) {
        if (s.signatureValid) expect(r.content, `flip at ${at}`).toEqual(original);
      }
    }
  });

  it('a declared length far beyond the input fails at once', async () => {
    const der = Uint8Array.of(0x30, 0x84, 0x7f, 0xff, 0xff, 0xff, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02);
    await expect(verifySignedData(subtle, der, {})).rejects.toMatchObject({ kind: 'malformed_cms' });
  });
});
