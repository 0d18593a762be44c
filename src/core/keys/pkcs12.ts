/**
 * PKCS#12 / PFX import (RFC 7292) in password integrity and password privacy mode: the shapes
 * OpenSSL 1.x/3.x (default and -legacy), NSS pk12util, Java keytool, Windows, gpgsm and MimeKit
 * write. The MAC (legacy KDF or PBMAC1, RFC 9579) is verified when present and settles which
 * encoding of the password is right; without a MAC, every encrypted part must decrypt to a
 * well-formed structure instead.
 */
import { constantTimeEqual } from '../bytes.js';
import { children, octets, oid as readOid, readTlv, smallInt, type Tlv } from '../asn1/ber.js';
import { isUnsealError, UnsealError } from '../errors.js';
import { hashLength, hmacSync, type HashName } from '../crypto/hash.js';
import { pbkdf2, pkcs12Kdf } from '../crypto/kdf.js';
import { assembleBundle, emptyContents, type FileContents, type FoundCert, type FoundKey } from './bundle.js';
import { parseCertificate } from './certificate.js';
import { parsingAsync, unreadable, unsupported, wrongPassword } from './key-errors.js';
import { pbeDecrypt, PBE_OID, type PasswordForm } from './pbe.js';
import { decryptPkcs8, passwordForms, privateKeyFromPkcs8 } from './private-key.js';
import type { KeyBundle } from './types.js';
import { decodeString } from './x500-name.js';

const OID = {
  data: '1.2.840.113549.1.7.1',
  signedData: '1.2.840.113549.1.7.2',
  envelopedData: '1.2.840.113549.1.7.3',
  encryptedData: '1.2.840.113549.1.7.6',
  keyBag: '1.2.840.113549.1.12.10.1.1',
  shroudedKeyBag: '1.2.840.113549.1.12.10.1.2',
  certBag: '1.2.840.113549.1.12.10.1.3',
  safeContentsBag: '1.2.840.113549.1.12.10.1.6',
  x509Certificate: '1.2.840.113549.1.9.22.1',
  friendlyName: '1.2.840.113549.1.9.20',
  localKeyId: '1.2.840.113549.1.9.21',
  pbmac1: '1.2.840.113549.1.5.14',
} as const;

const MAC_HASH: Record<string, HashName> = {
  '1.3.14.3.2.26': 'SHA-1',
  '2.16.840.1.101.3.4.2.4': 'SHA-224',
  '2.16.840.1.101.3.4.2.1': 'SHA-256',
  '2.16.840.1.101.3.4.2.2': 'SHA-384',
  '2.16.840.1.101.3.4.2.3': 'SHA-512',
};

const HMAC_HASH: Record<string, HashName> = {
  '1.2.840.113549.2.7': 'SHA-1',
  '1.2.840.113549.2.8': 'SHA-224',
  '1.2.840.113549.2.9': 'SHA-256',
  '1.2.840.113549.2.10': 'SHA-384',
  '1.2.840.113549.2.11': 'SHA-512',
};

const WHAT = 'the PKCS#12 file';
const MAX_NESTING = 4;
const MAX_MAC_ITERATIONS = 10_000_000;

export async function importPkcs12(crypto: SubtleCrypto, der: Uint8Array, password: string | undefined): Promise<KeyBundle> {
  return assembleBundle(await readPkcs12(crypto, der, password));
}

/** True when `der` starts like a PFX: SEQUENCE { INTEGER, ContentInfo }. */
export function looksLikePkcs12(der: Uint8Array): boolean {
  try {
    const top = readTlv(der, 0);
    const [v, ci] = children(der, top);
    if (!v || v.tag !== 2 || !ci || ci.tag !== 16) return false;
    const first = children(der, ci)[0];
    return first !== undefined && first.tag === 6 && readOid(der, first).startsWith('1.2.840.113549.1.7.');
  } catch {
    return false;
  }
}

