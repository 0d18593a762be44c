import { bytesEqual } from '../bytes.js';
import { hashSync } from '../crypto/hash.js';
import { namesEqual } from '../keys/certificate.js';
import type { CertInfo, KeyRecord } from '../keys/types.js';
import { children, readTlv } from '../asn1/ber.js';
import type { RecipientId } from './enveloped-parse.js';

/**
 * Serial numbers compared as integers: some producers pad with a redundant 00 or FF octet, and
 * negative serials exist in the wild. Leading octets that carry no information are dropped.
 */
export function normalizeSerial(s: Uint8Array): Uint8Array {
  let i = 0;
  while (i < s.length - 1 && ((s[i] === 0 && s[i + 1]! < 0x80) || (s[i] === 0xff && s[i + 1]! >= 0x80))) i++;
  return s.subarray(i);
}

/** RFC 5280 §4.2.1.2 method 1: SHA-1 of the subjectPublicKey BIT STRING, for certs without an SKI extension. */
export function computedSki(spkiDer: Uint8Array): Uint8Array | undefined {
  try {
    const [, bits] = children(spkiDer, readTlv(spkiDer, 0));
    if (!bits || bits.tag !== 3) return undefined;
    return hashSync('SHA-1', spkiDer.subarray(bits.contentStart + 1, bits.contentEnd));
  } catch {
    return undefined;
  }
}

/** Does this stored key answer to this recipient identifier? Identity only — never "it decrypted". */
export function keyMatches(key: KeyRecord, rid: RecipientId): boolean {
  return certMatches(key.certificate, rid);
}

/** The same test for a key known only by its certificate (a managed key held by the native host). */
export function certMatches(cert: CertInfo | undefined, rid: RecipientId): boolean {
  if (rid.type === 'issuerSerial') {
    if (!cert) return false;
    return bytesEqual(normalizeSerial(cert.serialBytes), normalizeSerial(rid.serial)) && namesEqual(cert.issuerDer, rid.issuer);
  }
  if (cert?.subjectKeyId && bytesEqual(cert.subjectKeyId, rid.ski)) return true;
  const spki = cert?.spkiDer;
  if (spki) {
    const ski = computedSki(spki);
    if (ski && bytesEqual(ski, rid.ski)) return true;
  }
  return false;
}
