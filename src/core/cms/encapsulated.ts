import { children, expectTag, octets, oid, readTlv } from '../asn1/ber.js';
import { UnsealError } from '../errors.js';
import { OID } from './oids.js';

/**
 * The content a SignedData (or a plain id-data ContentInfo) carries, read with the zero-copy BER
 * reader: no key, no signature check — for scanning what an opaque signature wraps. DER or BER,
 * chunked eContent joined. Undefined when the SignedData has no eContent (a detached signature).
 * Throws `malformed_cms` when the structure is unreadable.
 */
export function encapsulatedContent(der: Uint8Array): Uint8Array | undefined {
  const top = expectTag(readTlv(der, 0), 0, 16, 'ContentInfo SEQUENCE');
  const [ctT, wrapT] = children(der, top);
  const ct = oid(der, expectTag(ctT, 0, 6, 'ContentInfo contentType'));
  if (!wrapT) return undefined;
  const [inner] = children(der, expectTag(wrapT, 2, 0, 'ContentInfo [0] content'));
  if (!inner) return undefined;
  if (ct === OID.data) return octets(der, expectTag(inner, 0, 4, 'data OCTET STRING'));
  if (ct !== OID.signedData) throw new UnsealError('malformed_cms', `not a SignedData (content type ${ct})`);
  const f = children(der, expectTag(inner, 0, 16, 'SignedData SEQUENCE'));
  const eci = children(der, expectTag(f[2], 0, 16, 'encapContentInfo'));
  expectTag(eci[0], 0, 6, 'eContentType');
  const wrapped = eci[1];
  if (!wrapped) return undefined;
  const e = children(der, expectTag(wrapped, 2, 0, 'eContent [0]'))[0];
  if (!e) return undefined;
  if (e.cls === 0 && e.tag === 4) return octets(der, e);
  // PKCS #7 v1.5 allowed any type here (as signed.ts reads it): its content octets.
  if (!e.indefinite) return der.subarray(e.contentStart, e.contentEnd);
  throw new UnsealError('malformed_cms', 'eContent is neither an OCTET STRING nor definite-length');
}