export async function readPkcs12(crypto: SubtleCrypto, der: Uint8Array, password: string | undefined): Promise<FileContents> {
  return parsingAsync('PKCS#12 file', async () => {
    // A truncated file fails in readTlv (declared length beyond the data); trailing bytes after
    // the PFX (NUL padding from some exporters) are ignored, as OpenSSL does.
    const top = readTlv(der, 0);
    if (top.tag !== 16) unreadable('PKCS#12 file', 'not a PFX');
    const [verT, authSafeT, macT] = children(der, top);
    if (!verT || !authSafeT || verT.tag !== 2 || authSafeT.tag !== 16) unreadable('PKCS#12 file', 'not a PFX');
    const version = smallInt(der, verT);
    if (version !== 3) unreadable('PKCS#12 file', `unsupported PFX version ${version}`);

    const [ctT, contentT] = children(der, authSafeT);
    const ct = readOid(der, ctT!);
    if (ct === OID.signedData) unsupported('PKCS#12 files in public-key integrity mode (signedData) are not supported');
    if (ct !== OID.data || !contentT) unreadable('PKCS#12 file', `authSafe content type ${ct}`);
    const authSafe = octets(der, explicitOctets(der, contentT));

    let forms = passwordForms(password);
    if (macT) forms = [await verifyMac(crypto, der, macT, authSafe, forms)];

    const collected: Collected = { certs: [], plainKeys: [], shrouded: [] };
    const asT = readTlv(authSafe, 0);
    for (const ci of children(authSafe, asT)) {
      const opened = await openContentInfo(crypto, authSafe, ci, forms);
      forms = opened.forms;
      if (!isSafeContents(opened.bytes)) unreadable('PKCS#12 file', 'bad SafeContents');
      readSafeContents(opened.bytes, collected, 0);
    }
    const found = emptyContents();
    found.certs.push(...collected.certs);
    await keysOf(crypto, collected, forms, found);
    return found;
  });
}

/** [0] EXPLICIT OCTET STRING → the OCTET STRING element (primitive or constructed). */
function explicitOctets(buf: Uint8Array, t: Tlv): Tlv {
  const inner = t.cls === 2 && t.tag === 0 ? children(buf, t)[0] : undefined;
  if (!inner || inner.tag !== 4) unreadable('PKCS#12 file', 'content is not an OCTET STRING');
  return inner;
}

async function verifyMac(crypto: SubtleCrypto, buf: Uint8Array, macT: Tlv, data: Uint8Array, forms: PasswordForm[]): Promise<PasswordForm> {
  // MacData ::= SEQUENCE { mac DigestInfo, macSalt OCTET STRING, iterations INTEGER DEFAULT 1 }
  const [digestInfoT, saltT, iterT] = children(buf, macT);
  if (!digestInfoT || !saltT || saltT.tag !== 4) unreadable('PKCS#12 file', 'bad MacData');
  const [algT, digestT] = children(buf, digestInfoT);
  if (!algT || !digestT || digestT.tag !== 4) unreadable('PKCS#12 file', 'bad MAC DigestInfo');
  const [algOidT, algParamsT] = children(buf, algT);
  const algOid = readOid(buf, algOidT!);
  const expected = octets(buf, digestT);
  const salt = octets(buf, saltT);
  const iterations = iterT ? smallInt(buf, iterT) : 1;
  if (iterations < 1 || iterations > MAX_MAC_ITERATIONS) unreadable('PKCS#12 file', `implausible MAC iteration count ${iterations}`);

  let compute: (form: PasswordForm) => Promise<Uint8Array>;
  const hash = MAC_HASH[algOid];
  if (hash) {
    compute = async (form) => hmacSync(hash, pkcs12Kdf(hash, form.bmp, salt, 3, iterations, hashLength(hash)), data);
  } else if (algOid === OID.pbmac1 && algParamsT) {
    compute = pbmac1(buf, algParamsT, data, crypto);
  } else unsupported(`unsupported PKCS#12 MAC algorithm ${algOid}`);

  for (const form of forms) {
    if (constantTimeEqual(await compute(form), expected)) return form;
  }
  wrongPassword(WHAT);
}

