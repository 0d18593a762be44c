import { describe, expect, it } from 'vitest';
import { UnsealError } from '../../../src/core/errors.js';
import { header, parseMime, MAX_DEPTH } from '../../../src/core/mime/entity.js';
import { ascii, crlf, lf } from './build.js';

function malformed(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(UnsealError);
    expect((e as UnsealError).kind).toBe('malformed_mime');
    return (e as UnsealError).message;
  }
  throw new Error('expected malformed_mime');
}

describe('parseMime: headers', () => {
  it('unfolds continuation lines (CRLF) and keeps values raw', () => {
    const e = parseMime(crlf('Subject: a long\n  folded =?UTF-8?B?w7w=?=\nX-Empty:\nContent-Type: text/plain;\n\tcharset="utf-8"\n\nbody\n'));
    expect(e.headers).toEqual([
      { name: 'Subject', value: 'a long  folded =?UTF-8?B?w7w=?=' },
      { name: 'X-Empty', value: '' },
      { name: 'Content-Type', value: 'text/plain;\tcharset="utf-8"' },
    ]);
    expect(e.contentType).toEqual({ type: 'text', subtype: 'plain', mime: 'text/plain', params: { charset: 'utf-8' } });
    expect(ascii(e.body)).toBe('body\r\n');
  });

  it('header() is case-insensitive and returns the first occurrence', () => {
    const e = parseMime(crlf('Received: one\nreceived: two\n\nx'));
    expect(header(e, 'RECEIVED')).toBe('one');
    expect(header(e, 'x-missing')).toBeUndefined();
  });

  it('accepts bare LF everywhere (torture 08 style) and WSP before the colon', () => {
    const e = parseMime(lf('Content-Type: application/pkcs7-mime; smime-type=enveloped-data;\n\tname="smime.p7m"\nSubject : hi\nContent-Transfer-Encoding: base64\n\nMIAG\nCSqG\n'));
    expect(e.contentType.mime).toBe('application/pkcs7-mime');
    expect(e.contentType.params).toEqual({ 'smime-type': 'enveloped-data', name: 'smime.p7m' });
    expect(header(e, 'subject')).toBe('hi');
    expect(e.transferEncoding).toBe('base64');
    expect(e.filename).toBe('smime.p7m');
    expect(ascii(e.body)).toBe('MIAG\nCSqG\n');
  });

  it('decodes raw UTF-8 header bytes (RFC 6532) and falls back to windows-1252 for other 8-bit', () => {
    const utf8 = new TextEncoder().encode('Subject: Grüße\r\n\r\nx');
    expect(header(parseMime(utf8), 'subject')).toBe('Grüße');
    expect(header(parseMime(lf('Subject: Gr\xfc\xdfe\n\nx')), 'subject')).toBe('Grüße');
  });

  it('skips an mbox "From " line', () => {
    const e = parseMime(lf('From test@example.com Sat, 13 Apr 2013 01:54:30 +0200\nFrom: test <test@example.com>\nSubject: s\n\nhello\n'));
    expect(e.headers.map((h) => h.name)).toEqual(['From', 'Subject']);
    expect(ascii(e.body)).toBe('hello\n');
  });

  it('keeps a first line starting with "From " when no headers follow it', () => {
    const text = 'From now on we meet on Mondays.\nBring coffee.\n';
    const e = parseMime(lf(text));
    expect(e.headers).toEqual([]);
    expect(ascii(e.body)).toBe(text);
  });

  it('treats header-less content as a text/plain body (torture 25)', () => {
    const text = 'Hi Alice, this decrypted content has no MIME header block at all.\r\nSecond line: still body.\r\n';
    const e = parseMime(crlf(text));
    expect(e.headers).toEqual([]);
    expect(e.contentType).toEqual({ type: 'text', subtype: 'plain', mime: 'text/plain', params: { charset: 'us-ascii' } });
    expect(e.transferEncoding).toBe('7bit');
    expect(ascii(e.body)).toBe(text);
    expect(e.body.length).toBe(e.raw.length);
  });

  it('treats prose that starts like a header but has no blank line and no known field as body', () => {
    const text = 'Note: the meeting moved to 5pm.\nSee you there, Bob';
    const e = parseMime(lf(text));
    expect(e.headers).toEqual([]);
    expect(ascii(e.body)).toBe(text);
  });

  it('ends an unterminated header block at the first non-header line when known fields are present', () => {
    const e = parseMime(lf('Content-Type: text/plain\nthis line is body\n'));
    expect(e.headers).toEqual([{ name: 'Content-Type', value: 'text/plain' }]);
    expect(ascii(e.body)).toBe('this line is body\n');
  });

  it('a first line that is blank means no headers; a first line starting with whitespace is body', () => {
    const blank = parseMime(crlf('\nContent-Type: text/html\n'));
    expect(blank.headers).toEqual([]);
    expect(ascii(blank.body)).toBe('Content-Type: text/html\r\n');
    const indented = parseMime(lf('  indented: text\nmore'));
    expect(indented.headers).toEqual([]);
    expect(ascii(indented.body)).toBe('  indented: text\nmore');
  });

  it('a message with only headers has an empty body', () => {
    const e = parseMime(crlf('Subject: x\nFrom: a@b'));
    expect(e.headers.length).toBe(2);
    expect(e.body.length).toBe(0);
  });

  it('invalid Content-Type falls back to text/plain but keeps the name', () => {
    const e = parseMime(crlf('Content-Type: garbage; name="a.txt"\n\nx'));
    expect(e.contentType.mime).toBe('text/plain');
    expect(e.filename).toBe('a.txt');
  });

  it('refuses input that is not a message at all', () => {
    expect(malformed(() => parseMime(new Uint8Array(0)))).toMatch(/empty/);
    expect(malformed(() => parseMime(lf('From nobody\n')))).toMatch(/empty/);
    expect(malformed(() => parseMime(new Uint8Array([0x30, 0x80, 0x06, 0x09, 0x2a, 0x00, 0x00])))).toMatch(/binary/);
  });

  it('caps the header block', () => {
    const many = 'X-A: b\n'.repeat(10_001) + '\nbody';
    expect(malformed(() => parseMime(lf(many)))).toMatch(/header fields/);
    const huge = 'X-A: ' + 'a'.repeat(1_100_000) + '\n\nbody';
    expect(malformed(() => parseMime(lf(huge)))).toMatch(/header block/);
  });
});

