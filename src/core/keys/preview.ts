/**
 * What an import dialog shows before anything is stored, and what the key list shows after:
 * pure descriptions of parsed keys (identity, issuer, serial, validity, usage, algorithm, chain),
 * the file's protection (legacy PKCS#12 PBEs named), and identity grouping for dual key pairs.
 */
import { children, octets, oid as readOid, readTlv, type Tlv } from '../asn1/ber.js';
import { pbeName } from './pbe.js';
import type { KeyBundle, KeyRecord, PrivateKeyMaterial } from './types.js';

export type KeyStatus = 'valid' | 'expired' | 'not-yet-valid';

export interface KeySummary {
  /** Absent for a key imported without a certificate. */
  subject?: string;
  emails: string[];
  issuer?: string;
  serialHex?: string;
  /** ms since the epoch. */
  notBefore?: number;
  notAfter?: number;
  /** Certificate keyUsage / extKeyUsage names as the core reports them. */
  keyUsage: string[];
  extKeyUsage: string[];
  algorithm: PrivateKeyMaterial['type'];
  bits?: number;
  curve?: string;
  /** SHA-256 of the certificate DER, lowercase hex. */
  certFingerprint?: string;
  /** Subjects of the chain certificates, issuer first. */
  chain?: string[];
}

export function summaryOf(k: KeyRecord): KeySummary {
  const c = k.certificate;
  const pk = k.privateKey;
  const s: KeySummary = { emails: c ? [...c.emails] : [], keyUsage: [...(c?.keyUsage ?? [])], extKeyUsage: [...(c?.extKeyUsage ?? [])], algorithm: pk.type };
  if (pk.type === 'rsa') s.bits = pk.bits;
  if (pk.type === 'ec') s.curve = pk.curve;
  if (pk.type === 'x25519' || pk.type === 'x448') s.curve = pk.type === 'x25519' ? 'X25519' : 'X448';
  if (c) {
    s.subject = c.subject;
    s.issuer = c.issuer;
    s.serialHex = c.serialHex;
    s.notBefore = c.notBefore.getTime();
    s.notAfter = c.notAfter.getTime();
    s.certFingerprint = c.sha256Fingerprint;
  }
  s.chain = k.chain.map((x) => x.subject);
  return s;
}

export function statusOf(s: Pick<KeySummary, 'notBefore' | 'notAfter'>, now: number): KeyStatus {
  if (s.notBefore !== undefined && now < s.notBefore) return 'not-yet-valid';
  if (s.notAfter !== undefined && now > s.notAfter) return 'expired';
  return 'valid';
}

/**
 * How the list presents a key: an expired encryption key is 'retired' (kept, still decrypts mail
 * addressed to it, never offered for new use); an expired signing-only key is 'expired'.
 */
export type Lifecycle = 'valid' | 'not-yet-valid' | 'retired' | 'expired';
export function lifecycleOf(status: KeyStatus, usage: { encryption: boolean }): Lifecycle {
  if (status === 'expired') return usage.encryption ? 'retired' : 'expired';
  return status;
}

/**
 * Whether this key could live in a non-extractable WebCrypto CryptoKey: true for EC/X25519 (ECDH),
 * and for RSA only when mail used RSA-OAEP — RSAES-PKCS1-v1_5 (what nearly all S/MIME uses) has no
 * WebCrypto algorithm, so Unseal holds RSA keys as numbers in memory while unlocked.
 */
export function nonExtractableCapability(algorithm: PrivateKeyMaterial['type']): 'ecdh' | 'rsa-oaep-only' | 'none' {
  if (algorithm === 'ec' || algorithm === 'x25519') return 'ecdh';
  if (algorithm === 'rsa') return 'rsa-oaep-only';
  return 'none';
}

export function labelOf(k: KeyRecord, source: string): string {
  if (k.friendlyName?.trim()) return k.friendlyName.trim();
  const cn = k.certificate?.subject.match(/(?:^|,\s*)CN=((?:\\.|[^,])+)/)?.[1];
  if (cn) return cn.replace(/\\(.)/g, '$1');
  if (k.certificate?.emails[0]) return k.certificate.emails[0];
  return source || `${k.privateKey.type.toUpperCase()} key ${k.id.slice(0, 8)}`;
}

