import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { base64Decode } from '../../../src/core/bytes.js';

export const subtle: SubtleCrypto = globalThis.crypto.subtle;

export const CORPUS = fileURLToPath(new URL('../../../../shared/corpus/', import.meta.url));
export const FIXTURES = fileURLToPath(new URL('../../fixtures/signed/', import.meta.url));

export const bytes = (path: string): Uint8Array => new Uint8Array(readFileSync(path));

/** Every certificate in a PEM file (one or many). */
export function pemCerts(path: string): Uint8Array[] {
  const text = readFileSync(path, 'latin1');
  return [...text.matchAll(/-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/g)].map((m) => base64Decode(m[1]!));
}

export const ascii = (b: Uint8Array): string => new TextDecoder('latin1').decode(b);

export interface EmlParts {
  /** multipart/signed: the first part's raw bytes (delimiter CRLF excluded), and the decoded signature. */
  signedPart?: Uint8Array;
  signature?: Uint8Array;
  /** application/pkcs7-mime: the decoded body. */
  p7m?: Uint8Array;
}

/**
 * A tiny ad-hoc S/MIME splitter for tests (the real MIME parser lives in src/core/mime). The CRLF
 * before a delimiter belongs to the delimiter (RFC 2046 §5.1.1), so it is not part of the signed
 * bytes.
 */
export function splitEml(raw: Uint8Array): EmlParts {
  const s = ascii(raw);
  const headerEnd = s.search(/\r?\n\r?\n/);
  const head = s.slice(0, headerEnd);
  const body = s.slice(headerEnd).replace(/^\r?\n\r?\n/, '');
  const boundary = /boundary="?([^";\r\n]+)"?/i.exec(head)?.[1];
  if (!/multipart\/signed/i.test(head) || !boundary) return { p7m: base64Decode(body) };
  const delim = `--${boundary}`;
  const first = s.indexOf(delim);
  const partStart = s.indexOf('\n', first) + 1;
  const next = s.indexOf(`\n${delim}`, partStart);
  const partEnd = s[next - 1] === '\r' ? next - 1 : next;
  const sigStart = s.indexOf('\n', next + 1) + 1;
  const sigEnd = s.indexOf(`\n${delim}`, sigStart);
  const sigPart = s.slice(sigStart, sigEnd);
  const sigBody = sigPart.slice(sigPart.search(/\r?\n\r?\n/));
  return { signedPart: raw.subarray(partStart, partEnd), signature: base64Decode(sigBody) };
}
