import { expectTag, oid, readTlv } from '../asn1/ber.js';
import { OID } from './oids.js';

export type CmsKind = 'enveloped' | 'authEnveloped' | 'signed' | 'encrypted' | 'compressed' | 'data' | 'digested';

const KINDS: Record<string, CmsKind> = {
  [OID.envelopedData]: 'enveloped',
  [OID.authEnvelopedData]: 'authEnveloped',
  [OID.signedData]: 'signed',
  [OID.encryptedData]: 'encrypted',
  [OID.compressedData]: 'compressed',
  [OID.data]: 'data',
  [OID.digestedData]: 'digested',
};

/**
 * What a DER/BER ContentInfo holds, read from its first bytes only (a header peek, so it is cheap
 * on 100 MB input). Null when the bytes are not a ContentInfo. Used to sniff `smime.p7m` parts
 * labelled application/octet-stream or without `smime-type`.
 */
export function cmsContentType(der: Uint8Array): CmsKind | null {
  try {
    const top = readTlvShallow(der);
    if (!top) return null;
    const first = readTlv(der, top.contentStart, top.contentEnd === -1 ? der.length : top.contentEnd);
    const id = oid(der, expectTag(first, 0, 6, 'contentType'));
    return KINDS[id] ?? null;
  } catch {
    return null;
  }
}

/** Reads only the outer SEQUENCE header, without walking an indefinite-length body. */
function readTlvShallow(der: Uint8Array): { contentStart: number; contentEnd: number } | null {
  if (der.length < 4 || der[0] !== 0x30) return null;
  const l = der[1]!;
  if (l === 0x80) return { contentStart: 2, contentEnd: -1 };
  if (l < 0x80) return { contentStart: 2, contentEnd: Math.min(der.length, 2 + l) };
  const n = l & 0x7f;
  if (n > 6) return null;
  let len = 0;
  for (let i = 0; i < n; i++) len = len * 256 + (der[2 + i] ?? 0);
  return { contentStart: 2 + n, contentEnd: Math.min(der.length, 2 + n + len) };
}

