import { describe, expect, it } from 'vitest';
import { decodeBody, decodeHeaderWords, decodeText, parseMime } from '../../../src/core/mime/entity.js';
import { parseParams } from '../../../src/core/mime/params.js';
import { ascii, crlf, lf } from './build.js';

const part = (headers: string, body: string, bytes = crlf) => parseMime(bytes(`${headers}\n\n${body}`));

describe('decodeBody', () => {
  it('base64 with odd line lengths, CRLF and missing padding', () => {
    const e = part('Content-Transfer-Encoding: BASE64', 'SGVsbG8s\nIHdvcmxk\nIQ');
    expect(e.transferEncoding).toBe('base64');
    expect(ascii(decodeBody(e))).toBe('Hello, world!');
  });

  it('base64 with junk (list footer, padded chunks glued together) is decoded leniently', () => {
    expect(ascii(decodeBody(part('Content-Transfer-Encoding: base64', 'SGk=\nIHRoZXJl\n-- \nfooter!')))).toMatch(/^Hi there/);
    expect(ascii(decodeBody(part('Content-Transfer-Encoding: base64', 'QQ==Qg==')))).toBe('AB');
  });

  it('quoted-printable: soft breaks (CRLF, bare LF, trailing space), hex escapes, literal "="', () => {
    const e = part('Content-Transfer-Encoding: quoted-printable', 'Gr=C3=BC=C3=9Fe aus K=\n=C3=B6ln! =   \nsum: 1+1=2 =e2=82=ac\n');
    expect(new TextDecoder().decode(decodeBody(e))).toBe('Grüße aus Köln! sum: 1+1=2 €\r\n');
    const lfOnly = part('Content-Transfer-Encoding: quoted-printable', 'ab=\ncd=3D\nend=', lf);
    expect(ascii(decodeBody(lfOnly))).toBe('abcd=\nend');
  });

  it('7bit/8bit/binary/unknown return the body view itself', () => {
    for (const cte of ['7bit', '8bit', 'binary', 'x-unknown']) {
      const e = part(`Content-Transfer-Encoding: ${cte}`, 'raw =41 bytes');
      expect(decodeBody(e)).toBe(e.body);
    }
  });

  it('x-uuencode', () => {
    const e = part('Content-Transfer-Encoding: x-uuencode', 'begin 644 cat.txt\n#0V%T\n`\nend\n');
    expect(ascii(decodeBody(e))).toBe('Cat');
  });
});

describe('decodeText', () => {
  it('iso-8859-1 8bit bytes become the right Unicode (torture 24)', () => {
    const e = part('Content-Type: text/plain; charset=iso-8859-1\nContent-Transfer-Encoding: 8bit', 'Gr\xfc\xdfe aus K\xf6ln!\n3 \xb5m\xb2 - Preis: 12,50 \xa3 \xb1 5 %\n');
    const r = decodeText(e);
    expect(r.text).toBe('Grüße aus Köln!\r\n3 µm² - Preis: 12,50 £ ± 5 %\r\n');
    expect(r.charset).toBe('iso-8859-1');
    expect(r.charsetFallback).toBeUndefined();
  });

  it('quoted charset, windows-1252, koi8-r, shift_jis', () => {
    expect(decodeText(part('Content-Type: text/plain; charset="Windows-1252"', '\x80 \x93q\x94')).text).toBe('€ “q”');
    expect(decodeText(part('Content-Type: text/plain; charset=koi8-r', '\xf0\xd2\xc9\xd7\xc5\xd4')).text).toBe('Привет');
    expect(decodeText(part('Content-Type: text/plain; charset=shift_jis', '\x93\xfa\x96\x7b')).text).toBe('日本');
  });

  it('unlabelled/us-ascii text holding UTF-8 is read as UTF-8 and flagged', () => {
    const r = decodeText(part('Content-Type: text/plain', '\xc3\xbc'));
    expect(r).toEqual({ text: 'ü', charset: 'utf-8', charsetFallback: true });
    expect(decodeText(part('Subject: x', 'plain ascii'))).toEqual({ text: 'plain ascii', charset: 'us-ascii' });
  });

  it('unknown charsets fall back clearly (UTF-8 if valid, else windows-1252)', () => {
    expect(decodeText(part('Content-Type: text/plain; charset=x-klingon', '\xc3\xa9'))).toEqual({ text: 'é', charset: 'utf-8', charsetFallback: true });
    expect(decodeText(part('Content-Type: text/plain; charset=x-klingon', '\xe9t\xe9'))).toEqual({ text: 'été', charset: 'windows-1252', charsetFallback: true });
    // A "replacement" encoding would turn all text into one U+FFFD: treated as unknown.
    expect(decodeText(part('Content-Type: text/plain; charset=iso-2022-kr', 'abc')).charsetFallback).toBe(true);
  });

  it('invalid UTF-8 keeps the valid text and flags the replacement', () => {
    expect(decodeText(part('Content-Type: text/plain; charset=utf-8', 'ok \xff ok'))).toEqual({ text: 'ok \ufffd ok', charset: 'utf-8', charsetFallback: true });
  });

  it('decodes base64 + charset together', () => {
    const e = part('Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: base64', 'R3LDvMOfZQ==');
    expect(decodeText(e).text).toBe('Grüße');
  });
});

