import { children, expectTag, octets, oid, readTlv, smallInt, type Tlv } from '../asn1/ber.js';
import { bytesEqual } from '../bytes.js';
import { UnsealError, isUnsealError } from '../errors.js';
import { OID } from './oids.js';
import { checkChain, type CertStatus } from './signed-chain.js';
import { digest, hashFromOid, isWeakHash, resolveSigAlg, verifySignature, type HashName, type SigAlg } from './signed-verify.js';
import { nameEmail, nameToString, namesEqual, parseAlgId, parseTime, parseX509, serialHex, type AlgId, type X509 } from './signed-x509.js';

export type { CertStatus } from './signed-chain.js';

export interface SignerReport {
  /** The cryptographic signature over the content / signed attributes (messageDigest matched). */
  signatureValid: boolean;
  /** Separately: chain to a trust anchor, validity at signingTime if present (else now). */
  certificateStatus: CertStatus;
  /** Why certificateStatus is not 'valid', for people. */
  certificateDetail?: string;
  /** ISO 8601, from the signed signingTime attribute. */
  signingTime?: string;
  /** 'SHA-256' …, or the dotted OID when unknown. */
  digestAlgorithm: string;
  /** 'RSASSA-PKCS1-v1_5' | 'RSA-PSS' | 'ECDSA' | 'Ed25519', or the dotted OID when unknown. */
  signatureAlgorithm: string;
  /** SHA-1 or MD5: the signature may be forgeable even when it verifies. */
  weakDigest: boolean;
  subject?: string;
  email?: string;
  /** Every address the certificate names (SAN rfc822Name entries, else the subject's emailAddress), lower-case. */
  emails?: string[];
  /**
   * Set by openMessage when both are known: whether the message's sender (From) is one of `emails`.
   * False is what mail clients show as "signed by someone else" (RFC 8551 §3: the signer's address
   * should match the From address).
   */
  senderMatches?: boolean;
  issuer?: string;
  serialHex?: string;
  certificateDer?: Uint8Array;
  /** Human reason when signatureValid is false. */
  error?: string;
}

export interface SignedResult {
  /** No eContent in the SignedData (a multipart/signed signature). */
  detached: boolean;
  /** Encapsulated content (opaque) or the detached content passed in. */
  content: Uint8Array;
  eContentType: string;
  signers: SignerReport[];
  /** Every certificate carried, DER as found, for "import sender certificate". */
  certificates: Uint8Array[];
}

export interface VerifyOptions {
  /** The signed bytes of a detached signature (multipart/signed first part, raw). */
  detachedContent?: Uint8Array;
  /** DER certificates the user trusts. */
  trustAnchors?: Uint8Array[];
  /** Clock for signatures without signingTime; defaults to the current time. */
  now?: Date;
}

interface SignerInfo {
  sid: { issuer: Uint8Array; serial: Uint8Array } | { ski: Uint8Array };
  digestAlgorithm: AlgId;
  /** The [0] IMPLICIT element as encoded; re-tagged as SET before verification. */
  signedAttrsRaw?: Uint8Array;
  attrs?: Map<string, { buf: Uint8Array; values: Tlv[] }>;
  signatureAlgorithm: AlgId;
  signature: Uint8Array;
}

interface ParsedSignedData {
  eContentType: string;
  eContent?: Uint8Array;
  certificates: Uint8Array[];
  signerInfos: SignerInfo[];
}

const malformed = (msg: string): never => {
  throw new UnsealError('malformed_cms', msg);
};

/**
 * Parses DER or BER SignedData ContentInfo (indefinite lengths, chunked eContent — NSS produces
 * those), verifies each SignerInfo (RSA v1.5, RSA-PSS, ECDSA P-256/384/521, Ed25519;
 * MD5/SHA-1/224/256/384/512; with and without signed attributes; issuerAndSerial or SKI signer id),
 * then checks the certificate separately against trustAnchors with validity evaluated at
 * signingTime when present, else at `now`. Never throws for a bad signature — reports it; throws
 * UnsealError('malformed_cms') only when the structure is unreadable.
 *
 * With detachedContent, a signer whose digest does not match the exact bytes is retried with the
 * bytes canonicalised to CRLF (RFC 8551 §3.1.1), since mail stores often hold LF-only copies.
 * A SignedData that carries eContent different from detachedContent is reported as a bad
 * signature: the signed bytes are not the ones that would be shown.
 */
