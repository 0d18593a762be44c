import { createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { RsaPrivateKey } from '../../../src/core/crypto/rsa.js';

export const FIXTURES = fileURLToPath(new URL('../../fixtures/crypto/', import.meta.url));

function b64uToBigInt(s: string | undefined): bigint {
  if (!s) throw new Error('missing JWK field');
  return BigInt('0x' + (Buffer.from(s, 'base64url').toString('hex') || '0'));
}

/** Node is only the PEM parser here; the core under test never sees node:crypto. */
export function loadRsaKey(relPath: string): RsaPrivateKey {
  const jwk = createPrivateKey(readFileSync(FIXTURES + relPath)).export({ format: 'jwk' });
  return {
    n: b64uToBigInt(jwk.n),
    e: b64uToBigInt(jwk.e),
    d: b64uToBigInt(jwk.d),
    p: b64uToBigInt(jwk.p),
    q: b64uToBigInt(jwk.q),
    dp: b64uToBigInt(jwk.dp),
    dq: b64uToBigInt(jwk.dq),
    qi: b64uToBigInt(jwk.qi),
  };
}

export function hex(s: string): Uint8Array {
  return new Uint8Array(Buffer.from(s, 'hex'));
}
export function toHex(b: Uint8Array): string {
  return Buffer.from(b).toString('hex');
}
