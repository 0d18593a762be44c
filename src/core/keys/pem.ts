/**
 * RFC 7468 PEM with the leniency real key files need: CRLF or LF, text before/between blocks
 * (`openssl pkcs12 -nodes` writes "Bag Attributes" lines), several blocks, and RFC 1421 headers
 * (Proc-Type / DEK-Info of traditionally encrypted OpenSSL keys).
 */
import { base64Decode } from '../bytes.js';
import { unreadable } from './key-errors.js';

export interface PemBlock {
  label: string;
  der: Uint8Array;
  headers: Record<string, string>;
}

const BLOCK = /-----BEGIN ([A-Z0-9 #._-]+)-----([\s\S]*?)-----END \1-----/g;

export function looksLikePem(text: string): boolean {
  return text.includes('-----BEGIN ');
}

export function parsePem(text: string): PemBlock[] {
  const blocks: PemBlock[] = [];
  for (const m of text.matchAll(BLOCK)) {
    const label = m[1]!.trim();
    const { headers, body } = splitHeaders(m[2]!);
    let der: Uint8Array;
    try {
      der = base64Decode(body);
    } catch (e) {
      unreadable(`PEM block "${label}"`, 'bad base64', e);
    }
    if (der.length === 0) unreadable(`PEM block "${label}"`, 'empty');
    blocks.push({ label, der, headers });
  }
  return blocks;
}

function splitHeaders(raw: string): { headers: Record<string, string>; body: string } {
  const lines = raw.split(/\r?\n|\r/);
  const headers: Record<string, string> = {};
  let i = 0;
  while (i < lines.length && lines[i]!.trim() === '') i++;
  if (i < lines.length && /^[A-Za-z][A-Za-z0-9-]*:/.test(lines[i]!)) {
    let last: string | undefined;
    for (; i < lines.length; i++) {
      const line = lines[i]!;
      if (line.trim() === '') break;
      const hm = /^([A-Za-z][A-Za-z0-9-]*):\s*(.*)$/.exec(line);
      if (hm) {
        last = hm[1]!;
        headers[last] = hm[2]!.trim();
      } else if (last !== undefined && /^\s/.test(line)) {
        headers[last] += line.trim(); // RFC 1421 continuation line
      } else break;
    }
  }
  return { headers, body: lines.slice(i).join('') };
}
