/**
 * PKCS#12 export (RFC 7292) in the shape OpenSSL 3 writes by default, with modern algorithms only:
 * the private key in a pkcs8ShroudedKeyBag and the certificates in an EncryptedData, both under
 * PBES2 (PBKDF2-HMAC-SHA-256 + AES-256-CBC, RFC 8018), and a MacData with HMAC-SHA-256 over the
 * AuthenticatedSafe (key from the RFC 7292 Appendix B KDF with SHA-256, as OpenSSL does).
 *
 * Pure: the caller passes SubtleCrypto (PBKDF2, AES-CBC) and, for tests, the random bytes.
 */
import { hmacSync } from '../crypto/hash.js';
import { passwordToBmp, pbkdf2, pkcs12Kdf } from '../crypto/kdf.js';
import { utf8 } from '../bytes.js';
import { explicit, octetString, oid, seq, tlv, uint, derNull } from './der-writer.js';

const OID = {
  data: '1.2.840.113549.1.7.1',
  encryptedData: '1.2.840.113549.1.7.6',
  shroudedKeyBag: '1.2.840.113549.1.12.10.1.2',
  certBag: '1.2.840.113549.1.12.10.1.3',
  x509Certificate: '1.2.840.113549.1.9.22.1',
  friendlyName: '1.2.840.113549.1.9.20',
  localKeyId: '1.2.840.113549.1.9.21',
  pbes2: '1.2.840.113549.1.5.13',
  pbkdf2: '1.2.840.113549.1.5.12',
  hmacWithSha256: '1.2.840.113549.2.9',
  aes256Cbc: '2.16.840.1.101.3.4.1.42',
  sha256: '2.16.840.1.101.3.4.2.1',
} as const;

export interface Pkcs12ExportInput {
  /** PrivateKeyInfo DER. */
  pkcs8: Uint8Array;
  /** The key's certificate (leaf) first, then its chain; may be empty. */
  certificates: readonly Uint8Array[];
  friendlyName?: string;
}

export interface Pkcs12ExportOptions {
  /** PBKDF2 iterations for both encryptions (default 600 000). */
  iterations?: number;
  /** MAC iterations of the PKCS#12 KDF (default 2048, OpenSSL's default; it runs in JavaScript). */
  macIterations?: number;
  /** Random source (tests); default crypto.getRandomValues. */
  random?: (n: number) => Uint8Array;
}

const set = (...items: Uint8Array[]): Uint8Array => {
  // DER SET OF: sort the encodings.
  const sorted = [...items].sort((a, b) => {
    for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
    return a.length - b.length;
  });
  return tlv(0x31, concat(sorted));
};

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

function bmpString(s: string): Uint8Array {
  const b = passwordToBmp(s);
  return tlv(0x1e, b.subarray(0, b.length - 2));
}

function attributes(friendlyName: string | undefined, localKeyId: Uint8Array): Uint8Array {
  const attrs = [seq(oid(OID.localKeyId), set(octetString(localKeyId)))];
  if (friendlyName) attrs.push(seq(oid(OID.friendlyName), set(bmpString(friendlyName))));
  return set(...attrs);
}

async function pbes2Encrypt(crypto: SubtleCrypto, password: string, plain: Uint8Array, iterations: number, random: (n: number) => Uint8Array): Promise<{ algId: Uint8Array; ciphertext: Uint8Array }> {
  const salt = random(16);
  const iv = random(16);
  const keyBytes = await pbkdf2(crypto, 'SHA-256', utf8.encode(password), salt, iterations, 32);
  const key = await crypto.importKey('raw', keyBytes as Uint8Array<ArrayBuffer>, 'AES-CBC', false, ['encrypt']);
  keyBytes.fill(0);
  const ciphertext = new Uint8Array(await crypto.encrypt({ name: 'AES-CBC', iv: iv as Uint8Array<ArrayBuffer> }, key, plain as Uint8Array<ArrayBuffer>));
  const algId = seq(
    oid(OID.pbes2),
    seq(
      seq(oid(OID.pbkdf2), seq(octetString(salt), uint(iterations), uint(32), seq(oid(OID.hmacWithSha256), derNull()))),
      seq(oid(OID.aes256Cbc), octetString(iv)),
    ),
  );
  return { algId, ciphertext };
}

const contentInfoData = (content: Uint8Array): Uint8Array => seq(oid(OID.data), explicit(0, octetString(content)));

/** A PFX holding one private key and its certificates, protected by `password`. */
export async function writePkcs12(crypto: SubtleCrypto, input: Pkcs12ExportInput, password: string, opts: Pkcs12ExportOptions = {}): Promise<Uint8Array> {
  const iterations = opts.iterations ?? 600_000;
  const macIterations = opts.macIterations ?? 2048;
  const random = opts.random ?? ((n: number) => globalThis.crypto.getRandomValues(new Uint8Array(n)));
  // localKeyId pairs the key with its certificate (OpenSSL uses the certificate's SHA-1; any unique value works).
  const localKeyId = random(20);

  // 1. The key: pkcs8ShroudedKeyBag in a plain SafeContents.
  const k = await pbes2Encrypt(crypto, password, input.pkcs8, iterations, random);
  const keyBag = seq(oid(OID.shroudedKeyBag), explicit(0, seq(k.algId, octetString(k.ciphertext))), attributes(input.friendlyName, localKeyId));
  const safes: Uint8Array[] = [contentInfoData(seq(keyBag))];

  // 2. The certificates: certBags in an EncryptedData (the leaf carries the same localKeyId).
  if (input.certificates.length) {
    const bags = input.certificates.map((der, i) =>
      seq(oid(OID.certBag), explicit(0, seq(oid(OID.x509Certificate), explicit(0, octetString(der)))), ...(i === 0 ? [attributes(input.friendlyName, localKeyId)] : [])),
    );
    const c = await pbes2Encrypt(crypto, password, seq(...bags), iterations, random);
    // EncryptedData ::= SEQUENCE { version 0, EncryptedContentInfo { data, alg, [0] IMPLICIT OCTET STRING } }
    const eci = seq(oid(OID.data), c.algId, tlv(0x80, c.ciphertext));
    safes.unshift(seq(oid(OID.encryptedData), explicit(0, seq(uint(0), eci))));
  }
  const authSafe = seq(...safes);

  // 3. MacData: HMAC-SHA-256 keyed by the PKCS#12 KDF (id 3) over the AuthenticatedSafe octets.
  const macSalt = random(16);
  const macKey = pkcs12Kdf('SHA-256', passwordToBmp(password), macSalt, 3, macIterations, 32);
  const mac = hmacSync('SHA-256', macKey, authSafe);
  const macData = seq(seq(seq(oid(OID.sha256), derNull()), octetString(mac)), octetString(macSalt), uint(macIterations));

  return seq(uint(3), contentInfoData(authSafe), macData);
}
