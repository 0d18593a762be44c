import { describe, expect, it } from 'vitest';
import { leafParts, MAX_LEAF_PARTS, MAX_OPAQUE_NESTING, type LeafPart } from '../../../src/core/mime/content.js';
import { parseMime } from '../../../src/core/mime/entity.js';
import { ascii, contentInfo, crlf, lf } from './build.js';

/**
 * Findings of the QA run: opaque-signed content inside decrypted mail was handed to the scanner
 * only as its DER wrapper, so an EICAR attachment inside it scanned clean; encrypted content nested
 * in decrypted content looked like any other attachment.
 */
const PAYLOAD = 'STAND-IN-PAYLOAD-NOT-A-VIRUS-0123456789';
const b64 = (b: Uint8Array | string) => Buffer.from(b).toString('base64').replace(/.{76}/g, '$&\r\n');

function tlv(tag: number, content: Uint8Array | number[]): number[] {
  const c = [...content];
  const n = c.length;
  const len = n < 0x80 ? [n] : n < 0x100 ? [0x81, n] : n < 0x10000 ? [0x82, n >> 8, n & 0xff] : [0x83, n >> 16, (n >> 8) & 0xff, n & 0xff];
  return [tag, ...len, ...c];
}
const OID_DATA = [0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x01];
const OID_SIGNED = [0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02];

/** ContentInfo { signedData, [0] SignedData { 1, {}, { data, [0] OCTET STRING content }, {} } } (no signers needed to scan). */
function signedData(content: Uint8Array, form: 'der' | 'ber-chunked' | 'detached' = 'der'): Uint8Array {
  let eContent: number[];
  if (form === 'detached') eContent = [];
  else if (form === 'der') eContent = tlv(0xa0, tlv(0x04, content));
  else {
    // BER: indefinite lengths and the content cut in 7-byte OCTET STRING chunks (what NSS writes),
    // so the payload never appears contiguously in the DER.
    const chunks: number[] = [];
    for (let i = 0; i < content.length; i += 7) chunks.push(...tlv(0x04, content.subarray(i, i + 7)));
    eContent = [0xa0, 0x80, 0x24, 0x80, ...chunks, 0, 0, 0, 0];
  }
  const sd = tlv(0x30, [...tlv(0x02, [1]), ...tlv(0x31, []), ...tlv(0x30, [...OID_DATA, ...eContent]), ...tlv(0x31, [])]);
  return new Uint8Array(tlv(0x30, [...OID_SIGNED, ...tlv(0xa0, sd)]));
}

const innerWithEicar = crlf(`Content-Type: multipart/mixed; boundary=in\n\n--in\nContent-Type: text/plain\n\nsee attachment\n--in\nContent-Type: application/octet-stream; name="eicar.com"\nContent-Disposition: attachment; filename="eicar.com"\nContent-Transfer-Encoding: base64\n\n${b64(PAYLOAD)}\n--in--\n`);

function outerWith(part: string): Uint8Array {
  return crlf(`Content-Type: multipart/mixed; boundary=o\n\n--o\nContent-Type: text/plain\n\nouter text\n--o\n${part}\n--o--\n`);
}

const view = (leaves: LeafPart[]) => leaves.map((p) => [p.path, p.opaque ?? null]);

