/** Object identifiers used across the core, named as in the RFCs. */
export const OID = {
  data: '1.2.840.113549.1.7.1',
  signedData: '1.2.840.113549.1.7.2',
  envelopedData: '1.2.840.113549.1.7.3',
  digestedData: '1.2.840.113549.1.7.5',
  encryptedData: '1.2.840.113549.1.7.6',
  authEnvelopedData: '1.2.840.113549.1.9.16.1.23',
  compressedData: '1.2.840.113549.1.9.16.1.9',

  rsaEncryption: '1.2.840.113549.1.1.1',
  rsaesOaep: '1.2.840.113549.1.1.7',
  mgf1: '1.2.840.113549.1.1.8',
  pSpecified: '1.2.840.113549.1.1.9',
  sha1: '1.3.14.3.2.26',
  sha224: '2.16.840.1.101.3.4.2.4',
  sha256: '2.16.840.1.101.3.4.2.1',
  sha384: '2.16.840.1.101.3.4.2.2',
  sha512: '2.16.840.1.101.3.4.2.3',

  aes128Cbc: '2.16.840.1.101.3.4.1.2',
  aes192Cbc: '2.16.840.1.101.3.4.1.22',
  aes256Cbc: '2.16.840.1.101.3.4.1.42',
  aes128Gcm: '2.16.840.1.101.3.4.1.6',
  aes192Gcm: '2.16.840.1.101.3.4.1.26',
  aes256Gcm: '2.16.840.1.101.3.4.1.46',
  aes128Wrap: '2.16.840.1.101.3.4.1.5',
  aes192Wrap: '2.16.840.1.101.3.4.1.25',
  aes256Wrap: '2.16.840.1.101.3.4.1.45',
  desCbc: '1.3.14.3.2.7',
  desEde3Cbc: '1.2.840.113549.3.7',
  rc2Cbc: '1.2.840.113549.3.2',
  chacha20Poly1305: '1.2.840.113549.1.9.16.3.18',
  cmsRc2Wrap: '1.2.840.113549.1.9.16.3.7',
  cms3DesWrap: '1.2.840.113549.1.9.16.3.6',
  pwriKek: '1.2.840.113549.1.9.16.3.9',
  pbkdf2: '1.2.840.113549.1.5.12',
  hmacSha1: '1.2.840.113549.2.7',
  hmacSha224: '1.2.840.113549.2.8',
  hmacSha256: '1.2.840.113549.2.9',
  hmacSha384: '1.2.840.113549.2.10',
  hmacSha512: '1.2.840.113549.2.11',

  ecPublicKey: '1.2.840.10045.2.1',
  p256: '1.2.840.10045.3.1.7',
  p384: '1.3.132.0.34',
  p521: '1.3.132.0.35',
  x25519: '1.3.101.110',
  x448: '1.3.101.111',
  stdDhSha1Kdf: '1.3.133.16.840.63.0.2',
  stdDhSha224Kdf: '1.3.132.1.11.0',
  stdDhSha256Kdf: '1.3.132.1.11.1',
  stdDhSha384Kdf: '1.3.132.1.11.2',
  stdDhSha512Kdf: '1.3.132.1.11.3',
  cofactorDhSha1Kdf: '1.3.133.16.840.63.0.3',
  cofactorDhSha224Kdf: '1.3.132.1.14.0',
  cofactorDhSha256Kdf: '1.3.132.1.14.1',
  cofactorDhSha384Kdf: '1.3.132.1.14.2',
  cofactorDhSha512Kdf: '1.3.132.1.14.3',
  hkdfSha256: '1.2.840.113549.1.9.16.3.28',
  hkdfSha384: '1.2.840.113549.1.9.16.3.29',
  hkdfSha512: '1.2.840.113549.1.9.16.3.30',
  /** RFC 8418 X25519/X448 kari schemes */
  dhSinglePassStdDhHkdfSha256: '1.2.840.113549.1.9.16.3.19',
  dhSinglePassStdDhHkdfSha384: '1.2.840.113549.1.9.16.3.20',
  dhSinglePassStdDhHkdfSha512: '1.2.840.113549.1.9.16.3.21',

  subjectKeyIdentifier: '2.5.29.14',
  contentTypeAttr: '1.2.840.113549.1.9.3',
  messageDigestAttr: '1.2.840.113549.1.9.4',
  signingTimeAttr: '1.2.840.113549.1.9.5',
} as const;

const NAMES: Record<string, string> = Object.fromEntries(
  Object.entries(OID).map(([k, v]) => [v, k]),
);

/** Human name for reports ("aes256Cbc"), or the dotted OID when unknown. */
export function oidName(oid: string): string {
  return NAMES[oid] ?? oid;
}
