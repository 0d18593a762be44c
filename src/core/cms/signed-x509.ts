import { children, expectTag, octets, oid, readTlv, type Tlv } from '../asn1/ber.js';
import { hexEncode, latin1 } from '../bytes.js';
import { UnsealError } from '../errors.js';
import { EMAIL_ADDRESS_OID, namesEqual, nameToString as x500NameToString, parseNameDer } from '../keys/x500-name.js';

/**
 * Just enough X.509 for signer lookup and chain checks, read with the BER reader so the exact
 * bytes that were signed (tbsCertificate, issuer/subject Names, SPKI) stay available as views.
 * Rich certificate presentation belongs to src/core/keys; this module only answers the questions
 * a signature verifier has to ask.
 */
export interface AlgId {
  readonly oid: string;
  /** The parameters element (TLV bytes), if any. */
  readonly params?: Uint8Array;
}

export interface X509 {
  readonly der: Uint8Array;
  readonly tbs: Uint8Array;
  readonly signatureAlgorithm: AlgId;
  readonly signature: Uint8Array;
  /** Serial number INTEGER content octets as encoded. */
  readonly serial: Uint8Array;
  readonly issuerDer: Uint8Array;
  readonly subjectDer: Uint8Array;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly spki: Uint8Array;
  readonly ski?: Uint8Array;
  /** keyIdentifier of the authorityKeyIdentifier extension. */
  readonly aki?: Uint8Array;
  /** undefined when the extension is absent. */
  readonly basicConstraintsCa?: boolean;
  /** Bit i set means KeyUsage bit i (0 digitalSignature, 1 nonRepudiation, 5 keyCertSign); undefined when absent. */
  readonly keyUsage?: number;
  readonly extKeyUsage?: readonly string[];
  readonly sanEmails: readonly string[];
  /** OIDs of critical extensions this reader does not understand. */
  readonly unknownCritical: readonly string[];
}

const bad = (msg: string): never => {
  throw new UnsealError('malformed_cms', `certificate: ${msg}`);
};

export function parseAlgId(buf: Uint8Array, t: Tlv): AlgId {
  const [o, p] = children(buf, expectTag(t, 0, 16, 'AlgorithmIdentifier'));
  const id = oid(buf, expectTag(o, 0, 6, 'algorithm OID'));
  // An explicit NULL is the same as absent for every algorithm handled here.
  if (!p || (p.cls === 0 && p.tag === 5)) return { oid: id };
  return { oid: id, params: buf.subarray(p.start, p.end) };
}

/** UTCTime / GeneralizedTime; lenient about missing seconds and numeric offsets found in old mail. */
export function parseTime(buf: Uint8Array, t: Tlv): Date {
  if (t.cls !== 0 || (t.tag !== 23 && t.tag !== 24)) bad('expected a time');
  const s = latin1(octets(buf, t));
  const m =
    t.tag === 23
      ? /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})?(Z|[+-]\d{4})$/.exec(s)
      : /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})?(?:[.,](\d+))?(Z|[+-]\d{4})?$/.exec(s);
  if (!m) return bad(`unreadable time "${s}"`);
  let year = Number(m[1]);
  // RFC 5280 §4.1.2.5.1: two-digit years 50–99 are 19xx.
  if (t.tag === 23) year += year >= 50 ? 1900 : 2000;
  const frac = t.tag === 24 && m[7] ? Number(`0.${m[7]}`) * 1000 : 0;
  const zone = (t.tag === 23 ? m[7] : m[8]) ?? 'Z';
  let ms = Date.UTC(year, Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6] ?? 0)) + Math.round(frac);
  if (zone !== 'Z') {
    const sign = zone[0] === '-' ? -1 : 1;
    ms -= sign * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(3, 5))) * 60_000;
  }
  return new Date(ms);
}

const OID_SKI = '2.5.29.14';
const OID_KU = '2.5.29.15';
const OID_SAN = '2.5.29.17';
const OID_BC = '2.5.29.19';
const OID_AKI = '2.5.29.35';
const OID_EKU = '2.5.29.37';
/** Recognised well enough that being critical does not make the certificate unusable. */
const UNDERSTOOD = new Set([OID_SKI, OID_KU, OID_SAN, OID_BC, OID_AKI, OID_EKU, '2.5.29.32', '2.5.29.31', '2.5.29.18']);

