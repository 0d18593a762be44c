import { afterEach, describe, expect, it } from 'vitest';
import { createScanner } from '../../../src/host/scanners/create.js';
import { icapResponse, startFakeIcap, type FakeIcapOptions, type FakeServer } from '../../helpers/scanners/fake.js';

const BODY = Buffer.from('Dear Bob, the attachment you asked for.\r\n'.repeat(50));
const HTTP_OK = 'HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream';

let server: FakeServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function scanWith(opts: FakeIcapOptions, body: Uint8Array = BODY, timeoutMs = 2000) {
  server = await startFakeIcap(opts);
  return createScanner(server.url(), { timeoutMs }).scan(body, { name: 'a.bin', contentType: 'application/pdf' });
}

describe('ICAP verdict profiles (fake servers)', () => {
  it('204 ⇒ clean; the request carries Allow: 204, Encapsulated offsets and the synthetic HTTP headers', async () => {
    const v = await scanWith({ respmod: () => 'ICAP/1.0 204 No Content\r\nISTag: "FAKE-1"\r\n\r\n' });
    expect(v).toMatchObject({ verdict: 'clean', engine: { engine: 'Fake ICAP 1.0', signatures: 'FAKE-1' } });
    const req = server!.requests[0]!;
    expect(req.method).toBe('RESPMOD');
    expect(req.headers['allow']).toBe('204');
    expect(req.head).toMatch(/^RESPMOD icap:\/\/127\.0\.0\.1:\d+\/avscan ICAP\/1\.0\r\n/);
    const enc = /^req-hdr=0, res-hdr=(\d+), res-body=(\d+)$/.exec(req.headers['encapsulated']!);
    expect(enc).not.toBeNull();
    expect(req.body.equals(BODY)).toBe(true);
    expect(req.previewUsed).toBe(false);
  });

  it('200-always server echoing a MODIFIED body (no verdict header) ⇒ not clean (engine_error)', async () => {
    const v = await scanWith({
      respmod: (r) => icapResponse('200 OK', [], HTTP_OK, Buffer.from(r.body.toString().replace('Bob', 'Eve'))),
    });
    expect(v).toMatchObject({ verdict: 'unscanned', reason: 'engine_error' });
    if (v.verdict === 'unscanned') expect(v.message).toMatch(/altered/);
  });

  it('200 echoing a truncated body ⇒ not clean (the c-icap SendPercentData trap)', async () => {
    const v = await scanWith({ respmod: (r) => icapResponse('200 OK', [], HTTP_OK, r.body.subarray(0, 100)) });
    expect(v).toMatchObject({ verdict: 'unscanned', reason: 'engine_error' });
    if (v.verdict === 'unscanned') expect(v.message).toMatch(/100 of 2050 bytes, truncated/);
  });

  it('200 echoing the identical body with no verdict header ⇒ clean (AVIRA/old KAV style)', async () => {
    const v = await scanWith({ respmod: (r) => icapResponse('200 OK', [], HTTP_OK, r.body) });
    expect(v.verdict).toBe('clean');
  });

  it('200 with null-body while a body was sent ⇒ not clean', async () => {
    const v = await scanWith({ respmod: () => icapResponse('200 OK', [], HTTP_OK) });
    expect(v).toMatchObject({ verdict: 'unscanned', reason: 'engine_error' });
  });

  it('200 replacing the body with a block page naming the virus ⇒ infected with that name', async () => {
    const v = await scanWith({
      respmod: () => icapResponse('200 OK', [], 'HTTP/1.1 200 OK\r\nContent-Type: text/html', '<html><b>Virus name:</b> W32.Test.Dropper</html>'),
    });
    expect(v).toMatchObject({ verdict: 'infected', signatures: ['W32.Test.Dropper'] });
  });

  it('c-icap: X-Infection-Found Threat= and folded X-Violations-Found ⇒ infected, one name', async () => {
    const v = await scanWith({
      respmod: () =>
        icapResponse(
          '200 OK',
          ['X-Infection-Found: Type=0; Resolution=2; Threat=Eicar-Test-Signature;', 'X-Violations-Found: 1', '\t-', '\tEicar-Test-Signature', '\t0', '\t0'],
          'HTTP/1.0 403 Forbidden\r\nContent-Type: text/html',
          '<html>VIRUS FOUND</html>',
        ),
    });
    expect(v).toMatchObject({ verdict: 'infected', signatures: ['Eicar-Test-Signature'] });
  });

  it('Symantec: 201 + folded X-Violations-Found with two violations ⇒ infected, both names', async () => {
    const v = await scanWith({
      respmod: () =>
        icapResponse(
          '201 Created',
          ['X-Violations-Found: 2', '\tinvoice.zip/a.exe', '\tW32.Evil.A', '\t11101', '\t0', '        invoice.zip/b.doc', '        W97M.Macro.B', '        11102', '        2'],
          'HTTP/1.1 403 Forbidden\r\nContent-Type: text/html',
          'blocked',
        ),
    });
    expect(v).toMatchObject({ verdict: 'infected', signatures: ['W32.Evil.A', 'W97M.Macro.B'] });
  });

  it('squidclamav: X-Virus-ID ⇒ infected', async () => {
    const v = await scanWith({
      respmod: () => icapResponse('200 OK', ['X-Virus-ID: Win.Test.EICAR_HDB-1'], 'HTTP/1.1 307 Temporary Redirect\r\nLocation: http://x/virus'),
    });
    expect(v).toMatchObject({ verdict: 'infected', signatures: ['Win.Test.EICAR_HDB-1'] });
  });

  it('McAfee/Kaspersky/Trend: encapsulated HTTP 403 without a verdict header ⇒ infected (name from the page)', async () => {
    const v = await scanWith({
      respmod: () =>
        icapResponse('200 OK', [], 'HTTP/1.1 403 VirusFound\r\nContent-Type: text/html', '<html>The file is infected with: EICAR test file</html>'),
    });
    expect(v).toMatchObject({ verdict: 'infected', signatures: ['EICAR'] });
    await server!.close();
    const v2 = await scanWith({ respmod: () => icapResponse('200 OK', [], 'HTTP/1.1 403 Forbidden', '<html>Access denied</html>') });
    expect(v2).toMatchObject({ verdict: 'infected', signatures: ['HTTP-403 Forbidden'] });
  });

  it('OPSWAT: X-Response-Info: Blocked + X-Blocked-Reason ⇒ infected with the reason', async () => {
    const v = await scanWith({
      respmod: () =>
        icapResponse('200 OK', ['X-Response-Info: Blocked', 'X-Blocked-Reason: Infected'], 'HTTP/1.1 403 Forbidden', 'Blocked by MetaDefender'),
    });
    expect(v).toMatchObject({ verdict: 'infected', signatures: ['Infected'] });
  });

  it('OPSWAT: X-Response-Info: Allowed on a 204 ⇒ clean', async () => {
    const v = await scanWith({ respmod: () => 'ICAP/1.0 204 No Content\r\nX-Response-Info: Allowed\r\n\r\n' });
    expect(v.verdict).toBe('clean');
  });

  it('a 204 that nevertheless carries an infection header ⇒ infected', async () => {
    const v = await scanWith({ respmod: () => 'ICAP/1.0 204 No Content\r\nX-Infection-Found: Type=0; Resolution=0; Threat=Odd.Server;\r\n\r\n' });
    expect(v).toMatchObject({ verdict: 'infected', signatures: ['Odd.Server'] });
  });

  it.each([
    ['500 Server Error', 'engine_error'],
    ['503 Service Unavailable', 'unavailable'],
    ['506 Server Too Busy', 'unavailable'],
    ['558 License Expired', 'misconfigured'],
    ['404 ICAP Service Not Found', 'misconfigured'],
    ['400 Bad Request', 'protocol_error'],
  ])('ICAP %s ⇒ unscanned %s', async (status, reason) => {
    const v = await scanWith({ respmod: () => `ICAP/1.0 ${status}\r\nEncapsulated: null-body=0\r\n\r\n` });
    expect(v).toMatchObject({ verdict: 'unscanned', reason });
    if (v.verdict === 'unscanned') expect(v.message).toContain(status.slice(0, 3));
  });

  it('garbage reply ⇒ unscanned protocol_error', async () => {
    const v = await scanWith({ respmod: () => 'HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n' });
    expect(v).toMatchObject({ verdict: 'unscanned', reason: 'protocol_error' });
    await server!.close();
    const v2 = await scanWith({ respmod: () => Buffer.from([0xde, 0xad, 0xbe, 0xef, 0x0a]) });
    expect(v2).toMatchObject({ verdict: 'unscanned', reason: 'protocol_error' });
  });

  it('malformed header line / bad Encapsulated / bad chunk size ⇒ protocol_error', async () => {
    for (const reply of [
      'ICAP/1.0 200 OK\r\nthis is not a header\r\n\r\n',
      'ICAP/1.0 200 OK\r\nEncapsulated: res-hdr=zero\r\n\r\n',
      'ICAP/1.0 200 OK\r\nEncapsulated: res-hdr=0, res-body=19\r\n\r\nHTTP/1.1 200 OK\r\n\r\nXYZ\r\n',
    ]) {
      const v = await scanWith({ respmod: () => reply });
      expect([reply, v.verdict === 'unscanned' && v.reason]).toEqual([reply, 'protocol_error']);
      await server!.close();
    }
  });

  it('server closing mid-headers ⇒ unscanned engine_error, never clean', async () => {
    const v = await scanWith({ respmod: () => ({ close: 'ICAP/1.0 204 No Con' }) });
    expect(v).toMatchObject({ verdict: 'unscanned', reason: 'engine_error' });
    await server!.close();
    const v2 = await scanWith({ respmod: () => ({ close: 'ICAP/1.0 200 OK\r\nEncapsulated: res-hdr=0, res-body=19\r\n\r\nHTTP/1.1 200 OK\r\n\r\n7d0\r\nDear' }) });
    expect(v2).toMatchObject({ verdict: 'unscanned', reason: 'engine_error' });
  });

  it('server that never answers ⇒ unscanned timeout within the budget', async () => {
    const t0 = Date.now();
    const v = await scanWith({ respmod: () => ({ hang: true }) }, BODY, 300);
    expect(v).toMatchObject({ verdict: 'unscanned', reason: 'timeout' });
    expect(Date.now() - t0).toBeLessThan(1500);
  });
});

