import { bytesEqual } from '../bytes.js';
import { nameToString, namesEqual, type X509 } from './signed-x509.js';
import { resolveSigAlg, verifySignature } from './signed-verify.js';

export type CertStatus = 'valid' | 'expired' | 'not-yet-valid' | 'untrusted' | 'unknown-signer';

export interface ChainResult {
  status: Exclude<CertStatus, 'unknown-signer'>;
  /** Why the status is not 'valid', for people. */
  detail?: string;
  /** Signer first, trust anchor last when trusted. */
  chain: X509[];
}

/** Deeper chains than this do not occur in mail PKI; the cap bounds work on hostile cert bags. */
const MAX_CHAIN = 8;

const KU_DIGITAL_SIGNATURE = 1 << 0;
const KU_NON_REPUDIATION = 1 << 1;
const KU_KEY_CERT_SIGN = 1 << 5;
const EKU_EMAIL = '1.3.6.1.5.5.7.3.4';
const EKU_ANY = '2.5.29.37.0';

const sameKey = (a: X509, b: X509): boolean => bytesEqual(a.spki, b.spki) && namesEqual(a.subjectDer, b.subjectDer);

/**
 * Path building by issuer name (narrowed by key identifiers when both are present), each link
 * proven by checking the issuer's signature, ending at one of `anchors`. Trust first, then time:
 * a chain that reaches no anchor is 'untrusted' whatever its dates; a trusted chain is 'expired'
 * or 'not-yet-valid' when any certificate on it is outside its validity at `at`.
 * An anchor may be the signer's own certificate (a directly trusted correspondent).
 */
export async function checkChain(subtle: SubtleCrypto, signer: X509, pool: readonly X509[], anchors: readonly X509[], at: Date): Promise<ChainResult> {
  const chain: X509[] = [signer];
  const usage = signerUsageProblem(signer);
  if (usage) return { status: 'untrusted', detail: usage, chain };
  const isAnchor = (c: X509): boolean => anchors.some((a) => sameKey(a, c));
  const candidates = [...anchors, ...pool];
  let cur = signer;
  for (let depth = 0; ; depth++) {
    if (cur.unknownCritical.length && !isAnchor(cur)) {
      return { status: 'untrusted', detail: `"${nameToString(cur.subjectDer)}" has unsupported critical extensions (${cur.unknownCritical.join(', ')})`, chain };
    }
    if (isAnchor(cur)) break;
    if (depth >= MAX_CHAIN) return { status: 'untrusted', detail: 'certificate chain too long', chain };
    const issuers = candidates.filter(
      (c) => !chain.includes(c) && namesEqual(c.subjectDer, cur.issuerDer) && (!cur.aki || !c.ski || bytesEqual(cur.aki, c.ski)),
    );
    let next: X509 | undefined;
    for (const c of issuers) {
      if (await signedBy(subtle, cur, c)) {
        next = c;
        break;
      }
    }
    if (!next) {
      const who = nameToString(cur.issuerDer);
      const detail = issuers.length
        ? `the signature of "${who}" on "${nameToString(cur.subjectDer)}" does not verify`
        : anchors.length
          ? `issuer "${who}" is not a trusted authority`
          : 'no trust anchors were configured';
      return { status: 'untrusted', detail, chain };
    }
    const caProblem = issuerProblem(next, isAnchor(next));
    if (caProblem) return { status: 'untrusted', detail: caProblem, chain };
    chain.push(next);
    cur = next;
  }
  for (const c of chain) {
    const who = nameToString(c.subjectDer);
    if (at.getTime() > c.notAfter.getTime()) {
      return { status: 'expired', detail: `"${who}" expired ${c.notAfter.toISOString()} (checked at ${at.toISOString()})`, chain };
    }
    if (at.getTime() < c.notBefore.getTime()) {
      return { status: 'not-yet-valid', detail: `"${who}" is valid only from ${c.notBefore.toISOString()} (checked at ${at.toISOString()})`, chain };
    }
  }
  return { status: 'valid', chain };
}

async function signedBy(subtle: SubtleCrypto, cert: X509, issuer: X509): Promise<boolean> {
  try {
    return await verifySignature(subtle, issuer.spki, resolveSigAlg(cert.signatureAlgorithm, undefined), cert.tbs, cert.signature);
  } catch {
    return false;
  }
}

/** RFC 8550 §4.4: a signing certificate's keyUsage / extKeyUsage, when present, must allow S/MIME signing. */
function signerUsageProblem(c: X509): string | undefined {
  if (c.keyUsage !== undefined && (c.keyUsage & (KU_DIGITAL_SIGNATURE | KU_NON_REPUDIATION)) === 0) {
    return 'the signer certificate is not allowed to sign (keyUsage)';
  }
  if (c.extKeyUsage && !c.extKeyUsage.includes(EKU_EMAIL) && !c.extKeyUsage.includes(EKU_ANY)) {
    return 'the signer certificate is not issued for e-mail protection (extKeyUsage)';
  }
  return undefined;
}

/**
 * RFC 5280 §4.2.1.9: only CA certificates may issue. Configured anchors without extensions
 * (v1 roots) are accepted as the user chose them; certificates from the message must say cA.
 */
function issuerProblem(c: X509, anchor: boolean): string | undefined {
  const who = nameToString(c.subjectDer);
  if (c.basicConstraintsCa === false || (!anchor && c.basicConstraintsCa !== true)) return `"${who}" is not a certificate authority`;
  if (c.keyUsage !== undefined && (c.keyUsage & KU_KEY_CERT_SIGN) === 0) return `"${who}" may not sign certificates (keyUsage)`;
  return undefined;
}
