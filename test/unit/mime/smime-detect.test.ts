import { describe, expect, it } from 'vitest';
import { base64Encode } from '../../../src/core/bytes.js';
import { parseMime } from '../../../src/core/mime/entity.js';
import { findEncryptedPart, findSmimeParts, isSmimeMessage } from '../../../src/core/mime/smime-detect.js';
import { contentInfo, crlf } from './build.js';

const b64 = (k: Parameters<typeof contentInfo>[0]) => base64Encode(contentInfo(k));

function single(contentType: string, body: string, extra = ''): ReturnType<typeof parseMime> {
  return parseMime(crlf(`From: a@example.org\nContent-Type: ${contentType}\nContent-Transfer-Encoding: base64\n${extra}\n${body}\n`));
}

const summary = (root: ReturnType<typeof parseMime>) => findSmimeParts(root).map((p) => `${p.path}:${p.kind}`);

describe('findSmimeParts', () => {
  it('application/pkcs7-mime in any case, with or without x-, with or without smime-type', () => {
    for (const ct of [
      'application/pkcs7-mime; smime-type=enveloped-data; name=smime.p7m',
      'APPLICATION/X-PKCS7-MIME; name="smime.p7m"',
      'application/x-pkcs7-mime',
    ]) {
      const root = single(ct, b64('enveloped'));
      const parts = findSmimeParts(root);
      expect(parts.map((p) => [p.path, p.kind])).toEqual([['', 'enveloped']]);
      expect(parts[0]!.der).toEqual(contentInfo('enveloped'));
      expect(parts[0]!.entity).toBe(root);
    }
  });

  it('a wrong smime-type loses against the sniffed CMS content type', () => {
    expect(summary(single('application/pkcs7-mime; smime-type=signed-data', b64('enveloped')))).toEqual([':enveloped']);
    expect(summary(single('application/pkcs7-mime; smime-type=enveloped-data', b64('signed')))).toEqual([':signed-data']);
    expect(summary(single('application/pkcs7-mime; smime-type=enveloped-data', b64('authEnveloped')))).toEqual([':authEnveloped']);
    expect(summary(single('application/pkcs7-mime; smime-type=compressed-data', b64('compressed')))).toEqual([':compressed']);
    expect(summary(single('application/pkcs7-mime; smime-type=certs-only', b64('signed')))).toEqual([':certs-only']);
  });

  it('unsniffable bytes keep the label, so the decryptor can report malformed CMS', () => {
    const parts = findSmimeParts(single('application/pkcs7-mime; smime-type=enveloped-data', 'bm90IGNtcw=='));
    expect(parts.map((p) => p.kind)).toEqual(['enveloped']);
    expect(new TextDecoder().decode(parts[0]!.der)).toBe('not cms');
  });

  it('anything named *.p7m / *.p7s / *.p7c / *.p7z (torture 06)', () => {
    expect(summary(single('application/octet-stream; name="smime.p7m"', b64('enveloped')))).toEqual([':enveloped']);
    expect(summary(single('application/octet-stream', b64('enveloped'), 'Content-Disposition: attachment; filename="SMIME.P7M"\n'))).toEqual([':enveloped']);
    expect(summary(single('application/octet-stream; name=x.p7s', b64('signed')))).toEqual([':signed-data']);
    expect(summary(single('application/octet-stream; name=x.p7z', b64('compressed')))).toEqual([':compressed']);
    expect(summary(single('application/octet-stream; name=report.pdf', b64('enveloped')))).toEqual([]);
  });

  it('PEM-armoured CMS inside a binary .p7m part is unwrapped', () => {
    const pem = `-----BEGIN PKCS7-----\n${b64('enveloped')}\n-----END PKCS7-----\n`;
    const root = parseMime(crlf(`Content-Type: application/pkcs7-mime; name=smime.p7m\nContent-Transfer-Encoding: 7bit\n\n${pem}`));
    const [p] = findSmimeParts(root);
    expect(p!.der).toEqual(contentInfo('enveloped'));
  });

  it('p7m attached in multipart/mixed is found with its part path (torture 03)', () => {
    const root = parseMime(crlf(`Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain\n\nsee attachment\n--b\nContent-Type: application/pkcs7-mime; name="smime.p7m"\nContent-Transfer-Encoding: base64\n\n${b64('enveloped')}\n--b--\n`));
    expect(summary(root)).toEqual(['2:enveloped']);
    expect(findEncryptedPart(root)!.path).toBe('2');
    expect(isSmimeMessage(root)).toBe(true);
  });

  it('multipart/signed (pkcs7 protocol) comes first, then layers inside its signed part', () => {
    const root = parseMime(crlf(`Content-Type: multipart/signed; protocol="application/x-pkcs7-signature"; micalg=sha-256; boundary=s\n\n--s\nContent-Type: multipart/mixed; boundary=m\n\n--m\nContent-Type: text/plain\n\nx\n--m\nContent-Type: application/pkcs7-mime; smime-type=enveloped-data\nContent-Transfer-Encoding: base64\n\n${b64('enveloped')}\n--m--\n\n--s\nContent-Type: application/pkcs7-signature; name=smime.p7s\nContent-Transfer-Encoding: base64\n\n${b64('signed')}\n--s--\n`));
    expect(summary(root)).toEqual([':multipart-signed', '1.2:enveloped']);
    expect(findEncryptedPart(root)!.path).toBe('1.2');
  });

  it('multipart/signed without protocol is recognised by its signature part; PGP-signed is not S/MIME', () => {
    const noProto = parseMime(crlf(`Content-Type: multipart/signed; boundary=s\n\n--s\n\nhello\n--s\nContent-Type: application/pkcs7-signature\n\nxx\n--s--\n`));
    expect(summary(noProto)).toEqual([':multipart-signed']);
    const pgp = parseMime(crlf(`Content-Type: multipart/signed; protocol="application/pgp-signature"; boundary=s\n\n--s\n\nhello\n--s\nContent-Type: application/pgp-signature\n\nxx\n--s--\n`));
    expect(summary(pgp)).toEqual([]);
    expect(isSmimeMessage(pgp)).toBe(false);
  });

  it('opaque signed outer layer: reported, nothing encrypted visible yet', () => {
    const root = single('application/pkcs7-mime; smime-type=signed-data; name=smime.p7m', b64('signed'));
    expect(summary(root)).toEqual([':signed-data']);
    expect(findEncryptedPart(root)).toBeUndefined();
  });

  it('looks inside attached messages; plain mail is not S/MIME', () => {
    const root = parseMime(crlf(`Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: message/rfc822\n\nSubject: inner\nContent-Type: application/pkcs7-mime\nContent-Transfer-Encoding: base64\n\n${b64('authEnveloped')}\n--b--\n`));
    expect(summary(root)).toEqual(['1:authEnveloped']);
    const plain = parseMime(crlf('Subject: hi\n\nhello'));
    expect(findSmimeParts(plain)).toEqual([]);
    expect(isSmimeMessage(plain)).toBe(false);
    expect(findEncryptedPart(plain)).toBeUndefined();
  });
});
