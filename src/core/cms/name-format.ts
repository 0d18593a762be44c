import { children, oid, readTlv } from '../asn1/ber.js';
import { hexEncode, latin1, utf8 } from '../bytes.js';

const SHORT: Record<string, string> = {
  '2.5.4.3': 'CN',
  '2.5.4.4': 'SN',
  '2.5.4.5': 'serialNumber',
  '2.5.4.6': 'C',
  '2.5.4.7': 'L',
  '2.5.4.8': 'ST',
  '2.5.4.9': 'street',
  '2.5.4.10': 'O',
  '2.5.4.11': 'OU',
  '2.5.4.12': 'title',
  '2.5.4.42': 'GN',
  '1.2.840.113549.1.9.1': 'emailAddress',
  '0.9.2342.19200300.100.1.25': 'DC',
  '0.9.2342.19200300.100.1.1': 'UID',
};

function decodeString(buf: Uint8Array, tag: number, s: number, e: number): string {
  const b = buf.subarray(s, e);
  if (tag === 30) {
    // BMPString: UTF-16BE
    let out = '';
    for (let i = 0; i + 1 < b.length; i += 2) out += String.fromCharCode((b[i]! << 8) | b[i + 1]!);
    return out;
  }
  if (tag === 12) return utf8.decode(b);
  if (tag === 19 || tag === 22 || tag === 20 || tag === 26) return latin1(b);
  return `#${hexEncode(b)}`;
}

/** A distinguished name for people, most specific first as OpenSSL prints with -nameopt RFC2253 reversed. */
export function formatName(der: Uint8Array): string {
  try {
    const top = readTlv(der, 0);
    const rdns = children(der, top).map((set) =>
      children(der, set)
        .map((atv) => {
          const [t, v] = children(der, atv);
          if (!t || !v) return '';
          const o = oid(der, t);
          return `${SHORT[o] ?? o}=${decodeString(der, v.tag, v.contentStart, v.contentEnd)}`;
        })
        .join('+'),
    );
    return rdns.reverse().join(', ');
  } catch {
    return `#${hexEncode(der)}`;
  }
}