export async function verifySignedData(crypto: SubtleCrypto, der: Uint8Array, opts: VerifyOptions = {}): Promise<SignedResult> {
  const sd = parseSignedData(der);
  const now = opts.now ?? new Date();
  const anchors = parseCerts(opts.trustAnchors ?? []);
  const carried = parseCerts(sd.certificates);

  let contentError: string | undefined;
  let candidates: Uint8Array[];
  let content: Uint8Array;
  if (opts.detachedContent) {
    content = opts.detachedContent;
    const canon = canonicalizeMime(content);
    candidates = canon === content ? [content] : [content, canon];
    if (sd.eContent && !bytesEqual(sd.eContent, content)) {
      contentError = 'the signature carries different content from the signed message part';
    }
  } else if (sd.eContent) {
    content = sd.eContent;
    candidates = [content];
  } else {
    content = new Uint8Array(0);
    candidates = [];
    contentError = 'detached signature, but the signed content was not supplied';
  }

  const digests = new Map<string, Promise<Uint8Array>>();
  const digestOf = (h: HashName, i: number): Promise<Uint8Array> => {
    const key = `${h}/${i}`;
    let d = digests.get(key);
    if (!d) digests.set(key, (d = digest(crypto, h, candidates[i]!)));
    return d;
  };

  const signers: SignerReport[] = [];
  for (const si of sd.signerInfos) {
    signers.push(await verifySigner(crypto, si, sd.eContentType, candidates, digestOf, contentError, carried, anchors, now));
  }
  return { detached: sd.eContent === undefined, content, eContentType: sd.eContentType, signers, certificates: sd.certificates };
}

async function verifySigner(
  crypto: SubtleCrypto,
  si: SignerInfo,
  eContentType: string,
  candidates: Uint8Array[],
  digestOf: (h: HashName, i: number) => Promise<Uint8Array>,
  contentError: string | undefined,
  carried: X509[],
  anchors: X509[],
  now: Date,
): Promise<SignerReport> {
  const hash = hashFromOid(si.digestAlgorithm.oid);
  let sigAlg: SigAlg | undefined;
  let sigAlgError: string | undefined;
  try {
    sigAlg = resolveSigAlg(si.signatureAlgorithm, hash);
  } catch (e) {
    sigAlgError = isUnsealError(e) ? `unsupported: ${e.message}` : String(e);
  }
  const report: SignerReport = {
    signatureValid: false,
    certificateStatus: 'unknown-signer',
    digestAlgorithm: hash ?? si.digestAlgorithm.oid,
    signatureAlgorithm: sigAlg?.scheme ?? si.signatureAlgorithm.oid,
    weakDigest: isWeakHash(hash) || isWeakHash(sigAlg?.hash),
  };

  const cert = findSignerCert(si, carried) ?? findSignerCert(si, anchors);
  let signingTime: Date | undefined;
  if (si.attrs) {
    const st = si.attrs.get(OID.signingTimeAttr);
    if (st?.values.length === 1) {
      try {
        signingTime = parseTime(st.buf, st.values[0]!);
        report.signingTime = signingTime.toISOString();
      } catch {
        // an unreadable signingTime is treated as absent: validity is then judged at `now`
      }
    }
  }
  if (cert) {
    report.subject = nameToString(cert.subjectDer);
    const email = cert.sanEmails[0] ?? nameEmail(cert.subjectDer);
    if (email) report.email = email;
    const emails = [...new Set((cert.sanEmails.length > 0 ? cert.sanEmails : email ? [email] : []).map((e) => e.toLowerCase()))];
    if (emails.length > 0) report.emails = emails;
    report.issuer = nameToString(cert.issuerDer);
    report.serialHex = serialHex(cert.serial);
    report.certificateDer = cert.der;
  }

  report.error = contentError ?? sigAlgError ?? (hash ? undefined : `unsupported digest algorithm ${si.digestAlgorithm.oid}`);
  if (!cert) report.error ??= "the signer's certificate is not included in the message";
  if (!report.error && cert && sigAlg && hash) {
    const outcome = await checkSignature(crypto, si, eContentType, cert, sigAlg, hash, candidates, digestOf);
    if (outcome === true) report.signatureValid = true;
    else report.error = outcome;
  }

  if (cert) {
    // The signing time is only the signer's claim, authenticated by the signature; a claim later
    // than now cannot be true, so it never moves the check into the future.
    const at = report.signatureValid && signingTime && signingTime.getTime() < now.getTime() ? signingTime : now;
    const r = await checkChain(crypto, cert, carried, anchors, at);
    report.certificateStatus = r.status;
    if (r.detail) report.certificateDetail = r.detail;
  }
  if (report.error === undefined) delete report.error;
  return report;
}