describe('parseMime: multipart', () => {
  const mixed = crlf(
    [
      'Content-Type: multipart/mixed; boundary="b1 x"',
      '',
      'This is the preamble.',
      '--b1 x',
      'Content-Type: text/plain',
      '',
      'first',
      '--b1 xtended line is not a boundary',
      '--b1 x  \t',
      'Content-Type: application/octet-stream; name=a.bin',
      'Content-Transfer-Encoding: base64',
      '',
      'AAEC',
      '--b1 x--',
      'epilogue',
      '',
    ].join('\n'),
  );

  it('splits on quoted boundaries, ignores longer lines and accepts transport padding', () => {
    const e = parseMime(mixed);
    expect(e.contentType.params['boundary']).toBe('b1 x');
    expect(e.children.length).toBe(2);
    const [a, b] = e.children;
    expect(ascii(a!.raw)).toBe('Content-Type: text/plain\r\n\r\nfirst\r\n--b1 xtended line is not a boundary');
    expect(ascii(a!.body)).toBe('first\r\n--b1 xtended line is not a boundary');
    expect(b!.filename).toBe('a.bin');
    expect(ascii(b!.body)).toBe('AAEC');
  });

  it('keeps raw and body as views of the input (no copies)', () => {
    const e = parseMime(mixed);
    for (const part of [e, ...e.children]) {
      expect(part.raw.buffer).toBe(mixed.buffer);
      expect(part.body.buffer).toBe(mixed.buffer);
    }
    const first = e.children[0]!;
    expect(first.raw.byteOffset).toBe(ascii(mixed).indexOf('Content-Type: text/plain'));
  });

  it('the CRLF before a delimiter belongs to the delimiter (exact multipart/signed content)', () => {
    const msg = crlf('Content-Type: multipart/signed; protocol="application/pkcs7-signature"; boundary=s\n\n--s\nContent-Type: text/plain\n\nsigned text\n\n--s\nContent-Type: application/pkcs7-signature\n\nsig\n--s--\n');
    const e = parseMime(msg);
    expect(ascii(e.children[0]!.raw)).toBe('Content-Type: text/plain\r\n\r\nsigned text\r\n');
    expect(ascii(e.children[1]!.body)).toBe('sig');
  });

  it('tolerates a missing close delimiter: the last part runs to the end', () => {
    const e = parseMime(lf('Content-Type: multipart/mixed; boundary=zz\n\n--zz\n\none\n--zz\nContent-Type: text/html\n\n<p>two</p>\n'));
    expect(e.children.map((c) => ascii(c.body))).toEqual(['one', '<p>two</p>\n']);
    expect(e.children[0]!.headers).toEqual([]);
  });

  it('a multipart whose boundary never occurs has no children but keeps its body', () => {
    const e = parseMime(lf('Content-Type: multipart/mixed; boundary=nope\n\njust text\n'));
    expect(e.children).toEqual([]);
    expect(ascii(e.body)).toBe('just text\n');
  });

  it('parses multipart/digest children as message/rfc822 by default', () => {
    const e = parseMime(lf('Content-Type: multipart/digest; boundary=d\n\n--d\n\nSubject: inner\n\nhello\n--d--\n'));
    const c = e.children[0]!;
    expect(c.contentType.mime).toBe('message/rfc822');
    expect(header(c.message!, 'subject')).toBe('inner');
    expect(ascii(c.message!.body)).toBe('hello');
  });

  it('parses attached message/rfc822, also when (wrongly) base64-encoded', () => {
    const inner = 'Subject: fwd\r\nContent-Type: text/plain\r\n\r\ninner body\r\n';
    const b64 = Buffer.from(inner).toString('base64');
    const e = parseMime(crlf(`Content-Type: multipart/mixed; boundary=m\n\n--m\nContent-Type: message/rfc822\n\n${inner}--m\nContent-Type: message/rfc822\nContent-Transfer-Encoding: base64\n\n${b64}\n--m--\n`));
    expect(e.children.map((c) => header(c.message!, 'subject'))).toEqual(['fwd', 'fwd']);
    expect(ascii(e.children[0]!.message!.body)).toBe('inner body');
    expect(ascii(e.children[1]!.message!.body)).toBe('inner body\r\n');
  });

  function nested(depth: number): Uint8Array {
    let s = 'Content-Type: text/plain\n\nleaf at the bottom\n';
    for (let d = depth; d >= 1; d--) s = `Content-Type: multipart/mixed; boundary="b${d}"\n\n--b${d}\n${s}--b${d}--\n`;
    return lf(s);
  }

  it('handles 20 nested multiparts with boundaries that prefix each other', () => {
    let e = parseMime(nested(20));
    for (let d = 1; d <= 20; d++) {
      expect(e.contentType.params['boundary']).toBe(`b${d}`);
      expect(e.children.length).toBe(1);
      e = e.children[0]!;
    }
    expect(ascii(e.body)).toBe('leaf at the bottom');
  });

  it('refuses nesting deeper than MAX_DEPTH', () => {
    expect(malformed(() => parseMime(nested(MAX_DEPTH + 5)))).toMatch(/nesting/);
  });

  it('refuses absurd part counts', () => {
    expect(malformed(() => parseMime(lf('Content-Type: multipart/mixed; boundary=x\n\n' + '--x\n\na\n'.repeat(10_001))))).toMatch(/parts/);
  });

  it('stays linear on hostile input (dash storms, near-boundaries, long lines)', () => {
    const n = 4 * 1024 * 1024;
    const head = lf('Content-Type: multipart/mixed; boundary="' + 'a'.repeat(60) + '"\n\n');
    const bodies = [
      '-'.repeat(n),
      ('--' + 'a'.repeat(59) + 'b\n').repeat(n / 64),
      ('x-' + 'y'.repeat(60) + '\n').repeat(n / 64),
    ];
    for (const b of bodies) {
      const bytes = new Uint8Array(head.length + b.length);
      bytes.set(head);
      bytes.set(lf(b), head.length);
      const t0 = performance.now();
      const e = parseMime(bytes);
      expect(e.children.length).toBe(0);
      expect(performance.now() - t0).toBeLessThan(1500);
    }
  });
});