describe('decodeHeaderWords (RFC 2047)', () => {
  it('UTF-8 B and ISO-8859-1 Q words', () => {
    expect(decodeHeaderWords('=?UTF-8?B?R3LDvMOfZQ==?= aus =?iso-8859-1?Q?K=F6ln_am_Rhein?=')).toBe('Grüße aus Köln am Rhein');
    expect(decodeHeaderWords('=?utf-8?q?=E2=82=AC_100?=')).toBe('€ 100');
  });

  it('joins adjacent words (whitespace between them is folding) and multi-byte chars split across words', () => {
    expect(decodeHeaderWords('=?UTF-8?B?w7w=?=\r\n =?UTF-8?B?w7Y=?=')).toBe('üö');
    expect(decodeHeaderWords('=?UTF-8?Q?=C3?= =?UTF-8?Q?=BC?=')).toBe('ü');
    expect(decodeHeaderWords('=?UTF-8?Q?a?= b =?UTF-8?Q?c?=')).toBe('a b c');
  });

  it('other charsets, language suffix, and literal text around words', () => {
    expect(decodeHeaderWords('Re: =?koi8-r?B?8NLJ18XU?= !')).toBe('Re: Привет !');
    expect(decodeHeaderWords('=?ISO-8859-1*de?Q?Gr=FC=DFe?=')).toBe('Grüße');
    expect(decodeHeaderWords('no words here = ? ok')).toBe('no words here = ? ok');
  });

  it('leaves broken words literal and survives hostile input quickly', () => {
    expect(decodeHeaderWords('=?UTF-8?B?***?=')).toBe('=?UTF-8?B?***?=');
    const hostile = '=?'.repeat(200_000) + '=?a?Q?' + 'x'.repeat(200_000);
    const t0 = performance.now();
    expect(decodeHeaderWords(hostile)).toBe(hostile);
    expect(performance.now() - t0).toBeLessThan(500);
  });
});

describe('parameters (RFC 2045/2231)', () => {
  it('quoted values with escapes and semicolons, unquoted values with spaces, lower-cased keys', () => {
    expect(parseParams('attachment; FileName="a \\"b\\"; c.txt"; size=12').params).toEqual({ filename: 'a "b"; c.txt', size: '12' });
    expect(parseParams('inline; filename=my file.pdf').params).toEqual({ filename: 'my file.pdf' });
  });

  it("filename*=UTF-8''… and continuations with charset", () => {
    const e = parseMime(crlf("Content-Type: application/pdf\nContent-Disposition: attachment; filename*=UTF-8''Rechnung%20M%C3%A4rz.pdf\n\nx"));
    expect(e.filename).toBe('Rechnung März.pdf');
    const cont = parseParams("attachment; filename*0*=iso-8859-1'de'Gr%FC; filename*1=sse; filename*2*=%2Etxt").params;
    expect(cont['filename']).toBe('Grüsse.txt');
    // The extended form wins over a plain fallback sent next to it.
    expect(parseParams("attachment; filename=fallback.txt; filename*=utf-8''%E2%82%AC.txt").params['filename']).toBe('€.txt');
  });

  it('RFC 2047 in a quoted name (Outlook) is decoded for filename', () => {
    const e = parseMime(crlf('Content-Type: application/octet-stream; name="=?UTF-8?B?w7xiZXIuemlw?="\n\nx'));
    expect(e.filename).toBe('über.zip');
  });

  it('a __proto__ parameter is just a parameter', () => {
    const p = parseParams('text/plain; __proto__=x; charset=utf-8').params;
    expect(p['__proto__']).toBe('x');
    expect(p['charset']).toBe('utf-8');
  });
});
