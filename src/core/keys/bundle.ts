/**
 * Turns what a file held (keys and certificates, with PKCS#12 friendlyName/localKeyId) into
 * KeyRecords. A certificate belongs to a key only if its public key is the key's public key:
 * localKeyId and friendlyName merely choose among several such certificates (a renewed
 * certificate for the same key), because a wrong pairing would make recipient matching pick the
 * wrong key and decrypt to garbage.
 */
import { bytesEqual, hexEncode } from '../bytes.js';
import { UnsealError } from '../errors.js';
import { hashSync } from '../crypto/hash.js';
import { isSelfIssued, issuedBy } from './certificate.js';
import { canonicalSpki, privateKeySpki } from './public-key.js';
import type { CertInfo, KeyBundle, KeyRecord, PrivateKeyMaterial } from './types.js';

export interface FoundKey {
  key: PrivateKeyMaterial;
  friendlyName?: string;
  localKeyId?: Uint8Array;
}

export interface FoundCert {
  cert: CertInfo;
  friendlyName?: string;
  localKeyId?: Uint8Array;
  /** From a separate --cert file rather than the key file itself. */
  extra?: boolean;
}

/** What one file yielded; keys of algorithms Unseal cannot use are reported, not fatal. */
export interface FileContents {
  keys: FoundKey[];
  certs: FoundCert[];
  unsupported: UnsealError[];
}

export const emptyContents = (): FileContents => ({ keys: [], certs: [], unsupported: [] });

export function mergeContents(into: FileContents, from: FileContents): void {
  into.keys.push(...from.keys);
  into.certs.push(...from.certs);
  into.unsupported.push(...from.unsupported);
}

const MAX_CHAIN = 10;

export function assembleBundle(found: FileContents, extraCerts: readonly CertInfo[] = []): KeyBundle {
  if (found.keys.length === 0 && found.unsupported.length > 0) throw found.unsupported[0]!;

  const certs: FoundCert[] = [];
  for (const c of [...found.certs, ...extraCerts.map((cert): FoundCert => ({ cert, extra: true }))]) {
    const same = certs.find((d) => d.cert.sha256Fingerprint === c.cert.sha256Fingerprint);
    if (same) {
      same.friendlyName ??= c.friendlyName;
      same.localKeyId ??= c.localKeyId;
    } else certs.push({ ...c });
  }
  const certSpki = certs.map((c) => canonicalSpki(c.cert.spkiDer));

  const records: KeyRecord[] = [];
  for (const k of found.keys) {
    const spki = privateKeySpki(k.key);
    const id = hexEncode(hashSync('SHA-256', spki ?? k.key.pkcs8));
    const existing = records.find((r) => r.id === id);
    if (existing) {
      existing.friendlyName ??= k.friendlyName;
      continue;
    }
    const matching = spki ? certs.filter((_, i) => certSpki[i] && bytesEqual(certSpki[i]!, spki)) : [];
    const leaf = pickLeaf(matching, k);
    const record: KeyRecord = {
      id,
      privateKey: k.key,
      chain: leaf ? chainOf(leaf.cert, certs.map((c) => c.cert)) : [],
      usage: usageOf(leaf?.cert),
    };
    if (leaf) record.certificate = leaf.cert;
    const friendlyName = k.friendlyName ?? leaf?.friendlyName;
    if (friendlyName !== undefined) record.friendlyName = friendlyName;
    records.push(record);
  }
  return { keys: records, certificates: certs.map((c) => c.cert) };
}

function pickLeaf(candidates: FoundCert[], k: FoundKey): FoundCert | undefined {
  const now = Date.now();
  const score = (c: FoundCert): number[] => [
    k.localKeyId && c.localKeyId && bytesEqual(k.localKeyId, c.localKeyId) ? 1 : 0,
    k.friendlyName !== undefined && c.friendlyName === k.friendlyName ? 1 : 0,
    c.extra ? 0 : 1,
    c.cert.isCa ? 0 : 1,
    c.cert.notBefore.getTime() <= now && now <= c.cert.notAfter.getTime() ? 1 : 0,
    c.cert.notBefore.getTime(),
  ];
  let best: FoundCert | undefined;
  let bestScore: number[] = [];
  for (const c of candidates) {
    const s = score(c);
    if (!best || compare(s, bestScore) > 0) {
      best = c;
      bestScore = s;
    }
  }
  return best;
}

function compare(a: number[], b: number[]): number {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return 0;
}

/** Issuer first, up to a self-issued certificate or the end of what the file holds. */
export function chainOf(leaf: CertInfo, pool: readonly CertInfo[]): CertInfo[] {
  const chain: CertInfo[] = [];
  let cur = leaf;
  while (chain.length < MAX_CHAIN && !isSelfIssued(cur)) {
    const next = pool.find((c) => c !== leaf && !chain.includes(c) && c.sha256Fingerprint !== cur.sha256Fingerprint && issuedBy(cur, c));
    if (!next) break;
    chain.push(next);
    cur = next;
  }
  return chain;
}

/**
 * RFC 8550 §4.4: keyUsage, when present, must allow the operation; an EKU, when present, must
 * include emailProtection (or anyExtendedKeyUsage). Without a certificate nothing restricts.
 */
export function usageOf(cert: CertInfo | undefined): KeyRecord['usage'] {
  if (!cert) return { encryption: true, signing: true };
  const ku = cert.keyUsage;
  const eku = cert.extKeyUsage;
  const ekuOk = !eku || eku.includes('emailProtection') || eku.includes('anyExtendedKeyUsage');
  const enc = !ku || ku.includes('keyEncipherment') || ku.includes('keyAgreement') || ku.includes('dataEncipherment');
  const sig = !ku || ku.includes('digitalSignature') || ku.includes('nonRepudiation');
  return { encryption: ekuOk && enc, signing: ekuOk && sig };
}
