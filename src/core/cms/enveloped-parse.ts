import { children, expectTag, octetChunks, octets, oid, raw, readTlv, smallInt, type Tlv } from '../asn1/ber.js';
import { UnsealError } from '../errors.js';
import { parseAlgorithm, type AlgorithmId } from './algorithm.js';
import { OID } from './oids.js';

/**
 * The CMS envelope as plain data: EnvelopedData (RFC 5652 §6), AuthEnvelopedData (RFC 5083) and
 * EncryptedData (§8). Ciphertext stays a view into the input where the encoding allows it.
 */
export type RecipientId =
  | { readonly type: 'issuerSerial'; readonly issuer: Uint8Array; readonly serial: Uint8Array }
  | { readonly type: 'ski'; readonly ski: Uint8Array };

export interface KtriInfo {
  readonly type: 'ktri';
  readonly index: number;
  /** The whole RecipientInfo as encoded, for handing one recipient to the key's holder (the native host). */
  readonly der: Uint8Array;
  readonly rid: RecipientId;
  readonly keyEncryptionAlgorithm: AlgorithmId;
  readonly encryptedKey: Uint8Array;
}

export type OriginatorKey =
  | { readonly type: 'publicKey'; readonly algorithm: AlgorithmId; readonly publicKey: Uint8Array }
  | { readonly type: 'issuerSerial' | 'ski'; readonly der: Uint8Array };

export interface KariInfo {
  readonly type: 'kari';
  readonly index: number;
  /** The whole RecipientInfo as encoded (tag [1]), see KtriInfo.der. */
  readonly der: Uint8Array;
  readonly originator: OriginatorKey;
  readonly ukm?: Uint8Array;
  readonly keyEncryptionAlgorithm: AlgorithmId;
  readonly recipientEncryptedKeys: readonly { readonly rid: RecipientId; readonly encryptedKey: Uint8Array }[];
}

export interface KekriInfo {
  readonly type: 'kekri';
  readonly index: number;
  readonly kekId: Uint8Array;
  readonly keyEncryptionAlgorithm: AlgorithmId;
  readonly encryptedKey: Uint8Array;
}

export interface PwriInfo {
  readonly type: 'pwri';
  readonly index: number;
  readonly keyDerivationAlgorithm?: AlgorithmId;
  readonly keyEncryptionAlgorithm: AlgorithmId;
  readonly encryptedKey: Uint8Array;
}

export interface OtherRecipientInfo {
  readonly type: 'ori';
  readonly index: number;
  readonly oriType: string;
}

export type RecipientInfo = KtriInfo | KariInfo | KekriInfo | PwriInfo | OtherRecipientInfo;

export interface Envelope {
  readonly kind: 'enveloped' | 'authEnveloped' | 'encrypted';
  readonly version: number;
  readonly recipients: readonly RecipientInfo[];
  readonly contentType: string;
  readonly contentEncryptionAlgorithm: AlgorithmId;
  /**
   * The ciphertext as the pieces of its OCTET STRING (one piece for DER; BER streams many), views
   * into the input: a 100 MB message is not copied once more just to make it contiguous. Absent
   * when the content is detached (not supported for decryption, but inspectable).
   */
  readonly encryptedContent?: readonly Uint8Array[];
  /** AuthEnvelopedData: DER of the authenticated attributes re-tagged as SET OF (the AAD). */
  readonly authAttrsAad?: Uint8Array;
  readonly mac?: Uint8Array;
  /** True when any indefinite length was met on the way (BER), for reports. */
  readonly ber: boolean;
}

const CTX = 2;

function malformed(msg: string): never {
  throw new UnsealError('malformed_cms', msg);
}

function isOctetString(t: Tlv): boolean {
  return t.cls === 0 && t.tag === 4;
}

function parseRid(buf: Uint8Array, t: Tlv): RecipientId {
  if (t.cls === 0 && t.tag === 16) {
    const [issuer, serial] = children(buf, t);
    if (!issuer || !serial || serial.tag !== 2) malformed('bad IssuerAndSerialNumber');
    return { type: 'issuerSerial', issuer: raw(buf, issuer), serial: buf.subarray(serial.contentStart, serial.contentEnd) };
  }
  if (t.cls === CTX && t.tag === 0) {
    // KTRI: [0] IMPLICIT SubjectKeyIdentifier (an OCTET STRING). KARI: [0] IMPLICIT RecipientKeyIdentifier (a SEQUENCE).
    if (t.constructed) {
      const kids = children(buf, t);
      const first = kids[0];
      if (first && isOctetString(first)) return { type: 'ski', ski: octets(buf, first) };
      return { type: 'ski', ski: octets(buf, t) };
    }
    return { type: 'ski', ski: buf.subarray(t.contentStart, t.contentEnd) };
  }
  return malformed('unknown RecipientIdentifier');
}

