import { describe, expect, it } from 'vitest';
import { leafParts } from '../../../src/core/mime/content.js';
import { decodeBody, header, parseMime } from '../../../src/core/mime/entity.js';
import { parseParams } from '../../../src/core/mime/params.js';
import { decodeBase64Body } from '../../../src/core/mime/transfer-encoding.js';
import { ascii, lf } from './build.js';

const PAYLOAD = 'STAND-IN-PAYLOAD-NOT-A-VIRUS-0123456789';
const b64 = Buffer.from(PAYLOAD).toString('base64');
/** Hand-written text with every line break as a bare CR. */
const cr = (text: string) => lf(text.replace(/\r?\n/g, '\r'));

describe('bare CR line endings are line breaks like LF and CRLF', () => {
  const msg = cr(`Subject: folded\n  subject\nContent-Type: multipart/mixed;\n\tboundary="=_b"\n\n--=_b\nContent-Type: text/plain\n\nline one\nline two\n--=_b\nContent-Type: application/octet-stream; name=eicar.com\nContent-Transfer-Encoding: base64\n\n${b64.slice(0, 20)}\n${b64.slice(20)}\n--=_b--\n`);

  it('headers (with folding), multipart boundaries and the base64 attachment', () => {
    const m = parseMime(msg);
    expect(header(m, 'subject')).toBe('folded  subject');
    expect(m.contentType.params['boundary']).toBe('=_b');
    expect(m.children).toHaveLength(2);
    expect(ascii(m.children[0]!.body)).toBe('line one\rline two');
    expect(ascii(decodeBody(m.children[1]!))).toBe(PAYLOAD);
    expect(leafParts(m).map((p) => [p.path, ascii(p.data())])).toEqual([
      ['body/1', 'line one\rline two'],
      ['attachments/1 eicar.com', PAYLOAD],
    ]);
  });

  it('raw and body stay exact views of the input', () => {
    const m = parseMime(msg);
    const part = m.children[1]!;
    expect(part.raw.buffer).toBe(msg.buffer);
    const start = part.raw.byteOffset - msg.byteOffset;
    expect(ascii(msg.subarray(start - 6, start))).toBe('--=_b\r');
    expect(ascii(part.raw).startsWith('Content-Type: application/octet-stream')).toBe(true);
    expect(ascii(part.raw).endsWith(b64.slice(20))).toBe(true);
  });

  it('mixed endings in one message, and CRLF still pairs', () => {
    const m = parseMime(lf('Content-Type: multipart/mixed; boundary=x\r\n\r--x\n\nA\r\n--x\r\rB\r--x--\r'));
    expect(m.children.map((c) => ascii(c.body))).toEqual(['A', 'B']);
  });
});

describe('RFC 2045 comments in structured headers', () => {
  it('multipart/mixed (c); boundary="XX" is split', () => {
    const m = parseMime(lf('Content-Type: multipart/mixed (c); boundary="XX"\n\n--XX\n\none\n--XX\n\ntwo\n--XX--\n'));
    expect(m.contentType.mime).toBe('multipart/mixed');
    expect(m.children).toHaveLength(2);
  });

  it('comments between parameters, after values, in the transfer encoding; quoted text and names keep parentheses', () => {
    expect(parseParams('text/plain; (x) charset=us-ascii (Plain text); name="a (1).txt"')).toEqual({ value: 'text/plain', params: { charset: 'us-ascii', name: 'a (1).txt' } });
    expect(parseParams('attachment; filename=report (1).pdf').params['filename']).toBe('report (1).pdf');
    expect(parseParams('(lead) base64 (trail)').value).toBe('base64');
    const m = parseMime(lf(`Content-Type: application/octet-stream\nContent-Transfer-Encoding: base64 (binary data)\n\n${b64}\n`));
    expect(ascii(decodeBody(m))).toBe(PAYLOAD);
  });
});

describe('quoted-printable message/rfc822', () => {
  it('is decoded before the encapsulated message is parsed (=3D, soft breaks)', () => {
    const fwd = 'Subject: fwd\r\nContent-Type: multipart/mixed; boundary=3D"i"\r\n\r\n--i\r\nContent-Type: application/octet-stream; name=3D"e.co=\r\nm"\r\nContent-Transfer-Encoding: base64\r\n\r\n' + b64 + '\r\n--i--\r\n';
    const m = parseMime(lf(`Content-Type: multipart/mixed; boundary=o\r\n\r\n--o\r\nContent-Type: message/rfc822\r\nContent-Transfer-Encoding: Quoted-Printable (forwarded)\r\n\r\n${fwd}--o--\r\n`));
    const leaves = leafParts(m);
    expect(leaves.map((p) => p.path)).toEqual(['attachments/1 fwd.eml', 'attachments/1 fwd.eml › attachments/1 e.com']);
    expect(ascii(leaves[1]!.data())).toBe(PAYLOAD);
  });
});

describe('UTF-8 BOM before a message', () => {
  it('is not part of the first header name', () => {
    const m = parseMime(lf('\xef\xbb\xbfContent-Type: text/plain\nSubject: bom\n\nhello\n'));
    expect(header(m, 'subject')).toBe('bom');
    expect(ascii(m.raw).startsWith('Content-Type')).toBe(true);
  });
});

describe('base64 of very large bodies is decoded in slices', () => {
  const data = new Uint8Array(100_003).map((_, i) => (i * 7919) % 256);
  const text = Buffer.from(data).toString('base64');

  it('gives the same bytes for any slice size: quanta cut at slice edges, whitespace anywhere', () => {
    const wrapped = text.replace(/.{61}/g, '$&\r\n').replace(/(.{13})/g, '$1 \t');
    const body = lf(wrapped);
    const whole = decodeBase64Body(body);
    expect(Buffer.from(whole).equals(Buffer.from(data))).toBe(true);
    for (const slice of [4, 5, 7, 1000, 4093, 65536]) {
      const sliced = decodeBase64Body(body, { wholeMax: 0, slice });
      expect(Buffer.from(sliced).equals(Buffer.from(data)), `slice ${slice}`).toBe(true);
    }
  });

  it('junk and glued padded chunks give what the whole-body lenient path gives', () => {
    const body = lf(`${Buffer.from('first').toString('base64')}\n${Buffer.from('second chunk').toString('base64')}\n-- \nlist footer!\n`);
    const whole = decodeBase64Body(body);
    for (const slice of [4, 9, 16, 33]) expect(ascii(decodeBase64Body(body, { wholeMax: 0, slice })), `slice ${slice}`).toBe(ascii(whole));
  });

  it('a body longer than the longest JS string decodes (default thresholds)', () => {
    // 0x1fffffe8 characters is V8's string limit: one string of this body cannot exist.
    const n = 0x1fffffe8 + 4 * 1024 * 1024;
    const body = new Uint8Array(n).fill(0x41); // "AAAA…" = zero bytes
    for (let i = 76; i < n; i += 78) {
      body[i] = 0x0d;
      body[i + 1] = 0x0a;
    }
    const out = decodeBase64Body(body);
    const chars = n - 2 * Math.floor((n - 76) / 78 + 1);
    expect(out.length).toBe(Math.floor((chars * 3) / 4));
    for (const at of [0, 12_582_911, 12_582_912, out.length - 64]) expect(out.subarray(at, at + 64).every((b) => b === 0)).toBe(true);
  }, 120_000);
});