/** true, or the reason it failed. */
async function checkSignature(
  crypto: SubtleCrypto,
  si: SignerInfo,
  eContentType: string,
  cert: X509,
  sigAlg: SigAlg,
  hash: HashName,
  candidates: Uint8Array[],
  digestOf: (h: HashName, i: number) => Promise<Uint8Array>,
): Promise<true | string> {
  try {
    if (si.signedAttrsRaw && si.attrs) {
      // RFC 5652 §5.3: both attributes are mandatory once any signed attribute is present.
      const ct = si.attrs.get(OID.contentTypeAttr);
      const md = si.attrs.get(OID.messageDigestAttr);
      if (!ct || ct.values.length !== 1 || !md || md.values.length !== 1) return 'signed attributes lack contentType or messageDigest';
      if (oid(ct.buf, ct.values[0]!) !== eContentType) return 'the signed contentType attribute differs from the content type';
      const expected = octets(md.buf, expectTag(md.values[0], 0, 4, 'messageDigest'));
      let matched = false;
      for (let i = 0; i < candidates.length && !matched; i++) matched = bytesEqual(await digestOf(hash, i), expected);
      if (!matched) return 'the message content was changed after signing (digest mismatch)';
      // The signature covers the DER of the attributes as a SET OF, not the [0] IMPLICIT tag they travel under.
      const toVerify = si.signedAttrsRaw.slice();
      toVerify[0] = 0x31;
      const ok = await verifySignature(crypto, cert.spki, sigAlg, toVerify, si.signature);
      return ok || 'the signature does not verify with the signer certificate';
    }
    for (const c of candidates) if (await verifySignature(crypto, cert.spki, sigAlg, c, si.signature)) return true;
    return 'the signature does not verify (content changed or wrong key)';
  } catch (e) {
    if (isUnsealError(e)) return e.kind === 'unsupported_algorithm' ? `unsupported: ${e.message}` : e.message;
    // WebCrypto rejects keys and signatures it cannot parse with DOMException; that is a bad signature, not a crash.
    return `the signature could not be checked: ${e instanceof Error ? e.message : String(e)}`;
  }
}

function findSignerCert(si: SignerInfo, certs: X509[]): X509 | undefined {
  const sid = si.sid;
  if ('ski' in sid) return certs.find((c) => c.ski && bytesEqual(c.ski, sid.ski));
  const serial = stripZeros(sid.serial);
  return certs.find((c) => bytesEqual(stripZeros(c.serial), serial) && namesEqual(c.issuerDer, sid.issuer));
}

function stripZeros(b: Uint8Array): Uint8Array {
  let s = b;
  while (s.length > 1 && s[0] === 0) s = s.subarray(1);
  return s;
}

function parseCerts(ders: readonly Uint8Array[]): X509[] {
  const out: X509[] = [];
  for (const d of ders) {
    try {
      out.push(parseX509(d));
    } catch {
      // An unreadable extra certificate must not make a readable signature unverifiable.
    }
  }
  return out;
}

/**
 * multipart/signed: the first part's raw bytes must be hashed as canonical MIME (CRLF line
 * endings). Converts bare LF to CRLF; returns the input itself when it is already canonical, so
 * callers can tell by identity whether a second attempt is worth making.
 */
export function canonicalizeMime(raw: Uint8Array): Uint8Array {
  let bare = 0;
  for (let i = 0; i < raw.length; i++) if (raw[i] === 0x0a && (i === 0 || raw[i - 1] !== 0x0d)) bare++;
  if (bare === 0) return raw;
  const out = new Uint8Array(raw.length + bare);
  let o = 0;
  for (let i = 0; i < raw.length; i++) {
    const b = raw[i]!;
    if (b === 0x0a && (i === 0 || raw[i - 1] !== 0x0d)) out[o++] = 0x0d;
    out[o++] = b;
  }
  return out;
}

// ---- Structure ----

/**
 * Walks ContentInfo → SignedData with the BER reader: eContent is taken with octets(), which
 * concatenates NSS's chunked constructed OCTET STRING without building an object tree, so a large
 * opaque message costs one copy; the small parts (SignerInfos, certificates) are read in place.
 */
