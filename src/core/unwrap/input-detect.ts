import { base64Decode, latin1 } from '../bytes.js';
import { cmsContentType } from '../cms/content-type.js';

export type DetectedInput = { readonly type: 'cms'; readonly der: Uint8Array; readonly armour: 'binary' | 'pem' | 'base64' } | { readonly type: 'mime' };

/**
 * What the user handed us: a DER/BER CMS object, PEM (`PKCS7`/`CMS`), bare base64 of CMS, or an
 * RFC 822 message. Only the first few KB are examined before committing to a form.
 */
export function detectInput(bytes: Uint8Array): DetectedInput {
  if (bytes[0] === 0x30 && cmsContentType(bytes) !== null) return { type: 'cms', der: bytes, armour: 'binary' };
  const head = latin1(bytes.subarray(0, 4096));
  const trimmed = head.replace(/^\s+/, '');
  if (trimmed.startsWith('-----BEGIN ')) {
    const text = latin1(bytes);
    const m = /-----BEGIN (PKCS7|CMS|PKCS #7 SIGNED DATA)-----([\s\S]*?)-----END \1-----/.exec(text);
    if (m) {
      const der = safeB64(m[2]!.replace(/^[A-Za-z-]+:.*$/gm, ''));
      if (der && cmsContentType(der) !== null) return { type: 'cms', der, armour: 'pem' };
    }
  }
  if (/^[A-Za-z0-9+/=\r\n\t ]+$/.test(head) && /^\s*MI/.test(head)) {
    const der = safeB64(latin1(bytes));
    if (der && cmsContentType(der) !== null) return { type: 'cms', der, armour: 'base64' };
  }
  return { type: 'mime' };
}

function safeB64(s: string): Uint8Array | undefined {
  try {
    return base64Decode(s);
  } catch {
    return undefined;
  }
}