function parseKtri(buf: Uint8Array, t: Tlv, index: number): KtriInfo {
  const [, rid, alg, ek] = children(buf, t);
  if (!rid || !alg || !ek || !isOctetString(ek)) malformed('bad KeyTransRecipientInfo');
  return { type: 'ktri', index, der: raw(buf, t), rid: parseRid(buf, rid), keyEncryptionAlgorithm: parseAlgorithm(buf, alg), encryptedKey: octets(buf, ek) };
}

function parseOriginator(buf: Uint8Array, t: Tlv): OriginatorKey {
  // originator [0] EXPLICIT OriginatorIdentifierOrKey
  const inner = children(buf, t)[0];
  if (!inner) malformed('empty originator');
  if (inner.cls === CTX && inner.tag === 1) {
    const [alg, pk] = children(buf, inner);
    if (!alg || !pk || pk.tag !== 3) malformed('bad OriginatorPublicKey');
    const bits = buf.subarray(pk.contentStart, pk.contentEnd);
    if (bits[0] !== 0) malformed('originator public key has unused bits');
    return { type: 'publicKey', algorithm: parseAlgorithm(buf, alg), publicKey: bits.subarray(1) };
  }
  return { type: inner.cls === CTX ? 'ski' : 'issuerSerial', der: raw(buf, inner) };
}

function parseKari(buf: Uint8Array, t: Tlv, index: number): KariInfo {
  const kids = children(buf, t);
  let i = 1; // skip version
  const orig = kids[i++];
  if (!orig || orig.cls !== CTX || orig.tag !== 0) malformed('kari without originator');
  let ukm: Uint8Array | undefined;
  if (kids[i]?.cls === CTX && kids[i]?.tag === 1) {
    const u = children(buf, kids[i]!)[0];
    if (!u || !isOctetString(u)) malformed('bad ukm');
    ukm = octets(buf, u);
    i++;
  }
  const alg = kids[i++];
  const reks = kids[i++];
  if (!alg || !reks) malformed('bad KeyAgreeRecipientInfo');
  const recipientEncryptedKeys = children(buf, reks).map((rek) => {
    const [rid, ek] = children(buf, rek);
    if (!rid || !ek || !isOctetString(ek)) malformed('bad RecipientEncryptedKey');
    return { rid: parseRid(buf, rid), encryptedKey: octets(buf, ek) };
  });
  return {
    type: 'kari',
    index,
    der: raw(buf, t),
    originator: parseOriginator(buf, orig),
    ...(ukm ? { ukm } : {}),
    keyEncryptionAlgorithm: parseAlgorithm(buf, alg),
    recipientEncryptedKeys,
  };
}

function parseKekri(buf: Uint8Array, t: Tlv, index: number): KekriInfo {
  const [, kekid, alg, ek] = children(buf, t);
  if (!kekid || !alg || !ek || !isOctetString(ek)) malformed('bad KEKRecipientInfo');
  const keyId = children(buf, kekid)[0];
  if (!keyId || !isOctetString(keyId)) malformed('bad KEKIdentifier');
  return { type: 'kekri', index, kekId: octets(buf, keyId), keyEncryptionAlgorithm: parseAlgorithm(buf, alg), encryptedKey: octets(buf, ek) };
}

function parsePwri(buf: Uint8Array, t: Tlv, index: number): PwriInfo {
  const kids = children(buf, t);
  let i = 1;
  let kdf: AlgorithmId | undefined;
  const k = kids[i];
  if (k && k.cls === CTX && k.tag === 0) {
    // [0] IMPLICIT AlgorithmIdentifier: re-read its content as a SEQUENCE.
    const kk = children(buf, k);
    const id = kk[0];
    if (!id) malformed('bad keyDerivationAlgorithm');
    const p = kk[1];
    kdf = { oid: oid(buf, id), der: raw(buf, k), ...(p ? { params: raw(buf, p) } : {}) };
    i++;
  }
  const alg = kids[i++];
  const ek = kids[i];
  if (!alg || !ek || !isOctetString(ek)) malformed('bad PasswordRecipientInfo');
  return { type: 'pwri', index, ...(kdf ? { keyDerivationAlgorithm: kdf } : {}), keyEncryptionAlgorithm: parseAlgorithm(buf, alg), encryptedKey: octets(buf, ek) };
}

function parseRecipientInfo(buf: Uint8Array, t: Tlv, index: number): RecipientInfo {
  if (t.cls === 0 && t.tag === 16) return parseKtri(buf, t, index);
  if (t.cls === CTX) {
    switch (t.tag) {
      case 1:
        return parseKari(buf, t, index);
      case 2:
        return parseKekri(buf, t, index);
      case 3:
        return parsePwri(buf, t, index);
      case 4: {
        const id = children(buf, t)[0];
        return { type: 'ori', index, oriType: id ? oid(buf, id) : '' };
      }
    }
  }
  return malformed('unknown RecipientInfo type');
}

