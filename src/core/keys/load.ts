/**
 * One entry point for whatever file a user points at: PKCS#12 (DER or PEM-armoured as notmuch
 * and gpgsm write it), PEM with any mix of keys and certificates, DER PKCS#8 / PKCS#1 / SEC1 keys,
 * DER certificates and PKCS#7 certificate bundles (.p7b). Certificates from separate files are
 * paired to keys by public key like the file's own.
 */
import { latin1 } from '../bytes.js';
import { children, oid as readOid, readTlv } from '../asn1/ber.js';
import { isUnsealError } from '../errors.js';
import { assembleBundle, emptyContents, mergeContents, type FileContents } from './bundle.js';
import { parseCertificate } from './certificate.js';
import { parsingAsync, unreadable, wrongPassword } from './key-errors.js';
import { looksLikePem, parsePem, type PemBlock } from './pem.js';
import { decryptTraditionalPem, isTraditionallyEncrypted } from './pem-encryption.js';
import { looksLikePkcs12, readPkcs12 } from './pkcs12.js';
import { keyShape, parsePrivateKey } from './private-key.js';
import type { CertInfo, KeyBundle } from './types.js';

const CERT_LABELS = new Set(['CERTIFICATE', 'X509 CERTIFICATE', 'TRUSTED CERTIFICATE']);
const PKCS7_LABELS = new Set(['PKCS7', 'CMS', 'PKCS #7 SIGNED DATA']);
const KEY_LABELS = new Set(['PRIVATE KEY', 'ENCRYPTED PRIVATE KEY', 'RSA PRIVATE KEY', 'EC PRIVATE KEY', 'ANY PRIVATE KEY']);
const PKCS12_LABELS = new Set(['PKCS12', 'PKCS #12', 'PFX']);

const SIGNED_DATA = '1.2.840.113549.1.7.2';

export async function loadKeyFile(crypto: SubtleCrypto, bytes: Uint8Array, opts: { password?: string; extraCerts?: CertInfo[] }): Promise<KeyBundle> {
  const found = await parsingAsync('key file', async () => {
    const text = asPemText(bytes);
    if (text !== undefined) return fromPem(crypto, parsePem(text), opts.password);
    return fromDer(crypto, bytes, opts.password);
  });
  return assembleBundle(found, opts.extraCerts ?? []);
}

export async function loadCertificates(bytes: Uint8Array): Promise<CertInfo[]> {
  return parsingAsync('certificate file', async () => {
    const text = asPemText(bytes);
    const certs: CertInfo[] = [];
    if (text !== undefined) {
      for (const b of parsePem(text)) {
        if (CERT_LABELS.has(b.label)) certs.push(certFromBlock(b));
        else if (PKCS7_LABELS.has(b.label)) certs.push(...certsFromPkcs7(b.der));
      }
    } else if (isPkcs7(bytes)) certs.push(...certsFromPkcs7(bytes));
    else certs.push(parseCertificate(bytes));
    if (certs.length === 0) unreadable('certificate file', 'no certificate found');
    return certs;
  });
}

/** PEM is text with a BEGIN line; anything starting with a SEQUENCE tag is DER. */
function asPemText(bytes: Uint8Array): string | undefined {
  if (bytes[0] === 0x30) return undefined;
  const text = latin1(bytes);
  return looksLikePem(text) ? text : undefined;
}

async function fromPem(crypto: SubtleCrypto, blocks: PemBlock[], password: string | undefined): Promise<FileContents> {
  const found = emptyContents();
  let recognised = 0;
  for (const b of blocks) {
    if (PKCS12_LABELS.has(b.label)) {
      mergeContents(found, await readPkcs12(crypto, b.der, password));
    } else if (CERT_LABELS.has(b.label)) {
      found.certs.push({ cert: certFromBlock(b) });
    } else if (PKCS7_LABELS.has(b.label)) {
      found.certs.push(...certsFromPkcs7(b.der).map((cert) => ({ cert })));
    } else if (KEY_LABELS.has(b.label)) {
      let der = b.der;
      if (isTraditionallyEncrypted(b.headers)) {
        if (password === undefined) wrongPassword('the private key (it is encrypted and no password was given)');
        der = await decryptTraditionalPem(crypto, der, b.headers, password);
        if (keyShape(der) === undefined) wrongPassword('the private key');
      }
      await addKey(found, () => parsePrivateKey(crypto, der, b.label, password));
    } else continue; // EC PARAMETERS, PUBLIC KEY, CERTIFICATE REQUEST, X509 CRL: nothing to pair
    recognised++;
  }
  if (recognised === 0) unreadable('key file', blocks.length ? `no key or certificate among PEM blocks ${blocks.map((b) => b.label).join(', ')}` : 'no PEM block');
  return found;
}

async function fromDer(crypto: SubtleCrypto, der: Uint8Array, password: string | undefined): Promise<FileContents> {
  if (looksLikePkcs12(der)) return readPkcs12(crypto, der, password);
  const found = emptyContents();
  if (keyShape(der) !== undefined) {
    await addKey(found, () => parsePrivateKey(crypto, der, undefined, password));
  } else if (isPkcs7(der)) {
    found.certs.push(...certsFromPkcs7(der).map((cert) => ({ cert })));
  } else {
    found.certs.push({ cert: parseCertificate(der) });
  }
  return found;
}

async function addKey(found: FileContents, parse: () => Promise<import('./types.js').PrivateKeyMaterial>): Promise<void> {
  try {
    found.keys.push({ key: await parse() });
  } catch (e) {
    if (isUnsealError(e) && e.kind === 'unsupported_algorithm') found.unsupported.push(e);
    else throw e;
  }
}

/** OpenSSL's TRUSTED CERTIFICATE appends trust settings after the certificate. */
function certFromBlock(b: PemBlock): CertInfo {
  if (b.label !== 'TRUSTED CERTIFICATE') return parseCertificate(b.der);
  const t = readTlv(b.der, 0);
  return parseCertificate(b.der.subarray(0, t.end));
}

function isPkcs7(der: Uint8Array): boolean {
  try {
    const first = children(der, readTlv(der, 0))[0];
    return first !== undefined && first.tag === 6 && readOid(der, first) === SIGNED_DATA;
  } catch {
    return false;
  }
}

/** ContentInfo { signedData, [0] SignedData { …, [0] IMPLICIT certificates, … } } → the X.509 ones. */
function certsFromPkcs7(der: Uint8Array): CertInfo[] {
  const ci = readTlv(der, 0);
  const [oidT, contentT] = children(der, ci);
  if (!oidT || readOid(der, oidT) !== SIGNED_DATA || !contentT) unreadable('PKCS#7 file', 'not SignedData');
  const sd = children(der, contentT)[0];
  if (!sd) unreadable('PKCS#7 file', 'empty SignedData');
  const certSet = children(der, sd).find((t) => t.cls === 2 && t.tag === 0);
  if (!certSet) return [];
  return children(der, certSet)
    .filter((t) => t.cls === 0 && t.tag === 16)
    .map((t) => parseCertificate(der.subarray(t.start, t.end)));
}