export function parseX509(der: Uint8Array): X509 {
  const top = readTlv(der, 0);
  const [tbsT, algT, sigT] = children(der, expectTag(top, 0, 16, 'Certificate'));
  if (!tbsT || !algT || !sigT) return bad('incomplete Certificate');
  const f = children(der, expectTag(tbsT, 0, 16, 'tbsCertificate'));
  let i = 0;
  if (f[0]?.cls === 2 && f[0].tag === 0) i++;
  const serialT = expectTag(f[i++], 0, 2, 'serialNumber');
  i++; // inner signature AlgorithmIdentifier, required to equal the outer one; the outer is what is checked
  const issuerT = expectTag(f[i++], 0, 16, 'issuer');
  const validity = children(der, expectTag(f[i++], 0, 16, 'validity'));
  const subjectT = expectTag(f[i++], 0, 16, 'subject');
  const spkiT = expectTag(f[i++], 0, 16, 'subjectPublicKeyInfo');
  if (!validity[0] || !validity[1]) return bad('incomplete validity');

  let ski: Uint8Array | undefined;
  let aki: Uint8Array | undefined;
  let basicConstraintsCa: boolean | undefined;
  let keyUsage: number | undefined;
  let extKeyUsage: string[] | undefined;
  const sanEmails: string[] = [];
  const unknownCritical: string[] = [];
  for (; i < f.length; i++) {
    const x = f[i]!;
    if (x.cls !== 2 || x.tag !== 3) continue;
    const [seq] = children(der, x);
    for (const ext of children(der, expectTag(seq, 0, 16, 'Extensions'))) {
      const parts = children(der, ext);
      const id = oid(der, expectTag(parts[0], 0, 6, 'extnID'));
      let critical = false;
      let valT = parts[1];
      if (valT && valT.cls === 0 && valT.tag === 1) {
        critical = der[valT.contentStart] !== 0;
        valT = parts[2];
      }
      const v = octets(der, expectTag(valT, 0, 4, 'extnValue'));
      if (critical && !UNDERSTOOD.has(id)) unknownCritical.push(id);
      const inner = v.length ? readTlv(v, 0) : undefined;
      if (!inner) continue;
      if (id === OID_SKI) ski = octets(v, inner);
      else if (id === OID_AKI) {
        const kid = children(v, inner).find((c) => c.cls === 2 && c.tag === 0);
        if (kid) aki = octets(v, kid);
      } else if (id === OID_BC) {
        const b = children(v, inner)[0];
        basicConstraintsCa = !!b && b.cls === 0 && b.tag === 1 && v[b.contentStart] !== 0;
      } else if (id === OID_KU) keyUsage = bitStringFlags(v, inner);
      else if (id === OID_EKU) extKeyUsage = children(v, inner).map((c) => oid(v, c));
      else if (id === OID_SAN) {
        for (const g of children(v, inner)) if (g.cls === 2 && g.tag === 1) sanEmails.push(latin1(octets(v, g)));
      }
    }
  }

  const sigBits = expectTag(sigT, 0, 3, 'signatureValue');
  return {
    der,
    tbs: der.subarray(tbsT.start, tbsT.end),
    signatureAlgorithm: parseAlgId(der, algT),
    signature: bitStringBytes(der, sigBits),
    serial: der.subarray(serialT.contentStart, serialT.contentEnd),
    issuerDer: der.subarray(issuerT.start, issuerT.end),
    subjectDer: der.subarray(subjectT.start, subjectT.end),
    notBefore: parseTime(der, validity[0]),
    notAfter: parseTime(der, validity[1]),
    spki: der.subarray(spkiT.start, spkiT.end),
    ...(ski ? { ski } : {}),
    ...(aki ? { aki } : {}),
    ...(basicConstraintsCa !== undefined ? { basicConstraintsCa } : {}),
    ...(keyUsage !== undefined ? { keyUsage } : {}),
    ...(extKeyUsage ? { extKeyUsage } : {}),
    sanEmails,
    unknownCritical,
  };
}

/** BIT STRING payload without the unused-bits octet (keys and signatures are whole octets). */
export function bitStringBytes(buf: Uint8Array, t: Tlv): Uint8Array {
  const b = octets(buf, t);
  if (b.length < 1) return bad('empty BIT STRING');
  return b.subarray(1);
}

/** KeyUsage bits as a number with bit 0 = first named bit (ASN.1 numbers bits from the MSB). */
function bitStringFlags(buf: Uint8Array, t: Tlv): number {
  const b = octets(buf, t).subarray(1);
  let flags = 0;
  for (let i = 0; i < Math.min(b.length, 2) * 8; i++) if (b[i >> 3]! & (0x80 >> (i & 7))) flags |= 1 << i;
  return flags;
}

/** Serial as lowercase hex of the INTEGER content octets, the same form CertInfo.serialHex uses. */
export function serialHex(serial: Uint8Array): string {
  return hexEncode(serial);
}

// ---- Names: shared with src/core/keys so reports and the key store print and match names alike ----

/** RFC 4514 order (most specific first), e.g. "CN=Alice, O=Example, C=US". */
export function nameToString(der: Uint8Array): string {
  try {
    return x500NameToString(parseNameDer(der));
  } catch {
    return '(unreadable name)';
  }
}

export function nameEmail(der: Uint8Array): string | undefined {
  try {
    for (const rdn of parseNameDer(der)) for (const a of rdn) if (a.type === EMAIL_ADDRESS_OID && a.text) return a.text;
  } catch {
    // an unreadable subject simply has no e-mail address
  }
  return undefined;
}

export { namesEqual };