describe('ICAP preview, OPTIONS and connection handling (fake servers)', () => {
  it('Preview 16: sends 16 bytes, gets 100 Continue, sends the rest; server sees the whole body', async () => {
    const v = await scanWith({ optionsHeaders: 'Preview: 16\r\n', respmod: () => 'ICAP/1.0 204 No Content\r\n\r\n' });
    expect(v.verdict).toBe('clean');
    const req = server!.requests[0]!;
    expect(req.headers['preview']).toBe('16');
    expect(req.body.equals(BODY)).toBe(true);
    expect(req.ieof).toBe(false);
  });

  it('Preview larger than the body ⇒ ieof; a stray 100 Continue after ieof is ignored', async () => {
    const small = Buffer.from('short');
    const v = await scanWith(
      { optionsHeaders: 'Preview: 1024\r\n', continueAfterIeof: true, respmod: () => 'ICAP/1.0 204 No Content\r\n\r\n' },
      small,
    );
    expect(v.verdict).toBe('clean');
    expect(server!.requests[0]!.ieof).toBe(true);
    expect(server!.requests[0]!.headers['preview']).toBe('5');
  });

  it('final verdict right after the preview (no 100) is honoured', async () => {
    const v = await scanWith({
      optionsHeaders: 'Preview: 8\r\n',
      onPreview: () => icapResponse('200 OK', ['X-Virus-ID: Early.Detect'], 'HTTP/1.1 403 Forbidden'),
      respmod: () => 'ICAP/1.0 204 No Content\r\n\r\n',
    });
    expect(v).toMatchObject({ verdict: 'infected', signatures: ['Early.Detect'] });
  });

  it('empty object with Preview ⇒ 0-byte preview with ieof', async () => {
    const v = await scanWith({ optionsHeaders: 'Preview: 1024\r\n', respmod: () => 'ICAP/1.0 204 No Content\r\n\r\n' }, new Uint8Array(0));
    expect(v.verdict).toBe('clean');
    expect(server!.requests[0]!.ieof).toBe(true);
  });

  it('OPTIONS cached per Options-TTL; an ISTag change in a response refreshes it and is reported', async () => {
    let tag = 'T1';
    server = await startFakeIcap({
      optionsHeaders: 'Options-TTL: 3600\r\n',
      get istag() {
        return tag;
      },
      respmod: () => `ICAP/1.0 204 No Content\r\nISTag: "${tag}"\r\n\r\n`,
    } as FakeIcapOptions);
    const s = createScanner(server.url());
    for (let i = 0; i < 3; i++) expect((await s.scan(BODY)).engine?.signatures).toBe('T1');
    expect(server.optionsCount).toBe(1);
    tag = 'T2';
    expect((await s.scan(BODY)).engine?.signatures).toBe('T2');
    expect((await s.engineInfo()).signatures).toBe('T2');
    expect(server.optionsCount).toBe(2);
  });

  it('Max-Connections 1 ⇒ concurrent scans are serialised', async () => {
    server = await startFakeIcap({ optionsHeaders: 'Max-Connections: 1\r\n', respmod: () => 'ICAP/1.0 204 No Content\r\n\r\n' });
    const s = createScanner(server.url());
    await s.engineInfo();
    const vs = await Promise.all(Array.from({ length: 6 }, () => s.scan(BODY)));
    expect(vs.every((v) => v.verdict === 'clean')).toBe(true);
    expect(server.maxConcurrent).toBe(1);
  });

  it('service without RESPMOD ⇒ unscanned misconfigured and ping explains', async () => {
    server = await startFakeIcap({
      optionsReply: 'ICAP/1.0 200 OK\r\nMethods: REQMOD\r\nISTag: "X"\r\nEncapsulated: null-body=0\r\n\r\n',
      respmod: () => 'ICAP/1.0 204 No Content\r\n\r\n',
    });
    const s = createScanner(server.url());
    expect(await s.scan(BODY)).toMatchObject({ verdict: 'unscanned', reason: 'misconfigured' });
    await expect(s.ping()).rejects.toThrow(/does not offer RESPMOD/);
  });

  it('OPTIONS answered with garbage ⇒ scan unscanned protocol_error, engineInfo throws io', async () => {
    server = await startFakeIcap({ optionsReply: 'SSH-2.0-OpenSSH_9.2\r\n', respmod: () => 'ICAP/1.0 204 No Content\r\n\r\n' });
    const s = createScanner(server.url());
    expect(await s.scan(BODY)).toMatchObject({ verdict: 'unscanned', reason: 'protocol_error' });
    await expect(s.engineInfo()).rejects.toMatchObject({ kind: 'io' });
  });

  it('URL credentials are sent as Basic auth and never appear in scanner.url', async () => {
    server = await startFakeIcap({ respmod: () => 'ICAP/1.0 204 No Content\r\n\r\n' });
    const s = createScanner(`icap://scan:s3cret@127.0.0.1:${server.port}/avscan`);
    expect(s.url).toBe(`icap://127.0.0.1:${server.port}/avscan`);
    expect((await s.scan(BODY)).verdict).toBe('clean');
    expect(server.requests[0]!.headers['authorization']).toBe(`Basic ${Buffer.from('scan:s3cret').toString('base64')}`);
  });
});