/** RFC 9579 PBMAC1: PBKDF2 over the UTF-8 password, then HMAC; MacData salt/iterations are ignored. */
function pbmac1(buf: Uint8Array, params: Tlv, data: Uint8Array, crypto: SubtleCrypto): (form: PasswordForm) => Promise<Uint8Array> {
  const [kdfT, schemeT] = children(buf, params);
  if (!kdfT || !schemeT) unreadable('PKCS#12 file', 'bad PBMAC1 parameters');
  const [kdfOidT, kdfParamsT] = children(buf, kdfT);
  if (readOid(buf, kdfOidT!) !== PBE_OID.pbkdf2 || !kdfParamsT) unsupported('PBMAC1 with a key derivation other than PBKDF2');
  const [saltT, iterT, ...rest] = children(buf, kdfParamsT);
  const lenT = rest.find((t) => t.tag === 2);
  const prfT = rest.find((t) => t.tag === 16);
  if (!saltT || saltT.tag !== 4 || !iterT || !lenT) unreadable('PKCS#12 file', 'bad PBMAC1 PBKDF2 parameters');
  const prfOid = prfT ? readOid(buf, children(buf, prfT)[0]!) : '1.2.840.113549.2.7';
  const prf = HMAC_HASH[prfOid];
  const schemeOid = readOid(buf, children(buf, schemeT)[0]!);
  const mac = HMAC_HASH[schemeOid];
  if (!prf || !mac) unsupported(`unsupported PBMAC1 HMAC ${prf ? schemeOid : prfOid}`);
  const salt = octets(buf, saltT);
  const iterations = smallInt(buf, iterT);
  const keyLen = smallInt(buf, lenT);
  if (iterations < 1 || iterations > MAX_MAC_ITERATIONS || keyLen < 1 || keyLen > 64) unreadable('PKCS#12 file', 'implausible PBMAC1 parameters');
  return async (form) => hmacSync(mac, await pbkdf2(crypto, prf, form.utf8, salt, iterations, keyLen), data);
}

interface Opened {
  bytes: Uint8Array;
  /** The password forms still in play, the one that worked first. */
  forms: PasswordForm[];
}

async function openContentInfo(crypto: SubtleCrypto, buf: Uint8Array, ci: Tlv, forms: PasswordForm[]): Promise<Opened> {
  const [ctT, contentT] = children(buf, ci);
  const ct = readOid(buf, ctT!);
  if (ct === OID.data) return { bytes: octets(buf, explicitOctets(buf, contentT!)), forms };
  if (ct === OID.envelopedData) unsupported('PKCS#12 files in public-key privacy mode (envelopedData) are not supported');
  if (ct !== OID.encryptedData || !contentT) unreadable('PKCS#12 file', `SafeContents content type ${ct}`);
  // EncryptedData ::= SEQUENCE { version, EncryptedContentInfo { contentType, alg, [0] IMPLICIT encryptedContent } }
  const ed = children(buf, contentT)[0];
  const eci = ed ? children(buf, ed)[1] : undefined;
  if (!eci) unreadable('PKCS#12 file', 'bad EncryptedData');
  const [, algT, encT] = children(buf, eci);
  if (!algT || !encT || encT.cls !== 2 || encT.tag !== 0) unreadable('PKCS#12 file', 'EncryptedData without content');
  const alg = buf.subarray(algT.start, algT.end);
  const data = octets(buf, encT);
  return tryForms(forms, async (form) => {
    const plain = await pbeDecrypt(crypto, alg, data, form, WHAT);
    if (!isSafeContents(plain)) wrongPassword(WHAT);
    return plain;
  });
}

/** Runs `f` with each password form; the first success fixes the form for the rest of the file. */
async function tryForms<T>(forms: PasswordForm[], f: (form: PasswordForm) => Promise<T>): Promise<{ bytes: T; forms: PasswordForm[] }> {
  let last: unknown;
  for (const form of forms) {
    try {
      return { bytes: await f(form), forms: [form] };
    } catch (e) {
      if (!isUnsealError(e) || e.kind !== 'wrong_password') throw e;
      last = e;
    }
  }
  throw last ?? new UnsealError('wrong_password', `wrong password for ${WHAT}`);
}