describe('leafParts: opaque-signed content is unwrapped for scanning', () => {
  it('a forwarded message/rfc822 holding application/pkcs7-mime signed-data: the EICAR attachment inside is a leaf', () => {
    const sd = signedData(innerWithEicar, 'ber-chunked');
    const m = parseMime(outerWith(`Content-Type: message/rfc822\n\nSubject: fwd\nContent-Type: application/pkcs7-mime; smime-type=signed-data; name=smime.p7m\nContent-Transfer-Encoding: base64\n\n${b64(sd)}`));
    const leaves = leafParts(m);
    expect(view(leaves)).toEqual([
      ['body/1', null],
      ['attachments/1 fwd.eml', null],
      ['attachments/1 fwd.eml › attachments/1 smime.p7m', null],
      ['attachments/1 fwd.eml › attachments/1 smime.p7m › signed content', null],
      ['attachments/1 fwd.eml › attachments/1 smime.p7m › signed content › body/1', null],
      ['attachments/1 fwd.eml › attachments/1 smime.p7m › signed content › attachments/1 eicar.com', null],
    ]);
    expect(Buffer.from(leaves[3]!.data()).equals(Buffer.from(innerWithEicar))).toBe(true);
    expect(ascii(leaves[5]!.data())).toBe(PAYLOAD);
  });

  it('a bare smime.p7m attachment labelled octet-stream, binary transfer encoding', () => {
    const sd = signedData(innerWithEicar);
    const head = crlf('Content-Type: multipart/mixed; boundary=o\n\n--o\nContent-Type: application/octet-stream; name="smime.p7m"\nContent-Disposition: attachment; filename="smime.p7m"\nContent-Transfer-Encoding: binary\n\n');
    const m = parseMime(Buffer.concat([head, sd, crlf('\n--o--\n')]));
    const leaves = leafParts(m);
    expect(view(leaves)).toEqual([
      ['attachments/1 smime.p7m', null],
      ['attachments/1 smime.p7m › signed content', null],
      ['attachments/1 smime.p7m › signed content › body/1', null],
      ['attachments/1 smime.p7m › signed content › attachments/1 eicar.com', null],
    ]);
    expect(ascii(leaves[3]!.data())).toBe(PAYLOAD);
  });

  it('sniffed whatever the label (a SignedData called invoice.pdf), and signed content that is not MIME is one leaf', () => {
    const m = parseMime(outerWith(`Content-Type: application/pdf; name=invoice.pdf\nContent-Transfer-Encoding: base64\n\n${b64(signedData(new TextEncoder().encode(PAYLOAD)))}`));
    const leaves = leafParts(m);
    expect(view(leaves)).toEqual([
      ['body/1', null],
      ['attachments/1 invoice.pdf', null],
      ['attachments/1 invoice.pdf › signed content', null],
    ]);
    expect(ascii(leaves[2]!.data())).toBe(PAYLOAD);
  });

  it('signed inside signed is unwrapped level by level', () => {
    const twice = signedData(signedData(innerWithEicar));
    const m = parseMime(outerWith(`Content-Type: application/pkcs7-mime; smime-type=signed-data; name=smime.p7m\nContent-Transfer-Encoding: base64\n\n${b64(twice)}`));
    expect(leafParts(m).map((p) => p.path).at(-1)).toBe('attachments/1 smime.p7m › signed content › signed content › attachments/1 eicar.com');
  });

  it('a detached signature (multipart/signed) adds nothing', () => {
    const sig = signedData(new Uint8Array(0), 'detached');
    const m = parseMime(crlf(`Content-Type: multipart/signed; protocol="application/pkcs7-signature"; boundary=s\n\n--s\nContent-Type: text/plain\n\nsigned hello\n--s\nContent-Type: application/pkcs7-signature; name=smime.p7s\nContent-Transfer-Encoding: base64\n\n${b64(sig)}\n--s--\n`));
    expect(view(leafParts(m))).toEqual([
      ['body/1', null],
      ['parts/2', null],
    ]);
  });
});

