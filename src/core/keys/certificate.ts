/**
 * X.509 certificate summary (RFC 5280 §4.1). The raw encodings recipient matching needs (issuer
 * Name, serial content octets, SPKI) are taken as the bytes in the certificate, never re-encoded.
 */
import { hexEncode } from '../bytes.js';
import { children, octets, oid as readOid, readTlv, type Tlv } from '../asn1/ber.js';
import { hashSync } from '../crypto/hash.js';
import { parsing, unreadable } from './key-errors.js';
import { describeSpki } from './public-key.js';
import type { CertInfo } from './types.js';
import { EMAIL_ADDRESS_OID, nameToString, namesEqual, readName } from './x500-name.js';

export { namesEqual } from './x500-name.js';

const KEY_USAGE_BITS = [
  'digitalSignature',
  'nonRepudiation',
  'keyEncipherment',
  'dataEncipherment',
  'keyAgreement',
  'keyCertSign',
  'cRLSign',
  'encipherOnly',
  'decipherOnly',
];

const EKU_NAMES: Record<string, string> = {
  '1.3.6.1.5.5.7.3.1': 'serverAuth',
  '1.3.6.1.5.5.7.3.2': 'clientAuth',
  '1.3.6.1.5.5.7.3.3': 'codeSigning',
  '1.3.6.1.5.5.7.3.4': 'emailProtection',
  '1.3.6.1.5.5.7.3.8': 'timeStamping',
  '1.3.6.1.5.5.7.3.9': 'OCSPSigning',
  '2.5.29.37.0': 'anyExtendedKeyUsage',
};

/** Fields chain building needs but the public CertInfo does not carry. */
interface CertExtras {
  subjectDer: Uint8Array;
  authorityKeyId?: Uint8Array;
}
const extras = new WeakMap<CertInfo, CertExtras>();

export function parseCertificate(der: Uint8Array): CertInfo {
  return parsing('certificate', () => parse(der.slice()));
}

function parse(der: Uint8Array): CertInfo {
  const top = readTlv(der, 0);
  if (top.cls !== 0 || top.tag !== 16 || top.end !== der.length) unreadable('certificate', 'not a DER certificate');
  const [tbs, sigAlg, sig] = children(der, top);
  if (!tbs || !sigAlg || !sig || tbs.tag !== 16 || sigAlg.tag !== 16 || sig.tag !== 3) unreadable('certificate', 'not an X.509 certificate');
  const f = children(der, tbs);
  let i = 0;
  if (f[0]?.cls === 2 && f[0].tag === 0) i++; // [0] EXPLICIT version
  const serial = f[i++];
  const sigInTbs = f[i++];
  const issuer = f[i++];
  const validity = f[i++];
  const subject = f[i++];
  const spki = f[i++];
  if (!serial || serial.tag !== 2 || !sigInTbs || !issuer || issuer.tag !== 16 || !validity || !subject || subject.tag !== 16 || !spki || spki.tag !== 16) {
    unreadable('certificate', 'TBSCertificate fields missing');
  }
  const [nb, na] = children(der, validity);
  if (!nb || !na) unreadable('certificate', 'validity missing');

  const subjectRdns = readName(der, subject);
  const issuerRdns = readName(der, issuer);
  const serialBytes = der.slice(serial.contentStart, serial.contentEnd);
  const spkiDer = der.slice(spki.start, spki.end);

  const emails = new Set<string>();
  for (const rdn of subjectRdns) for (const a of rdn) if (a.type === EMAIL_ADDRESS_OID && a.text) emails.add(a.text.trim().toLowerCase());

  const info: CertInfo = {
    der,
    subject: nameToString(subjectRdns),
    issuer: nameToString(issuerRdns),
    serialHex: hexEncode(serialBytes),
    issuerDer: der.slice(issuer.start, issuer.end),
    serialBytes,
    emails: [],
    notBefore: readTime(der, nb),
    notAfter: readTime(der, na),
    ...describeSpki(spkiDer),
    spkiDer,
    sha256Fingerprint: hexEncode(hashSync('SHA-256', der)),
    isCa: false,
  };
  const ex: CertExtras = { subjectDer: der.slice(subject.start, subject.end) };

  for (; i < f.length; i++) {
    const t = f[i]!;
    if (t.cls !== 2 || t.tag !== 3) continue; // [1]/[2] unique identifiers
    const list = children(der, t)[0];
    if (!list) continue;
    for (const ext of children(der, list)) readExtension(der, ext, info, ex, emails);
  }
  info.emails = [...emails];
  extras.set(info, ex);
  return info;
}

