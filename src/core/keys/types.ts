/** What key import hands to the rest of Unseal: parsed private keys, certificates, and their pairing. */
import type { RsaPrivateKey } from '../crypto/rsa.js';

export type PrivateKeyMaterial =
  | { type: 'rsa'; rsa: RsaPrivateKey; pkcs8: Uint8Array; bits: number }
  | { type: 'ec'; curve: 'P-256' | 'P-384' | 'P-521'; pkcs8: Uint8Array; publicKey: Uint8Array /* uncompressed point */ }
  | { type: 'x25519' | 'x448'; pkcs8: Uint8Array; publicKey?: Uint8Array };

export type EcCurve = Extract<PrivateKeyMaterial, { type: 'ec' }>['curve'];

export interface CertInfo {
  der: Uint8Array;
  /** RFC 4514 order (most specific first): "CN=Alice, O=Example, C=DE". */
  subject: string;
  issuer: string;
  /** Two's complement content octets as in the certificate, lowercase hex. */
  serialHex: string;
  /** The issuer Name DER, for IssuerAndSerialNumber matching; compare with `namesEqual`, not bytes. */
  issuerDer: Uint8Array;
  /** INTEGER content octets as encoded. */
  serialBytes: Uint8Array;
  subjectKeyId?: Uint8Array;
  /** From SAN rfc822Name and DN emailAddress, lowercased. */
  emails: string[];
  notBefore: Date;
  notAfter: Date;
  keyUsage?: string[];
  extKeyUsage?: string[];
  publicKeyAlgorithm: 'rsa' | 'ec' | 'x25519' | 'x448' | 'other';
  publicKeyBits?: number;
  curve?: string;
  /** SubjectPublicKeyInfo DER, for key↔cert pairing. */
  spkiDer: Uint8Array;
  sha256Fingerprint: string;
  isCa: boolean;
}

export interface KeyRecord {
  /**
   * sha256 hex of the canonical SPKI DER of this key's public key (rsaEncryption / ecPublicKey with
   * named curve / X25519), so it is the same from .p12, PEM or DER and equals the SHA-256 of an
   * ordinary certificate's SPKI. Only an X25519/X448 key whose public half the runtime cannot
   * derive falls back to the SHA-256 of its PKCS#8.
   */
  id: string;
  privateKey: PrivateKeyMaterial;
  /** The leaf whose public key matches this private key. */
  certificate?: CertInfo;
  /** Other certificates (same file or extra certs) that chain up from the leaf, issuer first. */
  chain: CertInfo[];
  friendlyName?: string;
  /** From keyUsage/EKU of the certificate; without a certificate both are true. */
  usage: { encryption: boolean; signing: boolean };
}

export interface KeyBundle {
  keys: KeyRecord[];
  /** Every certificate found, including ones without a key. */
  certificates: CertInfo[];
}
