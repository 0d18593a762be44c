import { crc32 as zlibCrc32, inflateRawSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { UnsealError } from '../../../src/core/errors.js';
import { buildCanaries, pdfWithEmbedded, PADDED_CANARY_BYTES } from '../../../src/host/scanners/canary.js';
import { createScanner, parseCommand, parseScannerUrl, redact } from '../../../src/host/scanners/create.js';
import { eicarBytes, eicarHex } from '../../../src/host/scanners/eicar.js';
import { icapTlsOptions } from '../../../src/host/scanners/icap.js';
import { parseHeaderLines, splitHeaderBlock, verdictFromHeaders } from '../../../src/host/scanners/icap-parse.js';
import { crc32, storedZip } from '../../../src/host/scanners/zip.js';

describe('scanner URLs', () => {
  it.each([
    ['clamd+unix:///run/clamav/clamd.ctl', { kind: 'clamd-unix', path: '/run/clamav/clamd.ctl', url: 'clamd+unix:///run/clamav/clamd.ctl' }],
    ['clamd://127.0.0.1:3310', { kind: 'clamd-tcp', host: '127.0.0.1', port: 3310, url: 'clamd://127.0.0.1:3310' }],
    ['clamd://av.example.org', { kind: 'clamd-tcp', host: 'av.example.org', port: 3310 }],
    ['clamd://[::1]:3311', { kind: 'clamd-tcp', host: '::1', port: 3311, url: 'clamd://[::1]:3311' }],
    ['icap://127.0.0.1:1344/avscan', { kind: 'icap', target: { uri: 'icap://127.0.0.1:1344/avscan', host: '127.0.0.1', port: 1344, secure: false } }],
    ['icap://av.example.org/virus_scan?allow204=on', { kind: 'icap', target: { uri: 'icap://av.example.org:1344/virus_scan?allow204=on', port: 1344 } }],
    ['icaps://av.example.org/avscan', { kind: 'icap', target: { uri: 'icaps://av.example.org:11344/avscan', secure: true, port: 11344 } }],
    ['icap://u%40x:p%3Aw@h:99/s', { kind: 'icap', target: { uri: 'icap://h:99/s', credentials: 'u@x:p:w' } }],
    ['command:clamdscan --no-summary --stream -', { kind: 'command', argv: ['clamdscan', '--no-summary', '--stream', '-'] }],
    ['command:["/opt/a b/scan","--x=1 2"]', { kind: 'command', argv: ['/opt/a b/scan', '--x=1 2'] }],
  ])('%s', (url, expected) => {
    expect(parseScannerUrl(url)).toMatchObject(expected);
  });

  it.each([
    ['', /empty/],
    ['clamd+unix://relative/clamd.ctl', /no host/],
    ['clamd://h:99999', /port|not a URL/],
    ['clamd://h/path', /no path/],
    ['icap://h:1344', /service name/],
    ['http://h/', /unknown scheme/],
    ['not a url', /not a URL/],
    ['command:', /needs the scanner command after the colon/],
    ['command:clamdscan "--stream"', /JSON array form/],
    ['command:[1,2]', /array of strings/],
    ['command:[', /not a JSON array/],
  ])('rejects %j with a usage error', (url, why) => {
    let err: unknown;
    try {
      createScanner(url);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UnsealError);
    expect((err as UnsealError).kind).toBe('usage');
    expect((err as UnsealError).message).toMatch(why);
  });

  it('bad timeout ⇒ usage error', () => {
    expect(() => createScanner('clamd://h', { timeoutMs: 0 })).toThrow(UnsealError);
  });

  it('passwords never reach url or error messages', () => {
    expect(createScanner('icap://user:hunter2@h/avscan').url).toBe('icap://h:1344/avscan');
    expect(redact('icaps://user:hunter2@h/avscan')).toBe('icaps://h/avscan');
    try {
      createScanner('icap://user:hunter2@h');
    } catch (e) {
      expect(String(e)).not.toContain('hunter2');
    }
  });

  it('shell-free words: no globbing, no variables', () => {
    expect(parseCommand('scan $HOME *.eml')).toEqual(['scan', '$HOME', '*.eml']);
  });
});

describe('icaps:// TLS options', () => {
  const t = (uri: string) => {
    const p = parseScannerUrl(uri);
    if (p.kind !== 'icap') throw new Error('not icap');
    return p.target;
  };
  it('plain icap has no TLS', () => {
    expect(icapTlsOptions(t('icap://h/avscan'))).toBeUndefined();
  });
  it('host name ⇒ SNI and verification on by default', () => {
    expect(icapTlsOptions(t('icaps://av.example.org/avscan'))).toEqual({ rejectUnauthorized: true, servername: 'av.example.org' });
  });
  it('IP literal ⇒ no SNI (RFC 6066)', () => {
    expect(icapTlsOptions(t('icaps://10.0.0.5:11344/avscan'))).toEqual({ rejectUnauthorized: true });
    expect(icapTlsOptions(t('icaps://[::1]/avscan'))).toEqual({ rejectUnauthorized: true });
  });
  it('CA, client cert and explicit overrides are passed through', () => {
    expect(icapTlsOptions(t('icaps://10.0.0.5/avscan'), { ca: 'CA', cert: 'C', key: 'K', servername: 'av.internal', rejectUnauthorized: false })).toEqual({
      rejectUnauthorized: false,
      servername: 'av.internal',
      ca: 'CA',
      cert: 'C',
      key: 'K',
    });
  });
  it('a TLS handshake failure (plain server behind icaps://) ⇒ unscanned, never clean', async () => {
    const { startFakeIcap } = await import('../../helpers/scanners/fake.js');
    const srv = await startFakeIcap({ respmod: () => 'ICAP/1.0 204 No Content\r\n\r\n' });
    try {
      const v = await createScanner(`icaps://127.0.0.1:${srv.port}/avscan`, { timeoutMs: 1000 }).scan(new Uint8Array(4));
      expect(v.verdict).toBe('unscanned');
    } finally {
      await srv.close();
    }
  });
});

describe('ICAP header parsing', () => {
  it('folding: continuation lines join the value and stay separate in lines[]', () => {
    const h = parseHeaderLines(['X-Violations-Found: 1', '\tfile.exe', '\tW32.Bad', ' 42', '\t0', 'ISTag: "abc"']);
    expect(h.get('x-violations-found')).toBe('1 file.exe W32.Bad 42 0');
    expect(h.all('X-Violations-Found')[0]!.lines).toEqual(['1', 'file.exe', 'W32.Bad', '42', '0']);
    expect(h.get('istag')).toBe('"abc"');
  });
  it('a continuation line without a header is an error', () => {
    expect(() => parseHeaderLines(['\torphan'])).toThrow(/continuation/);
  });
  it('X-Violations-Found with count 0 is not a detection', () => {
    expect(verdictFromHeaders(parseHeaderLines(['X-Violations-Found: 0']))).toEqual({ names: [], blocked: false });
  });
  it('X-Virus-ID "none" is not a detection', () => {
    expect(verdictFromHeaders(parseHeaderLines(['X-Virus-ID: none'])).blocked).toBe(false);
  });
  it('splitHeaderBlock accepts bare LF', () => {
    const { start, headers } = splitHeaderBlock('HTTP/1.1 403 Forbidden\nX-Virus-ID: A');
    expect(start).toBe('HTTP/1.1 403 Forbidden');
    expect(headers.get('X-Virus-ID')).toBe('A');
  });
});

describe('EICAR, zip and canary objects', () => {
  it('EICAR is the 68-byte standard test string', async () => {
    const e = eicarBytes();
    expect(e.length).toBe(68);
    const { createHash } = await import('node:crypto');
    // Published SHA-256 of the EICAR test file.
    expect(createHash('sha256').update(e).digest('hex')).toBe('275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f');
    expect(eicarHex()).toHaveLength(136);
  });

  it('crc32 matches zlib', () => {
    for (const s of ['', 'a', 'The quick brown fox', 'x'.repeat(100_000)]) {
      const b = new TextEncoder().encode(s);
      expect(crc32(b)).toBe(zlibCrc32(b));
    }
  });

  it('stored zip: entries readable back by a hand parse (local headers, CRC, central directory)', () => {
    const a = new TextEncoder().encode('hello');
    const z = Buffer.from(storedZip([{ name: 'a.txt', data: a }, { name: 'b.bin', data: eicarBytes() }]));
    expect(z.readUInt32LE(0)).toBe(0x04034b50);
    const eocd = z.length - 22;
    expect(z.readUInt32LE(eocd)).toBe(0x06054b50);
    expect(z.readUInt16LE(eocd + 10)).toBe(2);
    let cd = z.readUInt32LE(eocd + 16);
    const names: string[] = [];
    for (let i = 0; i < 2; i++) {
      expect(z.readUInt32LE(cd)).toBe(0x02014b50);
      const nlen = z.readUInt16LE(cd + 28);
      const off = z.readUInt32LE(cd + 42);
      const size = z.readUInt32LE(cd + 24);
      const name = z.subarray(cd + 46, cd + 46 + nlen).toString();
      names.push(name);
      const lnlen = z.readUInt16LE(off + 26);
      const data = z.subarray(off + 30 + lnlen, off + 30 + lnlen + size);
      expect(zlibCrc32(data)).toBe(z.readUInt32LE(cd + 16));
      cd += 46 + nlen;
    }
    expect(names).toEqual(['a.txt', 'b.bin']);
    expect(typeof inflateRawSync).toBe('function');
  });

  it('PDF canary: header, xref offsets point at their objects, payload is a whole stream', () => {
    const pdf = Buffer.from(pdfWithEmbedded('eicar.com', eicarBytes()));
    expect(pdf.subarray(0, 5).toString()).toBe('%PDF-');
    const text = pdf.toString('latin1');
    const xref = Number(/startxref\n(\d+)\n%%EOF\n$/.exec(text)![1]);
    expect(text.slice(xref, xref + 4)).toBe('xref');
    const offs = text.slice(xref).split('\n').slice(3, 8).map((l) => Number(l.slice(0, 10)));
    offs.forEach((o, i) => expect(text.slice(o, o + 8)).toBe(`${i + 1} 0 obj\n`));
    expect(pdf.includes(Buffer.concat([Buffer.from('stream\n'), Buffer.from(eicarBytes()), Buffer.from('\nendstream')]))).toBe(true);
  });

  it('canary set: EICAR last in the padded objects, past c-icap stock limits', () => {
    const cs = buildCanaries();
    expect(cs.map((c) => [c.name, c.expected])).toEqual([
      ['eicar-plain', 'infected'],
      ['eicar-padded', 'infected'],
      ['eicar-padded-3m', 'infected'],
      ['eicar-pdf', 'infected'],
      ['eicar-zip', 'infected'],
      ['eicar-mime', 'infected'],
      ['clean-control', 'clean'],
    ]);
    const padded = Buffer.from(cs[1]!.data);
    expect(padded.length).toBeGreaterThan(5 * 1024 * 1024);
    expect(padded.length).toBeGreaterThan(PADDED_CANARY_BYTES);
    const at = padded.indexOf(Buffer.from(eicarBytes()));
    expect(at).toBeGreaterThan(PADDED_CANARY_BYTES);
    const mid = Buffer.from(cs[2]!.data);
    expect(mid.length).toBeGreaterThan(2 * 1024 * 1024);
    expect(mid.length).toBeLessThan(5 * 1024 * 1024);
    const mime = Buffer.from(cs[5]!.data).toString();
    expect(mime).toContain(Buffer.from(eicarBytes()).toString('base64').slice(0, 76));
    expect(mime).not.toContain(Buffer.from(eicarBytes()).toString());
    expect(Buffer.from(cs[6]!.data).includes(Buffer.from(eicarBytes()))).toBe(false);
  });
});