/**
 * One RecipientInfo on its own (KeyTransRecipientInfo or KeyAgreeRecipientInfo as `der` above):
 * what the native host receives for a managed key. Anything else, or trailing bytes, is malformed.
 */
export function parseRecipientInfoDer(der: Uint8Array): KtriInfo | KariInfo {
  const t = readTlv(der, 0);
  if (t.end !== der.length) malformed('trailing bytes after the RecipientInfo');
  const ri = parseRecipientInfo(der, t, 0);
  if (ri.type !== 'ktri' && ri.type !== 'kari') malformed(`a ${ri.type} recipient cannot be opened with a private key`);
  return ri;
}

function parseEncryptedContentInfo(buf: Uint8Array, t: Tlv) {
  const [ct, alg, ec] = children(buf, t);
  if (!ct || !alg) malformed('bad EncryptedContentInfo');
  let encryptedContent: Uint8Array[] | undefined;
  if (ec) {
    if (ec.cls !== CTX || ec.tag !== 0) malformed('bad encryptedContent');
    encryptedContent = octetChunks(buf, ec);
  }
  return {
    contentType: oid(buf, ct),
    contentEncryptionAlgorithm: parseAlgorithm(buf, alg),
    ...(encryptedContent ? { encryptedContent } : {}),
  };
}

function anyIndefinite(buf: Uint8Array, t: Tlv, depth = 0): boolean {
  if (t.indefinite) return true;
  if (!t.constructed || depth > 4) return false;
  return children(buf, t).some((c) => anyIndefinite(buf, c, depth + 1));
}

/** Parses a ContentInfo holding EnvelopedData, AuthEnvelopedData or EncryptedData. */
export function parseEnvelope(buf: Uint8Array): Envelope {
  const top = readTlv(buf, 0);
  expectTag(top, 0, 16, 'ContentInfo SEQUENCE');
  const [ctOid, explicit] = children(buf, top);
  if (!ctOid || !explicit) malformed('ContentInfo without content');
  const contentType = oid(buf, expectTag(ctOid, 0, 6, 'contentType'));
  if (explicit.cls !== CTX || explicit.tag !== 0) malformed('ContentInfo content is not [0]');
  const body = children(buf, explicit)[0];
  if (!body || body.cls !== 0 || body.tag !== 16) malformed('ContentInfo content is not a SEQUENCE');
  const kids = children(buf, body);
  const ber = top.indefinite || explicit.indefinite || body.indefinite;
  const version = smallInt(buf, expectTag(kids[0], 0, 2, 'version'));

  if (contentType === OID.encryptedData) {
    const eci = kids[1];
    if (!eci) malformed('EncryptedData without EncryptedContentInfo');
    return { kind: 'encrypted', version, recipients: [], ...parseEncryptedContentInfo(buf, eci), ber: ber || anyIndefinite(buf, eci) };
  }
  if (contentType !== OID.envelopedData && contentType !== OID.authEnvelopedData) {
    malformed(`not an encrypted CMS object (content type ${contentType})`);
  }
  let i = 1;
  if (kids[i]?.cls === CTX && kids[i]?.tag === 0) i++; // originatorInfo
  const ris = kids[i++];
  if (!ris || ris.cls !== 0 || ris.tag !== 17) malformed('missing recipientInfos');
  const recipients = children(buf, ris).map((r, n) => parseRecipientInfo(buf, r, n));
  const eci = kids[i++];
  if (!eci) malformed('missing EncryptedContentInfo');
  const info = parseEncryptedContentInfo(buf, eci);
  const berAny = ber || anyIndefinite(buf, eci);
  if (contentType === OID.envelopedData) {
    return { kind: 'enveloped', version, recipients, ...info, ber: berAny };
  }
  let authAttrsAad: Uint8Array | undefined;
  if (kids[i]?.cls === CTX && kids[i]?.tag === 1) {
    // RFC 5083 §2.1: the AAD is the DER of authAttrs with the SET OF tag (0x31), not [1].
    const a = kids[i++]!;
    const der = raw(buf, a);
    if (a.indefinite) malformed('authAttrs must be DER encoded');
    authAttrsAad = new Uint8Array(der);
    authAttrsAad[0] = 0x31;
  }
  const mac = kids[i];
  if (!mac || !isOctetString(mac)) malformed('AuthEnvelopedData without mac');
  return { kind: 'authEnveloped', version, recipients, ...info, ...(authAttrsAad ? { authAttrsAad } : {}), mac: octets(buf, mac), ber: berAny };
}