describe('leafParts: what cannot be scanned is marked opaque', () => {
  it('a forwarded encrypted message: opaque "encrypted", data() throws', () => {
    const m = parseMime(outerWith(`Content-Type: message/rfc822\n\nSubject: secret\nContent-Type: application/pkcs7-mime; smime-type=enveloped-data; name=smime.p7m\nContent-Transfer-Encoding: base64\n\n${b64(contentInfo('enveloped'))}`));
    const leaves = leafParts(m);
    expect(view(leaves)).toEqual([
      ['body/1', null],
      ['attachments/1 secret.eml', null],
      ['attachments/1 secret.eml › attachments/1 smime.p7m', null],
      ['attachments/1 secret.eml › attachments/1 smime.p7m › encrypted content', 'encrypted'],
    ]);
    expect(() => leaves[3]!.data()).toThrow(/encrypted content .* cannot be scanned/);
  });

  it('an authEnveloped .p7m attachment and a PGP/MIME multipart/encrypted are "encrypted"', () => {
    const m = parseMime(crlf(`Content-Type: multipart/mixed; boundary=o\n\n--o\nContent-Type: application/octet-stream; name=a.p7m\nContent-Transfer-Encoding: base64\n\n${b64(contentInfo('authEnveloped'))}\n--o\nContent-Type: multipart/encrypted; protocol="application/pgp-encrypted"; boundary=p\n\n--p\nContent-Type: application/pgp-encrypted\n\nVersion: 1\n--p\nContent-Type: application/octet-stream\n\n-----BEGIN PGP MESSAGE-----\n--p--\n--o--\n`));
    expect(leafParts(m).filter((p) => p.opaque).map((p) => [p.path, p.opaque])).toEqual([
      ['attachments/1 a.p7m › encrypted content', 'encrypted'],
      ['parts/2 › encrypted content', 'encrypted'],
    ]);
  });

  it('pkcs7-mime that is not readable CMS, corrupt SignedData, and compressed data are "unreadable"', () => {
    const corrupt = signedData(innerWithEicar).subarray(0, 60);
    const m = parseMime(crlf(`Content-Type: multipart/mixed; boundary=o\n\n--o\nContent-Type: application/pkcs7-mime; smime-type=signed-data; name=x.p7m\nContent-Transfer-Encoding: base64\n\nbm90IENNUw==\n--o\nContent-Type: application/pkcs7-mime; name=y.p7m\nContent-Transfer-Encoding: base64\n\n${b64(corrupt)}\n--o\nContent-Type: application/pkcs7-mime; smime-type=compressed-data; name=z.p7z\nContent-Transfer-Encoding: base64\n\n${b64(contentInfo('compressed'))}\n--o--\n`));
    const leaves = leafParts(m);
    expect(leaves.filter((p) => p.opaque).map((p) => [p.path, p.opaque])).toEqual([
      ['attachments/1 x.p7m › unreadable content', 'unreadable'],
      ['attachments/2 y.p7m › unreadable content', 'unreadable'],
      ['attachments/3 z.p7z › unreadable content', 'unreadable'],
    ]);
    for (const p of leaves.filter((x) => x.opaque)) expect(() => p.data()).toThrow(/cannot be scanned/);
  });

  it(`signatures nested deeper than MAX_OPAQUE_NESTING (${MAX_OPAQUE_NESTING}) end in an "unreadable" entry`, () => {
    let der = signedData(innerWithEicar);
    for (let i = 0; i < MAX_OPAQUE_NESTING + 2; i++) der = signedData(der);
    const m = parseMime(outerWith(`Content-Type: application/pkcs7-mime; smime-type=signed-data; name=deep.p7m\nContent-Transfer-Encoding: base64\n\n${b64(der)}`));
    const leaves = leafParts(m);
    expect(leaves.filter((p) => p.path.endsWith(' › signed content')).length).toBe(MAX_OPAQUE_NESTING);
    expect(leaves.at(-1)!.opaque).toBe('unreadable');
    expect(leaves.at(-1)!.path).toMatch(/ › unreadable content$/);
  });

  it(`more than MAX_LEAF_PARTS (${MAX_LEAF_PARTS}) entries in total end in one "unreadable" entry`, () => {
    // Each signed level may hold a full parser's worth of parts; the total is bounded all the same.
    const many = (n: number) => lf(`Content-Type: multipart/mixed; boundary=b\n\n${'--b\n\nx\n'.repeat(n)}--b--\n`);
    const parts = Array.from({ length: 3 }, (_, i) => `--o\nContent-Type: application/pkcs7-mime; smime-type=signed-data; name=s${i}.p7m\nContent-Transfer-Encoding: base64\n\n${b64(signedData(many(4000)))}\n`).join('');
    const m = parseMime(lf(`Content-Type: multipart/mixed; boundary=o\n\n${parts}--o--\n`));
    const leaves = leafParts(m);
    expect(leaves.length).toBe(MAX_LEAF_PARTS + 1);
    expect(leaves.at(-1)!.opaque).toBe('unreadable');
    expect(() => leaves.at(-1)!.data()).toThrow(/more than/);
  });
});
