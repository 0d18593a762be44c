/**
 * X.500 Names: display (RFC 4514 order and escaping) and comparison by value (RFC 5280 §7.1).
 * Recipient matching must compare by value: NSS re-encodes issuer names it copies into
 * IssuerAndSerialNumber, and CAs mix PrintableString and UTF8String between issuer and subject.
 */
import { bytesEqual, hexEncode } from '../bytes.js';
import { children, oid as readOid, readTlv, type Tlv } from '../asn1/ber.js';

const ATTR_NAMES: Record<string, string> = {
  '2.5.4.3': 'CN',
  '2.5.4.4': 'SN',
  '2.5.4.5': 'serialNumber',
  '2.5.4.6': 'C',
  '2.5.4.7': 'L',
  '2.5.4.8': 'ST',
  '2.5.4.9': 'STREET',
  '2.5.4.10': 'O',
  '2.5.4.11': 'OU',
  '2.5.4.12': 'title',
  '2.5.4.42': 'GN',
  '2.5.4.43': 'initials',
  '2.5.4.44': 'generationQualifier',
  '2.5.4.46': 'dnQualifier',
  '2.5.4.65': 'pseudonym',
  '2.5.4.97': 'organizationIdentifier',
  '0.9.2342.19200300.100.1.1': 'UID',
  '0.9.2342.19200300.100.1.25': 'DC',
  '1.2.840.113549.1.9.1': 'emailAddress',
};

export const EMAIL_ADDRESS_OID = '1.2.840.113549.1.9.1';

export interface Ava {
  type: string;
  /** Decoded text for directory string types, undefined for anything else. */
  text: string | undefined;
  /** The value's full DER (tag, length, content), for non-string comparison and display. */
  raw: Uint8Array;
}

/** Decodes the ASN.1 character string types; undefined for non-string values. */
export function decodeString(buf: Uint8Array, t: Tlv): string | undefined {
  if (t.cls !== 0 || t.constructed) return undefined;
  const c = buf.subarray(t.contentStart, t.contentEnd);
  switch (t.tag) {
    case 12: // UTF8String
      return new TextDecoder('utf-8').decode(c);
    case 18: // NumericString
    case 19: // PrintableString
    case 20: // TeletexString: in practice Latin-1
    case 22: // IA5String
    case 26: // VisibleString
      return Array.from(c, (b) => String.fromCharCode(b)).join('');
    case 30: // BMPString
      return new TextDecoder('utf-16be').decode(c);
    case 28: {
      // UniversalString
      let s = '';
      for (let i = 0; i + 4 <= c.length; i += 4) s += String.fromCodePoint(((c[i]! << 24) | (c[i + 1]! << 16) | (c[i + 2]! << 8) | c[i + 3]!) >>> 0);
      return s;
    }
    default:
      return undefined;
  }
}

/** The RDNs of a Name, in encoded order (least specific first, as certificates store them). */
export function readName(buf: Uint8Array, name: Tlv): Ava[][] {
  return children(buf, name).map((rdn) =>
    children(buf, rdn).map((ava) => {
      const [type, value] = children(buf, ava);
      if (!type || !value) throw new TypeError('bad AttributeTypeAndValue');
      return { type: readOid(buf, type), text: decodeString(buf, value), raw: buf.subarray(value.start, value.end) };
    }),
  );
}

function escapeValue(s: string): string {
  let out = s.replace(/[\\,+"<>;=]/g, (c) => '\\' + c);
  out = out.replace(/^[ #]/, (c) => '\\' + c).replace(/ $/, '\\ ');
  return out;
}

export function nameToString(rdns: Ava[][]): string {
  return [...rdns]
    .reverse()
    .map((rdn) =>
      rdn
        .map((a) => `${ATTR_NAMES[a.type] ?? a.type}=${a.text !== undefined ? escapeValue(a.text) : '#' + hexEncode(a.raw)}`)
        .join('+'),
    )
    .join(', ');
}

/** RFC 4518-style preparation: compatibility-normalise, case-fold, trim, fold inner whitespace. */
function prepare(s: string): string {
  return s.normalize('NFKC').toUpperCase().toLowerCase().trim().replace(/\s+/g, ' ');
}

function avaEqual(a: Ava, b: Ava): boolean {
  if (a.type !== b.type) return false;
  if (a.text !== undefined && b.text !== undefined) return prepare(a.text) === prepare(b.text);
  return bytesEqual(a.raw, b.raw);
}

function rdnEqual(a: Ava[], b: Ava[]): boolean {
  if (a.length !== b.length) return false;
  // A multi-valued RDN is a SET: order does not matter, each value used once.
  const used = new Array<boolean>(b.length).fill(false);
  return a.every((x) => {
    const i = b.findIndex((y, j) => !used[j] && avaEqual(x, y));
    if (i < 0) return false;
    used[i] = true;
    return true;
  });
}

export function parseNameDer(der: Uint8Array): Ava[][] {
  const t = readTlv(der, 0);
  if (t.cls !== 0 || t.tag !== 16 || t.end !== der.length) throw new TypeError('not a Name');
  return readName(der, t);
}

export function namesEqual(aDer: Uint8Array, bDer: Uint8Array): boolean {
  let a: Ava[][];
  let b: Ava[][];
  try {
    a = parseNameDer(aDer);
    b = parseNameDer(bDer);
  } catch {
    return bytesEqual(aDer, bDer);
  }
  return a.length === b.length && a.every((rdn, i) => rdnEqual(rdn, b[i]!));
}
