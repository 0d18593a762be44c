import { latin1 } from '../bytes.js';
import { cmsContentType } from '../cms/content-type.js';
import { UnsealError } from '../errors.js';
import { decodeBase64Body, findArmour } from '../mime/transfer-encoding.js';

export type DetectedInput = { readonly type: 'cms'; readonly der: Uint8Array; readonly armour: 'binary' | 'pem' | 'base64' } | { readonly type: 'mime' };

/**
 * The documented bound on one input (message or CMS object, any armour), checked before any work.
 * It lets a MAX_CMS_BYTES (512 MiB) object through even as base64 in a mail (4/3 of it plus line
 * ends: about 701 MiB); holding the input, the CMS and the plaintext then needs about 1.8 GB.
 */
export const MAX_MESSAGE_BYTES = 768 * 1024 * 1024;

export function checkMessageSize(size: number, max = MAX_MESSAGE_BYTES): void {
  if (size > max) {
    throw new UnsealError('too_large', `the input is ${size} bytes; the limit is ${max} bytes (${Math.round(max / 1024 / 1024)} MiB)`);
  }
}

const PEM_LABELS = ['PKCS7', 'CMS', 'PKCS #7 SIGNED DATA'];
/** How far into the input PEM armour is looked for (text before it is allowed, as OpenSSL does). */
const PEM_SEARCH = 64 * 1024;

/** Offset after a UTF-8 byte order mark, if any. */
export function bomLength(bytes: Uint8Array): number {
  return bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
}

/**
 * What the user handed us: a DER/BER CMS object, PEM (`PKCS7`/`CMS`, also after other text, as
 * OpenSSL reads it), bare base64 of CMS, or an RFC 822 message; a UTF-8 BOM in front is skipped.
 * Only the first few KB are examined before committing to a form, and no form turns the whole
 * input into one string.
 */
export function detectInput(bytes: Uint8Array): DetectedInput {
  checkMessageSize(bytes.length);
  if (bytes[0] === 0x30 && cmsContentType(bytes) !== null) return { type: 'cms', der: bytes, armour: 'binary' };
  const from = bomLength(bytes);
  const head = latin1(bytes.subarray(from, from + 4096));
  const armour = findArmour(bytes, { labels: PEM_LABELS, from, searchEnd: Math.min(bytes.length, from + PEM_SEARCH) });
  // Text before the armour is fine unless it is a message's header block: mail that quotes a PEM
  // block in its body is still mail.
  if (armour && (armour.begin === from || !looksLikeHeaders(latin1(bytes.subarray(from, armour.begin))))) {
    const der = decodeBase64Body(armour.body);
    if (cmsContentType(der) !== null) return { type: 'cms', der, armour: 'pem' };
  }
  if (/^[A-Za-z0-9+/=\r\n\t ]+$/.test(head) && /^\s*MI/.test(head)) {
    const der = decodeBase64Body(bytes.subarray(from));
    if (cmsContentType(der) !== null) return { type: 'cms', der, armour: 'base64' };
  }
  return { type: 'mime' };
}

const MIME_FIELD = /(?:^|[\r\n])(?:content-type|mime-version|content-transfer-encoding)[ \t]*:/i;

function looksLikeHeaders(text: string): boolean {
  return MIME_FIELD.test(text);
}
