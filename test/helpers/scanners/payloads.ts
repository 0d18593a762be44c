import { eicarBytes } from '../../../src/host/scanners/eicar.js';
import { mimeWithAttachment } from '../../../src/host/scanners/canary.js';
import { storedZip } from '../../../src/host/scanners/zip.js';

const enc = new TextEncoder();

export const CLEAN_TEXT = enc.encode('Hello Bob,\r\nthe quarterly numbers are attached in the usual place.\r\nAlice\r\n');

/** Objects that must come back infected, shaped like decrypted mail content. */
export function infectedPayloads(): { name: string; data: Uint8Array; contentType: string }[] {
  const eicar = eicarBytes();
  const zip = storedZip([
    { name: 'readme.txt', data: enc.encode('nothing to see\n') },
    { name: 'eicar.com', data: eicar },
  ]);
  const zipInZip = storedZip([{ name: 'inner.zip', data: zip }]);
  return [
    { name: 'plain', data: eicar, contentType: 'application/octet-stream' },
    { name: 'mime-attachment', data: mimeWithAttachment('eicar.com', eicar), contentType: 'message/rfc822' },
    { name: 'zip', data: zip, contentType: 'application/zip' },
    { name: 'zip-in-zip', data: zipInZip, contentType: 'application/zip' },
    { name: 'mime-nested-rfc822-zip', data: nestedMessage(zipInZip), contentType: 'message/rfc822' },
  ];
}

/**
 * What a decrypted S/MIME message with a forwarded mail inside looks like: multipart/mixed →
 * message/rfc822 → multipart/mixed → base64 zip. The torture corpus has this class of case.
 */
export function nestedMessage(attachment: Uint8Array): Uint8Array {
  const inner = new TextDecoder().decode(mimeWithAttachment('invoice.zip', attachment, 'application/zip'));
  return enc.encode(
    [
      'From: Alice <alice@example.org>',
      'To: Bob <bob@example.org>',
      'Subject: Fwd: invoice',
      'MIME-Version: 1.0',
      'Content-Type: multipart/mixed; boundary="outer-b"',
      '',
      '--outer-b',
      'Content-Type: text/plain; charset=utf-8',
      'Content-Transfer-Encoding: quoted-printable',
      '',
      'See the forwarded message =E2=80=94 Alice',
      '--outer-b',
      'Content-Type: message/rfc822',
      'Content-Disposition: attachment; filename="fwd.eml"',
      '',
      inner,
      '--outer-b--',
      '',
    ].join('\r\n'),
  );
}

/** Deterministic clean bytes that no signature matches (a counter pattern). */
export function cleanBytes(n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (i * 131 + (i >>> 9)) & 0xff;
  return out;
}
