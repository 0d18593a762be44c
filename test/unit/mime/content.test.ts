import { webcrypto, createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { extractContent, htmlToText, leafParts } from '../../../src/core/mime/content.js';
import { parseMime } from '../../../src/core/mime/entity.js';
import { NAMED_ENTITIES } from '../../../src/core/mime/html-text.js';
import { ascii, crlf, lf } from './build.js';

const subtle = webcrypto.subtle as unknown as SubtleCrypto;
const sha256 = (s: string | Uint8Array) => createHash('sha256').update(s).digest('hex');
// A stand-in for a malicious payload: the real EICAR string only lives inside the encrypted corpus.
const PAYLOAD = 'STAND-IN-PAYLOAD-NOT-A-VIRUS-0123456789';
const PAYLOAD_B64 = Buffer.from(PAYLOAD).toString('base64');

describe('extractContent: decrypted inner entities from the torture cases', () => {
  it('24: text/plain; charset=iso-8859-1; 8bit → correct Unicode', async () => {
    // As case.json describes: the decrypted entity carries the raw bytes FC F6 DF B5 B2 A3 B1.
    const inner = lf('Content-Type: text/plain; charset=iso-8859-1\nContent-Transfer-Encoding: 8bit\n\nGr\xfc\xdfe aus K\xf6ln!\n3 \xb5m\xb2 - Preis: 12,50 \xa3 \xb1 5 %\n');
    const c = await extractContent(subtle, parseMime(inner));
    expect(c.text).toContain('Grüße aus Köln!');
    expect(c.text).toContain('3 µm² - Preis: 12,50 £ ± 5 %');
    expect(c.text).not.toContain('\ufffd');
    expect(c.charsetWarnings).toEqual([]);
    expect(c.attachments).toEqual([]);
  });

  it('25: bare text without headers or blank line → the whole text is the body', async () => {
    const text = 'Hi Alice, this decrypted content has no MIME header block at all.\r\nRegards, Dave\r\n';
    const c = await extractContent(subtle, parseMime(crlf(text)));
    expect(c.text).toBe(text);
    expect(c.subject).toBeUndefined();
  });

  it('26-like: multipart/mixed with text + base64 attachment named eicar.com', async () => {
    const inner = crlf(`Content-Type: multipart/mixed; boundary="=_b"\nSubject: =?UTF-8?Q?Rechnung_f=C3=BCr_M=C3=A4rz?=\nFrom: Dave <dave@example.org>\nTo: alice@example.com\nDate: Mon, 02 Mar 2026 10:00:00 +0000\nMessage-ID: <x@example.org>\n\n--=_b\nContent-Type: text/plain; charset=us-ascii\n\nMARKER-26 see attachment\n--=_b\nContent-Type: application/octet-stream; name="eicar.com"\nContent-Transfer-Encoding: base64\nContent-Disposition: attachment; filename="eicar.com"\n\n${PAYLOAD_B64}\n--=_b--\n`);
    const c = await extractContent(subtle, parseMime(inner));
    expect(c.text).toBe('MARKER-26 see attachment');
    expect(c.htmlParts).toBeUndefined();
    expect(c.subject).toBe('Rechnung für März');
    expect(c.from).toBe('Dave <dave@example.org>');
    expect(c.to).toBe('alice@example.com');
    expect(c.date).toBe('Mon, 02 Mar 2026 10:00:00 +0000');
    expect(c.messageId).toBe('<x@example.org>');
    expect(c.attachments.map(({ entity: _e, ...a }) => a)).toEqual([
      { path: 'attachments/1 eicar.com', filename: 'eicar.com', contentType: 'application/octet-stream', size: PAYLOAD.length, sha256: sha256(PAYLOAD) },
    ]);
    expect(leafParts(parseMime(inner)).map((p) => [p.path, p.contentType, ascii(p.data())])).toEqual([
      ['body/1', 'text/plain', 'MARKER-26 see attachment'],
      ['attachments/1 eicar.com', 'application/octet-stream', PAYLOAD],
    ]);
  });
});

describe('extractContent: structure', () => {
  const alternative = crlf(
    'Content-Type: multipart/alternative; boundary=a\n\n--a\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: quoted-printable\n\nHallo Bob =E2=80=93 plain\n--a\nContent-Type: multipart/related; boundary=r\n\n--r\nContent-Type: text/html; charset=utf-8\n\n<html><head><title>T</title><style>p{color:red}</style></head><body><p>Hallo Bob &ndash; <b>html</b></p><img src="cid:logo"></body></html>\n--r\nContent-Type: image/png\nContent-ID: <logo>\nContent-Transfer-Encoding: base64\n\niVBORw0K\n--r--\n--a--\n',
  );

  it('multipart/alternative: plain text for reading, HTML kept, related images are attachments', async () => {
    const c = await extractContent(subtle, parseMime(alternative));
    expect(c.text).toBe('Hallo Bob – plain');
    expect(c.htmlParts).toHaveLength(1);
    expect(c.htmlParts![0]).toContain('<b>html</b>');
    expect(c.attachments.map((a) => [a.path, a.contentType, a.size])).toEqual([['attachments/1', 'image/png', 6]]);
    expect(leafParts(parseMime(alternative)).map((p) => p.path)).toEqual(['body/1', 'body/2', 'attachments/1']);
  });

  it('HTML-only mail: text derived from the HTML', async () => {
    const c = await extractContent(subtle, parseMime(crlf('Content-Type: text/html; charset=iso-8859-1\n\n<div>Gr&uuml;&szlig;e<br>aus K\xf6ln</div><script>alert(1)</script>')));
    expect(c.text).toBe('Grüße\naus Köln');
    expect(c.htmlParts).toEqual(['<div>Gr&uuml;&szlig;e<br>aus K\u00f6ln</div><script>alert(1)</script>']);
  });

  it('an attached message/rfc822 is an attachment, its text is not merged; leafParts walks into it', async () => {
    const fwd = 'Subject: =?UTF-8?B?RndkOiBSZXBvcnQ=?=\r\nContent-Type: multipart/mixed; boundary=i\r\n\r\n--i\r\n\r\ninner text\r\n--i\r\nContent-Type: application/x-msdownload; name=x.exe\r\nContent-Transfer-Encoding: base64\r\n\r\n' + PAYLOAD_B64 + '\r\n--i--\r\n';
    const outer = crlf(`Content-Type: multipart/mixed; boundary=o\n\n--o\nContent-Type: text/plain\n\nouter text\n--o\nContent-Type: application/zip\nContent-Disposition: attachment; filename*=UTF-8''r%C3%A9sum%C3%A9.zip\nContent-Transfer-Encoding: base64\n\nUEsDBA==\n--o\nContent-Type: message/rfc822\n\n${fwd}--o--\n`);
    const root = parseMime(outer);
    const c = await extractContent(subtle, root);
    expect(c.text).toBe('outer text');
    expect(c.text).not.toContain('inner text');
    expect(c.attachments.map((a) => [a.path, a.filename, a.contentType, a.size])).toEqual([
      ['attachments/1 résumé.zip', 'résumé.zip', 'application/zip', 4],
      // The CRLF before the next delimiter belongs to the delimiter, not to the attached message.
      ['attachments/2 Fwd: Report.eml', undefined, 'message/rfc822', fwd.length - 2],
    ]);
    expect(c.attachments[1]!.sha256).toBe(sha256(fwd.slice(0, -2)));
    const leaves = leafParts(root);
    expect(leaves.map((p) => [p.path, p.contentType, p.filename])).toEqual([
      ['body/1', 'text/plain', undefined],
      ['attachments/1 résumé.zip', 'application/zip', 'résumé.zip'],
      ['attachments/2 Fwd: Report.eml', 'message/rfc822', undefined],
      ['attachments/2 Fwd: Report.eml › body/1', 'text/plain', undefined],
      ['attachments/2 Fwd: Report.eml › attachments/1 x.exe', 'application/x-msdownload', 'x.exe'],
    ]);
    expect(ascii(leaves[4]!.data())).toBe(PAYLOAD);
    expect(ascii(leaves[2]!.data())).toBe(fwd.slice(0, -2));
  });

  it('multipart/signed: the signed content is shown, the signature is still a leaf for scanning', async () => {
    const m = parseMime(crlf('Content-Type: multipart/signed; protocol="application/pkcs7-signature"; boundary=s\n\n--s\nContent-Type: text/plain\n\nsigned hello\n--s\nContent-Type: application/pkcs7-signature; name=smime.p7s\nContent-Transfer-Encoding: base64\n\nMIAG\n--s--\n'));
    const c = await extractContent(subtle, m);
    expect(c.text).toBe('signed hello');
    expect(c.attachments).toEqual([]);
    expect(leafParts(m).map((p) => [p.path, p.filename])).toEqual([['body/1', undefined], ['parts/2', 'smime.p7s']]);
  });

  it('inline text parts in mixed are joined; text with a filename and no inline disposition is an attachment', async () => {
    const m = parseMime(crlf('Content-Type: multipart/mixed; boundary=b\n\n--b\n\none\n--b\nContent-Disposition: inline\n\ntwo\n--b\nContent-Type: text/plain; name=notes.txt\n\nthree\n--b--\n'));
    const c = await extractContent(subtle, m);
    expect(c.text).toBe('one\n\ntwo');
    expect(c.attachments.map((a) => a.path)).toEqual(['attachments/1 notes.txt']);
  });

  it('reports charset fallbacks as warnings', async () => {
    const m = parseMime(crlf('Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain; charset=x-unknown\n\n\xe9t\xe9\n--b\nContent-Type: text/plain\n\n\xc3\xbc\n--b--\n'));
    const c = await extractContent(subtle, m);
    expect(c.text).toBe('été\n\nü');
    expect(c.charsetWarnings).toEqual([
      'part 1: charset "x-unknown" is unknown or does not fit; decoded as windows-1252',
      'part 2: declared us-ascii but holds 8-bit bytes; decoded as utf-8',
    ]);
  });

  it('a multipart whose boundary never occurs is kept whole as an attachment (nothing escapes scanning)', async () => {
    const m = parseMime(lf('Content-Type: multipart/mixed; boundary=nope\n\nhidden stuff\n'));
    expect(leafParts(m).map((p) => [p.path, ascii(p.data())])).toEqual([['attachments/1', 'hidden stuff\n']]);
  });
});

describe('htmlToText', () => {
  it('drops tags, scripts, styles, comments and head; keeps block structure', () => {
    const html = '<!DOCTYPE html><html><head><title>x</title></head><body><!-- c --><h1>Title</h1><p>One <i>two</i>\n   three</p><ul><li>a</li><li>b</li></ul><table><tr><td>c1</td><td>c2</td></tr></table><SCRIPT type="x">var s = "</p>";</SCRIPT><style>.a{}</style>end</body></html>';
    expect(htmlToText(html)).toBe('Title\n\nOne two three\n\n• a\n• b\n\n\tc1\tc2\n\nend');
  });

  it('decodes named, decimal, hex and windows-1252-range numeric entities', () => {
    expect(htmlToText('&lt;a&gt; &amp; &quot;q&quot; &euro;&#8364;&#x20AC;&#150; &Uuml;ber&nbsp;x &bogus; AT&T')).toBe('<a> & "q" €€€– Über x &bogus; AT&T');
  });

  it('keeps whitespace inside <pre> and quoted ">" inside attributes', () => {
    expect(htmlToText('<p title="a>b">x</p><pre>  a\n    b</pre>')).toBe('x\n\n  a\n    b');
  });

  it('has the full Latin-1 entity range', () => {
    expect(NAMED_ENTITIES.get('yuml')).toBe('ÿ');
    expect(NAMED_ENTITIES.get('iexcl')).toBe('¡');
    expect(NAMED_ENTITIES.get('times')).toBe('×');
  });

  it('is linear on hostile markup', () => {
    const t0 = performance.now();
    htmlToText('<a '.repeat(100_000) + '<script>' + '<'.repeat(200_000) + ' '.repeat(100_000) + 'x');
    htmlToText('<pre>' + ' '.repeat(500_000) + 'x' + ' '.repeat(500_000) + '\n</pre>');
    expect(performance.now() - t0).toBeLessThan(1000);
  });
});