/** The identity a key belongs to, for grouping dual key pairs: first e-mail, else subject, else the id. */
export function identityOf(s: Pick<KeySummary, 'emails' | 'subject'>, id: string): string {
  return s.emails[0]?.toLowerCase() ?? s.subject ?? `key:${id}`;
}

export interface PreviewItem {
  id: string;
  label: string;
  summary: KeySummary;
  status: KeyStatus;
  usage: { encryption: boolean; signing: boolean };
  hasCertificate: boolean;
  /** Already in the store: shown, not selectable. */
  duplicate: boolean;
}

export interface FilePreview {
  items: PreviewItem[];
  /** Certificates in the file that belong to no key (CA certificates, other people). */
  otherCertificates: string[];
  /** PKCS#12 protection algorithms, e.g. "pbewithSHAAnd40BitRC2-CBC" (empty for other formats). */
  protection: string[];
  /** The weakest protection is a legacy PKCS#12 PBE (RC2-40, RC4, 3DES with SHA-1). */
  legacy?: string;
}

const LEGACY = /^pbe(with)?SHAAnd/i;

export function previewBundle(bundle: KeyBundle, protection: string[], present: ReadonlySet<string>, source: string, now: number): FilePreview {
  const keyCerts = new Set<string>();
  const items = bundle.keys.map((k): PreviewItem => {
    const summary = summaryOf(k);
    if (k.certificate) keyCerts.add(k.certificate.sha256Fingerprint);
    for (const c of k.chain) keyCerts.add(c.sha256Fingerprint);
    return { id: k.id, label: labelOf(k, source), summary, status: statusOf(summary, now), usage: { ...k.usage }, hasCertificate: !!k.certificate, duplicate: present.has(k.id) };
  });
  const legacy = protection.find((p) => LEGACY.test(p));
  const out: FilePreview = { items, otherCertificates: bundle.certificates.filter((c) => !keyCerts.has(c.sha256Fingerprint)).map((c) => c.subject), protection };
  if (legacy) out.legacy = legacy;
  return out;
}

const PKCS12 = { data: '1.2.840.113549.1.7.1', encryptedData: '1.2.840.113549.1.7.6', shroudedKeyBag: '1.2.840.113549.1.12.10.1.2' };

/**
 * The password-based encryptions a PKCS#12 file uses (EncryptedData and shrouded key bags in
 * plain SafeContents), read from the structure without the password. Empty when not PKCS#12 or
 * unreadable (the import itself reports that).
 */
export function pkcs12Protection(der: Uint8Array): string[] {
  const out = new Set<string>();
  try {
    const top = readTlv(der, 0);
    const authSafeCi = children(der, top)[1];
    if (!authSafeCi) return [];
    const [ctT, contentT] = children(der, authSafeCi);
    if (!ctT || readOid(der, ctT) !== PKCS12.data || !contentT) return [];
    const as = octets(der, children(der, contentT)[0]!);
    for (const ci of children(as, readTlv(as, 0))) {
      const [t, c] = children(as, ci);
      if (!t || !c) continue;
      const type = readOid(as, t);
      if (type === PKCS12.encryptedData) {
        const eci = children(as, children(as, c)[0]!)[1];
        const alg = eci ? children(as, eci)[1] : undefined;
        if (alg) out.add(pbeName(as.subarray(alg.start, alg.end)));
      } else if (type === PKCS12.data) {
        const sc = octets(as, children(as, c)[0]!);
        for (const bag of children(sc, readTlv(sc, 0))) shrouded(sc, bag, out);
      }
    }
  } catch {
    return [...out];
  }
  return [...out];
}

function shrouded(buf: Uint8Array, bag: Tlv, out: Set<string>): void {
  const [idT, valT] = children(buf, bag);
  if (!idT || !valT || readOid(buf, idT) !== PKCS12.shroudedKeyBag) return;
  const epki = children(buf, valT)[0];
  const alg = epki ? children(buf, epki)[0] : undefined;
  if (alg) out.add(pbeName(buf.subarray(alg.start, alg.end)));
}