function isSafeContents(b: Uint8Array): boolean {
  try {
    const t = readTlv(b, 0);
    if (t.tag !== 16 || t.end !== b.length) return false;
    return children(b, t).every((bag) => bag.tag === 16 && children(b, bag)[0]?.tag === 6);
  } catch {
    return false;
  }
}

interface Bag {
  der: Uint8Array;
  friendlyName?: string;
  localKeyId?: Uint8Array;
}

interface Collected {
  certs: FoundCert[];
  plainKeys: Bag[];
  shrouded: Bag[];
}

function readSafeContents(buf: Uint8Array, c: Collected, depth: number): void {
  if (depth > MAX_NESTING) unreadable('PKCS#12 file', 'SafeContents nested too deeply');
  const top = readTlv(buf, 0);
  for (const bag of children(buf, top)) {
    const [idT, valueWrapT, attrsT] = children(buf, bag);
    const bagId = readOid(buf, idT!);
    const value = valueWrapT && valueWrapT.cls === 2 && valueWrapT.tag === 0 ? children(buf, valueWrapT)[0] : undefined;
    if (!value) unreadable('PKCS#12 file', 'SafeBag without a value');
    const attrs = attrsT ? readAttributes(buf, attrsT) : {};
    const raw = buf.subarray(value.start, value.end);
    switch (bagId) {
      case OID.keyBag:
        c.plainKeys.push({ der: raw, ...attrs });
        break;
      case OID.shroudedKeyBag:
        c.shrouded.push({ der: raw, ...attrs });
        break;
      case OID.certBag: {
        const [certIdT, certValT] = children(buf, value);
        if (readOid(buf, certIdT!) !== OID.x509Certificate || !certValT) break; // SDSI and attribute certificates
        c.certs.push({ cert: parseCertificate(octets(buf, explicitOctets(buf, certValT))), ...attrs });
        break;
      }
      case OID.safeContentsBag:
        readSafeContents(raw, c, depth + 1);
        break;
      default:
        break; // crlBag, secretBag: nothing to decrypt mail with
    }
  }
}

function readAttributes(buf: Uint8Array, set: Tlv): { friendlyName?: string; localKeyId?: Uint8Array } {
  const out: { friendlyName?: string; localKeyId?: Uint8Array } = {};
  for (const attr of children(buf, set)) {
    const [typeT, valuesT] = children(buf, attr);
    if (!typeT || !valuesT) continue;
    const type = readOid(buf, typeT);
    const v = children(buf, valuesT)[0];
    if (!v) continue;
    if (type === OID.friendlyName) {
      const s = decodeString(buf, v);
      // Some exporters count the BMPString terminator into the value.
      if (s !== undefined) out.friendlyName = s.replace(/\0+$/, '');
    } else if (type === OID.localKeyId && v.tag === 4) out.localKeyId = octets(buf, v).slice();
  }
  return out;
}

async function keysOf(crypto: SubtleCrypto, c: Collected, forms: PasswordForm[], out: FileContents): Promise<void> {
  const add = async (bag: Bag, pkcs8: Uint8Array): Promise<void> => {
    try {
      const key: FoundKey = { key: await privateKeyFromPkcs8(crypto, pkcs8) };
      if (bag.friendlyName !== undefined) key.friendlyName = bag.friendlyName;
      if (bag.localKeyId !== undefined) key.localKeyId = bag.localKeyId;
      out.keys.push(key);
    } catch (e) {
      if (isUnsealError(e) && e.kind === 'unsupported_algorithm') out.unsupported.push(e);
      else throw e;
    }
  };
  for (const bag of c.plainKeys) await add(bag, bag.der);
  for (const bag of c.shrouded) {
    const opened = await tryForms(forms, async (form) => decryptPkcs8(crypto, bag.der, [form], WHAT));
    forms = opened.forms;
    await add(bag, opened.bytes);
  }
}