function readExtension(der: Uint8Array, ext: Tlv, info: CertInfo, ex: CertExtras, emails: Set<string>): void {
  const parts = children(der, ext);
  const id = readOid(der, parts[0]!);
  const valueTlv = parts[parts.length - 1]!;
  if (valueTlv.tag !== 4) return;
  const v = octets(der, valueTlv);
  const inner = (): Tlv => readTlv(v, 0);
  switch (id) {
    case '2.5.29.14': // subjectKeyIdentifier
      info.subjectKeyId = octets(v, inner()).slice();
      break;
    case '2.5.29.35': {
      // authorityKeyIdentifier: [0] keyIdentifier
      const k = children(v, inner()).find((c) => c.cls === 2 && c.tag === 0);
      if (k) ex.authorityKeyId = v.slice(k.contentStart, k.contentEnd);
      break;
    }
    case '2.5.29.15': {
      // keyUsage BIT STRING: first content octet is the unused-bit count
      const t = inner();
      const bits = v.subarray(t.contentStart + 1, t.contentEnd);
      info.keyUsage = KEY_USAGE_BITS.filter((_, bit) => ((bits[bit >> 3] ?? 0) & (0x80 >> (bit & 7))) !== 0);
      break;
    }
    case '2.5.29.37': // extKeyUsage
      info.extKeyUsage = children(v, inner()).map((c) => {
        const o = readOid(v, c);
        return EKU_NAMES[o] ?? o;
      });
      break;
    case '2.5.29.19': {
      // basicConstraints: cA BOOLEAN DEFAULT FALSE
      const first = children(v, inner())[0];
      info.isCa = first !== undefined && first.tag === 1 && v[first.contentStart] !== 0;
      break;
    }
    case '2.5.29.17': // subjectAltName: rfc822Name is [1] IMPLICIT IA5String
      for (const gn of children(v, inner())) {
        if (gn.cls === 2 && gn.tag === 1 && !gn.constructed) {
          const s = Array.from(v.subarray(gn.contentStart, gn.contentEnd), (b) => String.fromCharCode(b)).join('');
          emails.add(s.trim().toLowerCase());
        }
      }
      break;
  }
}

function readTime(der: Uint8Array, t: Tlv): Date {
  const s = Array.from(der.subarray(t.contentStart, t.contentEnd), (b) => String.fromCharCode(b)).join('');
  let m: RegExpExecArray | null;
  let year: number;
  let rest: string;
  if (t.tag === 23 && (m = /^(\d{2})(\d{8,10})(.*)$/.exec(s))) {
    const yy = Number(m[1]);
    year = yy < 50 ? 2000 + yy : 1900 + yy; // RFC 5280 §4.1.2.5.1
    rest = m[2]! + m[3]!;
  } else if (t.tag === 24 && (m = /^(\d{4})(.*)$/.exec(s))) {
    year = Number(m[1]);
    rest = m[2]!;
  } else unreadable('certificate', `bad time "${s}"`);
  const r = /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})?(?:[.,](\d+))?(Z|[+-]\d{4})?$/.exec(rest);
  if (!r) unreadable('certificate', `bad time "${s}"`);
  const ms = r[6] ? Math.round(Number('0.' + r[6]) * 1000) : 0;
  let when = Date.UTC(year, Number(r[1]) - 1, Number(r[2]), Number(r[3]), Number(r[4]), Number(r[5] ?? 0), ms);
  const z = r[7];
  if (z && z !== 'Z') {
    const off = (Number(z.slice(1, 3)) * 60 + Number(z.slice(3, 5))) * 60_000;
    when += z[0] === '+' ? -off : off;
  }
  return new Date(when);
}

function extrasOf(c: CertInfo): CertExtras {
  let ex = extras.get(c);
  if (!ex) {
    // A CertInfo that crossed a structured-clone boundary lost its WeakMap entry.
    const again = parseCertificate(c.der);
    ex = extras.get(again)!;
    extras.set(c, ex);
  }
  return ex;
}

export function certSubjectDer(c: CertInfo): Uint8Array {
  return extrasOf(c).subjectDer;
}

export function certAuthorityKeyId(c: CertInfo): Uint8Array | undefined {
  return extrasOf(c).authorityKeyId;
}

/** True when `issuer` could have issued `cert`: subject/issuer names match, and key ids when both are present. */
export function issuedBy(cert: CertInfo, issuer: CertInfo): boolean {
  if (!namesEqual(cert.issuerDer, certSubjectDer(issuer))) return false;
  const aki = certAuthorityKeyId(cert);
  const ski = issuer.subjectKeyId;
  if (aki && ski) return hexEncode(aki) === hexEncode(ski);
  return true;
}

export function isSelfIssued(c: CertInfo): boolean {
  return namesEqual(c.issuerDer, certSubjectDer(c));
}