function parseSignedData(der: Uint8Array): ParsedSignedData {
  const top = readTlv(der, 0);
  const [ctT, wrapT] = children(der, expectTag(top, 0, 16, 'ContentInfo SEQUENCE'));
  const ct = oid(der, expectTag(ctT, 0, 6, 'ContentInfo contentType'));
  if (ct !== OID.signedData) malformed(`not a SignedData (content type ${ct})`);
  const [sdT] = children(der, expectTag(wrapT, 2, 0, 'ContentInfo [0] content'));
  const f = children(der, expectTag(sdT, 0, 16, 'SignedData SEQUENCE'));
  smallInt(der, expectTag(f[0], 0, 2, 'SignedData version'));
  expectTag(f[1], 0, 17, 'digestAlgorithms SET');
  const eci = children(der, expectTag(f[2], 0, 16, 'encapContentInfo'));
  const eContentType = oid(der, expectTag(eci[0], 0, 6, 'eContentType'));
  let eContent: Uint8Array | undefined;
  const wrapped = eci[1];
  if (wrapped) {
    const inner = children(der, expectTag(wrapped, 2, 0, 'eContent [0]'))[0];
    if (inner) {
      if (inner.cls === 0 && inner.tag === 4) eContent = octets(der, inner);
      // PKCS #7 v1.5 allowed any type here; its digest covers the value's content octets.
      else if (!inner.indefinite) eContent = der.subarray(inner.contentStart, inner.contentEnd);
      else malformed('eContent is neither an OCTET STRING nor definite-length');
    }
  }
  const certificates: Uint8Array[] = [];
  let signerSet: Tlv | undefined;
  for (const t of f.slice(3)) {
    if (t.cls === 2 && t.tag === 0) {
      for (const c of children(der, t)) if (c.cls === 0 && c.tag === 16) certificates.push(der.slice(c.start, c.end));
    } else if (t.cls === 0 && t.tag === 17) signerSet = t;
  }
  if (!signerSet) return malformed('SignedData has no signerInfos');
  return { eContentType, ...(eContent ? { eContent } : {}), certificates, signerInfos: children(der, signerSet).map((s) => parseSignerInfo(der, s)) };
}

function parseSignerInfo(der: Uint8Array, t: Tlv): SignerInfo {
  // Copied out so SignerInfo fields do not pin a 100 MB message buffer.
  const buf = der.slice(t.start, t.end);
  const f = children(buf, expectTag(readTlv(buf, 0), 0, 16, 'SignerInfo'));
  let i = 1; // version: 1 for issuerAndSerialNumber, 3 for SKI; the sid's own tag says which
  const sidT = f[i++];
  let sid: SignerInfo['sid'];
  if (sidT?.cls === 0 && sidT.tag === 16) {
    const [issuer, serial] = children(buf, sidT);
    sid = {
      issuer: buf.subarray(expectTag(issuer, 0, 16, 'issuer Name').start, issuer!.end),
      serial: octets(buf, expectTag(serial, 0, 2, 'serialNumber')),
    };
  } else if (sidT?.cls === 2 && sidT.tag === 0) sid = { ski: octets(buf, sidT) };
  else return malformed('SignerInfo has an unreadable signer identifier');
  const digestAlgorithm = parseAlgId(buf, expectTag(f[i++], 0, 16, 'digestAlgorithm'));
  let signedAttrsRaw: Uint8Array | undefined;
  let attrs: SignerInfo['attrs'];
  if (f[i]?.cls === 2 && f[i]!.tag === 0) {
    const a = f[i++]!;
    signedAttrsRaw = buf.subarray(a.start, a.end);
    attrs = new Map();
    for (const attr of children(buf, a)) {
      const [typeT, valuesT] = children(buf, expectTag(attr, 0, 16, 'Attribute'));
      const type = oid(buf, expectTag(typeT, 0, 6, 'attribute type'));
      const values = children(buf, expectTag(valuesT, 0, 17, 'attribute values'));
      // A repeated attribute type is forbidden (RFC 5652 §5.3); an empty entry makes the check fail.
      attrs.set(type, attrs.has(type) ? { buf, values: [] } : { buf, values });
    }
  }
  const signatureAlgorithm = parseAlgId(buf, expectTag(f[i++], 0, 16, 'signatureAlgorithm'));
  const signature = octets(buf, expectTag(f[i++], 0, 4, 'signature'));
  return { sid, digestAlgorithm, ...(signedAttrsRaw ? { signedAttrsRaw, attrs } : {}), signatureAlgorithm, signature };
}
