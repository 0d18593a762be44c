import { latin1Bytes } from '../../../src/core/bytes.js';

/** Hand-written message text → bytes; `\n` becomes CRLF unless `lf` is set. Chars > 0xFF are not allowed. */
export function crlf(text: string): Uint8Array {
  return latin1Bytes(text.replace(/\r?\n/g, '\r\n'));
}

export function lf(text: string): Uint8Array {
  return latin1Bytes(text);
}

export function ascii(bytes: Uint8Array): string {
  return new TextDecoder('latin1').decode(bytes);
}

/** Minimal ContentInfo: SEQUENCE { contentType OID, [0] { SEQUENCE {} } } — enough for cmsContentType. */
export function contentInfo(kind: 'enveloped' | 'signed' | 'authEnveloped' | 'compressed' | 'data'): Uint8Array {
  const oids: Record<typeof kind, number[]> = {
    enveloped: [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x03],
    signed: [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02],
    data: [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x01],
    authEnveloped: [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x10, 0x01, 0x17],
    compressed: [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x10, 0x01, 0x09],
  };
  const oid = [0x06, oids[kind].length, ...oids[kind]];
  const inner = [0xa0, 0x02, 0x30, 0x00];
  return new Uint8Array([0x30, oid.length + inner.length, ...oid, ...inner]);
}
