/**
 * Recognises NIST curves given as explicit ECParameters (RFC 3279 §2.3.5) instead of a curve OID:
 * Bouncy Castle and .NET export them that way (MimeKit's ec-smime.pfx). A curve is only
 * accepted when prime, coefficients, base point and order all match, so a look-alike curve is not.
 */
import { children, octets, oid as readOid, type Tlv } from '../asn1/ber.js';
import { bytesToBigInt } from '../crypto/rsa.js';
import type { EcCurve } from './types.js';

interface CurveConstants {
  p: bigint;
  a: bigint;
  b: bigint;
  gx: bigint;
  n: bigint;
}

const NIST: Record<EcCurve, CurveConstants> = {
  'P-256': {
    p: 0xffffffff00000001000000000000000000000000ffffffffffffffffffffffffn,
    a: 0xffffffff00000001000000000000000000000000fffffffffffffffffffffffcn,
    b: 0x5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604bn,
    gx: 0x6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296n,
    n: 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n,
  },
  'P-384': {
    p: 0xfffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffeffffffff0000000000000000ffffffffn,
    a: 0xfffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffeffffffff0000000000000000fffffffcn,
    b: 0xb3312fa7e23ee7e4988e056be3f82d19181d9c6efe8141120314088f5013875ac656398d8a2ed19d2a85c8edd3ec2aefn,
    gx: 0xaa87ca22be8b05378eb1c71ef320ad746e1d3b628ba79b9859f741e082542a385502f25dbf55296c3a545e3872760ab7n,
    n: 0xffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973n,
  },
  'P-521': {
    p: (1n << 521n) - 1n,
    a: (1n << 521n) - 4n,
    b: 0x51953eb9618e1c9a1f929a21a0b68540eea2da725b99b315f3b8b489918ef109e156193951ec7e937b1652c0bd3bb1bf073573df883d2c34f1ef451fd46b503f00n,
    gx: 0xc6858e06b70404e9cd9e3ecb662395b4429c648139053fb521f828af606b4d3dbaa14b5e77efe75928fe1dc127a2ffa8de3348b3c1856a429bf97e7e31c2e5bd66n,
    n: 0x1fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffa51868783bf2f966b7fcc0148f709a5d03bb5c9b8899c47aebb6fb71e91386409n,
  },
};

const PRIME_FIELD = '1.2.840.10045.1.1';

/**
 * ECParameters ::= SEQUENCE { version, fieldID { fieldType, prime }, curve { a, b, seed? },
 * base ECPoint, order, cofactor? } → the NIST curve it is, or undefined.
 */
export function curveFromExplicit(buf: Uint8Array, params: Tlv): EcCurve | undefined {
  try {
    const [, fieldT, curveT, baseT, orderT] = children(buf, params);
    if (!fieldT || !curveT || !baseT || !orderT) return undefined;
    const [ftT, primeT] = children(buf, fieldT);
    if (readOid(buf, ftT!) !== PRIME_FIELD) return undefined;
    const [aT, bT] = children(buf, curveT);
    const p = bytesToBigInt(octets(buf, primeT!));
    const a = bytesToBigInt(octets(buf, aT!));
    const b = bytesToBigInt(octets(buf, bT!));
    const base = octets(buf, baseT);
    const n = bytesToBigInt(octets(buf, orderT));
    for (const [name, c] of Object.entries(NIST) as [EcCurve, CurveConstants][]) {
      if (c.p !== p || c.a !== a || c.b !== b || c.n !== n) continue;
      const len = (base.length - 1) >> (base[0] === 0x04 ? 1 : 0);
      if (bytesToBigInt(base.subarray(1, 1 + len)) === c.gx) return name;
    }
  } catch {
    // malformed parameters are simply not a known curve
  }
  return undefined;
}

/** Curve from AlgorithmIdentifier parameters given as an element of `buf`: named or explicit. */
export function curveOfParams(buf: Uint8Array, params: Tlv | undefined, named: Record<string, { name: EcCurve }>): EcCurve | 'unknown' | undefined {
  if (!params) return undefined;
  if (params.tag === 6) return named[readOid(buf, params)]?.name ?? 'unknown';
  if (params.tag === 16) return curveFromExplicit(buf, params) ?? 'unknown';
  return 'unknown';
}
