import { cmsContentType, type CmsKind } from '../cms/content-type.js';
import { decodeBody, type MimeEntity } from './entity.js';
import { asciiText } from './charset.js';
import { decodeBase64Body, findArmour } from './transfer-encoding.js';

export type SmimeKind = 'enveloped' | 'authEnveloped' | 'signed-data' | 'compressed' | 'certs-only' | 'multipart-signed';

export interface SmimePart {
  entity: MimeEntity;
  kind: SmimeKind;
  /** IMAP-style part path ("1.2"); "" for the top level. */
  path: string;
  /** Decoded CMS bytes for pkcs7-mime style parts. */
  der?: Uint8Array;
}

const PKCS7_MIME = new Set(['application/pkcs7-mime', 'application/x-pkcs7-mime']);
const PKCS7_SIG = new Set(['application/pkcs7-signature', 'application/x-pkcs7-signature']);

/** What a label alone says; used only when the bytes cannot be sniffed. */
function kindFromLabel(e: MimeEntity): SmimeKind | null {
  const mime = e.contentType.mime;
  const smimeType = (e.contentType.params['smime-type'] ?? '').toLowerCase();
  const ext = /\.(p7[msczm])$/i.exec(e.filename ?? '')?.[1]?.toLowerCase();
  if (PKCS7_MIME.has(mime) || ext === 'p7m') {
    if (smimeType === 'signed-data') return 'signed-data';
    if (smimeType === 'certs-only') return 'certs-only';
    if (smimeType === 'compressed-data') return 'compressed';
    if (smimeType === 'authenveloped-data') return 'authEnveloped';
    // No or unknown smime-type: RFC 8551 readers (and Thunderbird) assume enveloped-data; if the
    // bytes are garbage the decryptor then reports malformed CMS instead of "not S/MIME".
    return 'enveloped';
  }
  if (PKCS7_SIG.has(mime) || ext === 'p7s') return 'signed-data';
  if (ext === 'p7c') return 'certs-only';
  if (ext === 'p7z') return 'compressed';
  return null;
}

function fromCms(kind: CmsKind | null, labelled: SmimeKind): SmimeKind | null {
  switch (kind) {
    case 'enveloped':
      return 'enveloped';
    case 'authEnveloped':
      return 'authEnveloped';
    case 'compressed':
      return 'compressed';
    case 'signed':
      // certs-only is a degenerate SignedData; only the label tells them apart cheaply.
      return labelled === 'certs-only' ? 'certs-only' : 'signed-data';
    default:
      return null;
  }
}

const B64_TEXT = /^[\sA-Za-z0-9+/=]+$/;

/**
 * Decoded CMS bytes of a part. Some tools attach the .p7m PEM-armoured or base64 text inside a
 * binary/8bit part (so it is base64 twice); when the bytes do not start like DER but look like
 * that text, the inner layer is decoded too. Decoding itself never fails on content (junk is
 * dropped), so a throw here is a resource failure and propagates: a part that could not be read
 * must not be reported as "no S/MIME".
 */
export function cmsBytes(e: MimeEntity): Uint8Array {
  const der = decodeBody(e);
  if (der.length > 0 && der[0] !== 0x30) {
    const head = asciiText(der.subarray(0, 256));
    if (head.includes('-----BEGIN') || B64_TEXT.test(head)) {
      const armour = findArmour(der, { searchEnd: 4096 });
      const inner = decodeBase64Body(armour ? armour.body : der);
      if (inner[0] === 0x30) return inner;
    }
  }
  return der;
}

function isMultipartSigned(e: MimeEntity): boolean {
  if (e.contentType.mime !== 'multipart/signed') return false;
  const protocol = (e.contentType.params['protocol'] ?? '').trim().toLowerCase();
  if (PKCS7_SIG.has(protocol)) return true;
  // Some gateways drop the protocol parameter; the signature part still says what it is.
  if (protocol !== '') return false;
  const sig = e.children[1];
  return !!sig && (PKCS7_SIG.has(sig.contentType.mime) || /\.p7s$/i.test(sig.filename ?? ''));
}

function childPath(path: string, i: number): string {
  return path === '' ? String(i + 1) : `${path}.${i + 1}`;
}

function* walk(e: MimeEntity, path: string): Generator<SmimePart> {
  if (isMultipartSigned(e)) {
    yield { entity: e, kind: 'multipart-signed', path };
    // Only the signed content can hold further layers; the signature is part of this layer.
    if (e.children[0]) yield* walk(e.children[0], childPath(path, 0));
    return;
  }
  if (e.children.length > 0) {
    for (let i = 0; i < e.children.length; i++) yield* walk(e.children[i]!, childPath(path, i));
    return;
  }
  // The attached message keeps the part's own path, as IMAP numbers a message/rfc822 body.
  if (e.message) {
    yield* walk(e.message, path);
    return;
  }
  const labelled = kindFromLabel(e);
  if (!labelled) return;
  const der = cmsBytes(e);
  const kind = fromCms(cmsContentType(der), labelled) || labelled;
  yield { entity: e, kind, path, der };
}

/**
 * Every S/MIME layer visible without decrypting, in document order, outermost first: pkcs7-mime
 * however labelled (x- prefix, any case, wrong or missing smime-type → the sniffed CMS type wins;
 * octet-stream or anything else named *.p7m/.p7s/.p7c/.p7z) and multipart/signed with a PKCS#7
 * protocol (followed by the layers inside its signed part). Attached messages are searched too.
 */
export function findSmimeParts(root: MimeEntity): SmimePart[] {
  return [...walk(root, '')];
}

export function isSmimeMessage(root: MimeEntity): boolean {
  return !walk(root, '').next().done;
}

/** What Unseal decrypts for a message: the first enveloped/authEnveloped part, also when attached. */
export function findEncryptedPart(root: MimeEntity): SmimePart | undefined {
  for (const p of walk(root, '')) if (p.kind === 'enveloped' || p.kind === 'authEnveloped') return p;
  return undefined;
}
