/**
 * NativeHostClient against a scripted fake port: the error paths that a real host produces only
 * rarely (disconnects, malformed replies, silence, version skew) and the client's own rules
 * (one hello per connection, windowed chunks, cancel on abort, backoff when the host is missing).
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { NativeHostClient, NativeHostError, type PortLike } from '../../../src/platform/native-host.js';
import type { ScanVerdict } from '../../../src/protocol/scan.js';

type Msg = { id: string; type: string; [k: string]: unknown };
type Handler = (m: Msg, port: FakePort) => void;

const ENGINE = { engine: 'ClamAV 1.4.3', signatures: '27531' };
const CANARY = { state: 'ok', missed: [], advice: [] };
const tick = () => new Promise((r) => setTimeout(r, 0));
async function until(cond: () => boolean, ms = 2_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not reached');
    await tick();
  }
}

class FakePort implements PortLike {
  readonly sent: Msg[] = [];
  private readonly messageListeners: ((m: unknown) => void)[] = [];
  private readonly disconnectListeners: ((p: { error?: { message: string } | null }) => void)[] = [];
  closed = false;
  closedByClient = false;
  error: { message: string } | null = null;
  readonly onMessage = { addListener: (f: (m: unknown) => void) => void this.messageListeners.push(f) };
  readonly onDisconnect = { addListener: (f: (p: { error?: { message: string } | null }) => void) => void this.disconnectListeners.push(f) };

  constructor(private readonly handler: Handler) {}

  postMessage(m: unknown): void {
    if (this.closed) throw new Error('Attempt to postMessage on disconnected port');
    // What Gecko does: the message is serialised as JSON for the host.
    const copy = JSON.parse(JSON.stringify(m)) as Msg;
    this.sent.push(copy);
    queueMicrotask(() => this.handler(copy, this));
  }

  disconnect(): void {
    this.closed = true;
    this.closedByClient = true;
  }

  /** The host writes a frame. */
  reply(m: unknown): void {
    if (this.closed) return;
    setTimeout(() => {
      if (!this.closed) for (const l of this.messageListeners) l(m);
    }, 0);
  }

  /** The host process goes away (or Thunderbird could not start it). */
  drop(error?: string): void {
    if (this.closed) return;
    this.closed = true;
    this.error = error ? { message: error } : null;
    setTimeout(() => {
      for (const l of this.disconnectListeners) l({ error: this.error });
    }, 0);
  }

  of(type: string): Msg[] {
    return this.sent.filter((m) => m.type === type);
  }
}

/** A well-behaved host; `override` may answer a request itself by returning true. */
function host(override: (m: Msg, port: FakePort) => boolean | void = () => false): Handler {
  const scans = new Map<string, { received: number }>();
  return (m, port) => {
    if (override(m, port)) return;
    switch (m.type) {
      case 'hello':
        return port.reply({ id: m.id, type: 'hello', host: '0.1.0', protocol: 1, scanner: 'clamd+unix:///run/clamd.ctl', engine: ENGINE, canary: CANARY });
      case 'health':
        return port.reply({ id: m.id, type: 'health', ok: true, scanner: 'clamd+unix:///run/clamd.ctl', reachable: true, engine: ENGINE, canary: CANARY });
      case 'scan.begin':
        scans.set(m['scanId'] as string, { received: 0 });
        return port.reply({ id: m.id, type: 'ack', scanId: m['scanId'], received: 0 });
      case 'scan.chunk': {
        const s = scans.get(m['scanId'] as string)!;
        s.received += Buffer.from(m['data'] as string, 'base64').length;
        return port.reply({ id: m.id, type: 'ack', scanId: m['scanId'], seq: m['seq'], received: s.received });
      }
      case 'scan.end':
        return port.reply({ id: m.id, type: 'scan.result', scanId: m['scanId'], verdict: { verdict: 'clean', engine: ENGINE, scannedParts: 1 } });
      case 'scan.cancel':
      case 'audit':
        return port.reply({ id: m.id, type: 'ack', ...(m.type === 'scan.cancel' ? { scanId: m['scanId'] } : {}) });
    }
  };
}

function setup(handler: Handler = host(), opts: Partial<ConstructorParameters<typeof NativeHostClient>[0]> = {}) {
  const ports: FakePort[] = [];
  const client = new NativeHostClient({
    connect: () => {
      const p = new FakePort(handler);
      ports.push(p);
      return p;
    },
    clientVersion: '0.1.0-test',
    ...opts,
  });
  return { client, ports, port: () => ports.at(-1)! };
}

const bytes = (n: number) => Uint8Array.from({ length: n }, (_, i) => (i * 7) & 0xff);

function expectUnscanned(v: ScanVerdict, reason: string, message?: RegExp) {
  expect(v.verdict).toBe('unscanned');
  if (v.verdict !== 'unscanned') return;
  expect(v.reason).toBe(reason);
  if (message) expect(v.message).toMatch(message);
}

describe('hello', () => {
  it('connects lazily, sends one hello per connection and returns the host info', async () => {
    const { client, ports } = setup();
    expect(ports).toHaveLength(0);
    const [a, b] = await Promise.all([client.hello(), client.hello()]);
    expect(a).toEqual({ hostVersion: '0.1.0', protocolVersion: 1, scanner: 'clamd+unix:///run/clamd.ctl', engine: ENGINE, canary: CANARY });
    expect(b).toEqual(a);
    await client.health();
    expect(ports).toHaveLength(1);
    expect(ports[0]!.of('hello')).toEqual([{ id: expect.any(String), type: 'hello', protocol: 1, client: '0.1.0-test' }]);
    expect(ports[0]!.sent[0]!.type).toBe('hello');
  });

  it('reports a host that refuses our protocol version as host_incompatible with both versions', async () => {
    const { client } = setup(
      host((m, port) => {
        if (m.type !== 'hello') return false;
        port.reply({ id: m.id, type: 'error', error: { kind: 'unsupported_version', message: 'this host speaks protocol 2, the add-on 1; install matching versions' } });
        return true;
      }),
    );
    const err = await client.hello().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NativeHostError);
    expect(err).toMatchObject({ kind: 'host_incompatible', detail: { hostProtocol: 2, clientProtocol: 1 } });
    expect((err as Error).message).toMatch(/protocol 2, this add-on protocol 1.*unseal host install/);
  });

  it('reports a hello reply with another protocol number as host_incompatible, and scans come back unscanned', async () => {
    const { client, ports } = setup(
      host((m, port) => {
        if (m.type !== 'hello') return false;
        port.reply({ id: m.id, type: 'hello', host: '9.0.0', protocol: 7, scanner: null, canary: CANARY });
        return true;
      }),
    );
    await expect(client.hello()).rejects.toMatchObject({ kind: 'host_incompatible', detail: { hostProtocol: 7, clientProtocol: 1 } });
    expect(ports[0]!.closedByClient).toBe(true);
    // Within the backoff the client does not reconnect; the scan fails fast with the same reason.
    expectUnscanned(await client.scan(bytes(10)), 'unavailable', /9\.0\.0 speaks protocol 7/);
    expect(ports).toHaveLength(1);
    expect(ports[0]!.of('scan.begin')).toHaveLength(0);
  });

  it('detects a missing host ("No such native application") with an actionable message, and backs off', async () => {
    let now = 1_000;
    const { client, ports } = setup(() => {}, { now: () => now, reconnectBackoff: { initialMs: 500, maxMs: 4_000 } });
    const first = client.hello();
    ports[0]!.drop('No such native application unseal_host');
    const err = await first.catch((e: unknown) => e);
    expect(err).toMatchObject({ kind: 'unavailable', detail: { notInstalled: true } });
    expect((err as Error).message).toMatch(/^Unseal's native host is not installed: run `unseal host install/);

    const v = await client.scan(bytes(100), { messageId: '<m@x>' });
    expectUnscanned(v, 'unavailable', /not installed: run `unseal host install/);
    expect(ports).toHaveLength(1); // no spin: still inside the backoff

    now += 501;
    const again = client.hello();
    expect(ports).toHaveLength(2);
    ports[1]!.drop('No such native application unseal_host');
    await expect(again).rejects.toMatchObject({ kind: 'unavailable' });
    now += 501; // second failure: the backoff doubled to 1 s
    await expect(client.hello()).rejects.toMatchObject({ kind: 'unavailable' });
    expect(ports).toHaveLength(2);
    now += 500;
    void client.hello().catch(() => {});
    expect(ports).toHaveLength(3);
  });

  it('treats a host that exits before answering hello as unavailable with the install hint', async () => {
    const { client, ports } = setup(() => {});
    const p = client.scan(bytes(10));
    // scan() hashes the plaintext (WebCrypto, async) before it connects: wait for the port.
    await until(() => ports.length > 0);
    ports[0]!.drop();
    expectUnscanned(await p, 'unavailable', /did not start or exited before answering\. If it is not installed, run `unseal host install/);
  });

  it('treats a connect() that throws as unavailable', async () => {
    const client = new NativeHostClient({
      connect: () => {
        throw new Error('browser.runtime.connectNative is not a function');
      },
      clientVersion: '1',
    });
    expectUnscanned(await client.scan(bytes(3)), 'unavailable', /connectNative is not a function/);
    await expect(client.health()).rejects.toMatchObject({ kind: 'unavailable' });
  });
});

describe('scan', () => {
  it('sends begin (size, sha256, meta), base64 chunks in order, end; reports progress; returns the verdict', async () => {
    const { client, port } = setup(host(), { chunkBytes: 1000 });
    const data = bytes(3500);
    const progress: [number, number][] = [];
    const v = await client.scan(data, { messageId: '<a@example.org>', folder: 'Inbox' }, { onProgress: (s, t) => progress.push([s, t]) });
    expect(v).toEqual({ verdict: 'clean', engine: ENGINE, scannedParts: 1 });
    const begin = port().of('scan.begin')[0]!;
    expect(begin).toMatchObject({ size: 3500, sha256: createHash('sha256').update(data).digest('hex'), meta: { messageId: '<a@example.org>', folder: 'Inbox' } });
    const chunks = port().of('scan.chunk');
    expect(chunks.map((c) => c['seq'])).toEqual([0, 1, 2, 3]);
    expect(chunks.every((c) => c['scanId'] === begin['scanId'])).toBe(true);
    expect(Buffer.concat(chunks.map((c) => Buffer.from(c['data'] as string, 'base64')))).toEqual(Buffer.from(data));
    expect(progress).toEqual([[0, 3500], [1000, 3500], [2000, 3500], [3000, 3500], [3500, 3500]]);
    expect(port().of('scan.end')).toHaveLength(1);
    expect(new Set(port().sent.map((m) => m.id)).size).toBe(port().sent.length);
  });

  it('scans an empty entity with begin and end only', async () => {
    const { client, port } = setup();
    expect((await client.scan(new Uint8Array(0))).verdict).toBe('clean');
    expect(port().of('scan.chunk')).toHaveLength(0);
    expect(port().of('scan.begin')[0]).toMatchObject({ size: 0 });
  });

  it('keeps at most `window` chunks unacknowledged', async () => {
    const held: Msg[] = [];
    const { client, port } = setup(
      host((m) => {
        if (m.type !== 'scan.chunk') return false;
        held.push(m);
        return true;
      }),
      { chunkBytes: 10, window: 3 },
    );
    let received = 0;
    const ackOne = () => {
      const m = held.shift()!;
      received += Buffer.from(m['data'] as string, 'base64').length;
      port().reply({ id: m.id, type: 'ack', scanId: m['scanId'], seq: m['seq'], received });
    };
    const p = client.scan(bytes(100));
    await until(() => port()?.of('scan.chunk').length === 3);
    await new Promise((r) => setTimeout(r, 10));
    expect(port().of('scan.chunk')).toHaveLength(3);
    ackOne();
    await until(() => port().of('scan.chunk').length === 4);
    while (port().of('scan.end').length === 0) {
      if (held.length) ackOne();
      await new Promise((r) => setTimeout(r, 1));
      expect(held.length).toBeLessThanOrEqual(3);
    }
    expect((await p).verdict).toBe('clean');
  });

  it('multiplexes concurrent scans on one port', async () => {
    const { client, ports } = setup(
      host((m, port) => {
        if (m.type !== 'scan.end') return false;
        // Infected for the 60-byte scan only: the verdicts must reach the right callers.
        const begin = ports[0]!.of('scan.begin').find((b) => b['scanId'] === m['scanId'])!;
        const infected = begin['size'] === 60;
        port.reply({
          id: m.id,
          type: 'scan.result',
          scanId: m['scanId'],
          verdict: infected ? { verdict: 'infected', engine: ENGINE, findings: [{ part: 'attachments/1 x.com', signature: 'Eicar' }] } : { verdict: 'clean', engine: ENGINE, scannedParts: 2 },
        });
        return true;
      }),
      { chunkBytes: 7 },
    );
    const [a, b, c] = await Promise.all([client.scan(bytes(50)), client.scan(bytes(60)), client.scan(bytes(70))]);
    expect([a.verdict, b.verdict, c.verdict]).toEqual(['clean', 'infected', 'clean']);
    expect(ports).toHaveLength(1);
    expect(ports[0]!.of('hello')).toHaveLength(1);
  });

  it('returns unscanned/unavailable for every pending call when the host disconnects mid-scan', async () => {
    const { client, ports } = setup(
      host((m) => m.type === 'scan.end' || m.type === 'health'), // both left hanging
    );
    const scan = client.scan(bytes(2000));
    const health = client.health();
    while (ports[0]?.of('scan.end').length !== 1) await tick();
    ports[0]!.drop('An unexpected error occurred');
    expectUnscanned(await scan, 'unavailable', /connection to Unseal's native host was lost.*An unexpected error occurred/);
    await expect(health).rejects.toMatchObject({ kind: 'unavailable' });
  });

  it('reconnects (with a new hello) on the next call after a disconnect', async () => {
    const { client, ports } = setup();
    expect((await client.scan(bytes(10))).verdict).toBe('clean');
    ports[0]!.drop();
    await tick();
    expect((await client.scan(bytes(10))).verdict).toBe('clean');
    expect(ports).toHaveLength(2);
    expect(ports[1]!.sent.map((m) => m.type)).toEqual(['hello', 'scan.begin', 'scan.chunk', 'scan.end']);
  });

  it('turns a malformed scan.result into protocol_error and cancels the scan', async () => {
    const { client, port } = setup(
      host((m, p) => {
        if (m.type !== 'scan.end') return false;
        // "clean" without the engine that says who decided it: refused by the guard.
        p.reply({ id: m.id, type: 'scan.result', scanId: m['scanId'], verdict: { verdict: 'clean', scannedParts: 1 } });
        return true;
      }),
    );
    expectUnscanned(await client.scan(bytes(10)), 'protocol_error', /malformed reply to scan\.end/);
    await tick();
    expect(port().of('scan.cancel')).toHaveLength(1);
    // The connection survives a reply it could correlate.
    expect(port().closed).toBe(false);
  });

  it('refuses a reply with an unknown field, and an ack whose byte count does not match', async () => {
    const extra = setup(
      host((m, p) => {
        if (m.type !== 'scan.end') return false;
        p.reply({ id: m.id, type: 'scan.result', scanId: m['scanId'], verdict: { verdict: 'clean', engine: ENGINE, scannedParts: 1 }, render: true });
        return true;
      }),
    );
    expectUnscanned(await extra.client.scan(bytes(10)), 'protocol_error');

    const short = setup(
      host((m, p) => {
        if (m.type !== 'scan.chunk') return false;
        p.reply({ id: m.id, type: 'ack', scanId: m['scanId'], seq: m['seq'], received: 1 });
        return true;
      }),
    );
    expectUnscanned(await short.client.scan(bytes(10)), 'protocol_error', /unexpected ack reply/);

    const wrongScan = setup(
      host((m, p) => {
        if (m.type !== 'scan.end') return false;
        p.reply({ id: m.id, type: 'scan.result', scanId: 'someone-else', verdict: { verdict: 'clean', engine: ENGINE, scannedParts: 1 } });
        return true;
      }),
    );
    expectUnscanned(await wrongScan.client.scan(bytes(10)), 'protocol_error', /scan someone-else/);
  });

  it('drops the connection and fails everything on a message it cannot correlate', async () => {
    const { client, ports } = setup(host((m) => m.type === 'scan.end'));
    const a = client.scan(bytes(10));
    const b = client.scan(bytes(10));
    while (ports[0]?.of('scan.end').length !== 2) await tick();
    ports[0]!.reply('{"not": "json object"}');
    expectUnscanned(await a, 'protocol_error', /malformed message/);
    expectUnscanned(await b, 'protocol_error');
    expect(ports[0]!.closedByClient).toBe(true);
    // A host that could not read a frame ({id: null}) is handled the same way.
    const c = client.scan(bytes(10));
    while (ports[1]?.of('scan.end').length !== 1) await tick();
    ports[1]!.reply({ id: null, type: 'error', error: { kind: 'bad_frame', message: 'not JSON' } });
    expectUnscanned(await c, 'protocol_error', /could not read a request \(bad_frame/);
  });

  it('times out a silent host: unscanned/timeout and a scan.cancel', async () => {
    const { client, port } = setup(host((m) => m.type === 'scan.end'), { scanTimeoutMs: 80 });
    const t0 = Date.now();
    expectUnscanned(await client.scan(bytes(10)), 'timeout', /no verdict within/);
    expect(Date.now() - t0).toBeLessThan(2_000);
    await tick();
    expect(port().of('scan.cancel')).toHaveLength(1);
  });

  it('times out an unacknowledged chunk with requestTimeoutMs', async () => {
    const { client } = setup(host((m) => m.type === 'scan.chunk'), { requestTimeoutMs: 50 });
    expectUnscanned(await client.scan(bytes(10)), 'timeout', /did not answer scan\.chunk/);
  });

  it('times out a hello and drops that connection', async () => {
    const { client, ports } = setup(() => {}, { requestTimeoutMs: 30, reconnectBackoff: { initialMs: 0, maxMs: 0 } });
    await expect(client.hello()).rejects.toMatchObject({ kind: 'timeout' });
    expect(ports[0]!.closedByClient).toBe(true);
  });

  it('ignores a late reply to a request that already timed out', async () => {
    let late: Msg | undefined;
    const { client, port } = setup(
      host((m) => {
        if (m.type !== 'health') return false;
        late = m;
        return true;
      }),
      { healthTimeoutMs: 30 },
    );
    await expect(client.health()).rejects.toMatchObject({ kind: 'timeout' });
    port().reply({ id: late!.id, type: 'health', ok: true, scanner: null, reachable: false, canary: CANARY });
    await tick();
    expect(port().closed).toBe(false);
    expect((await client.scan(bytes(5))).verdict).toBe('clean');
  });

  it('honours AbortSignal: scan.cancel is sent and the verdict is unscanned/cancelled', async () => {
    const { client, port } = setup(host((m) => m.type === 'scan.end'));
    const ac = new AbortController();
    const p = client.scan(bytes(100), {}, { signal: ac.signal });
    while (port()?.of('scan.end').length !== 1) await tick();
    ac.abort();
    expectUnscanned(await p, 'cancelled');
    await tick();
    const cancel = port().of('scan.cancel');
    expect(cancel).toEqual([{ id: expect.any(String), type: 'scan.cancel', scanId: port().of('scan.begin')[0]!['scanId'] }]);
  });

  it('does not connect at all for an already aborted signal', async () => {
    const { client, ports } = setup();
    const ac = new AbortController();
    ac.abort();
    expectUnscanned(await client.scan(bytes(10), {}, { signal: ac.signal }), 'cancelled');
    expect(ports).toHaveLength(0);
  });

  it('maps host error replies: busy ⇒ unavailable, too_large ⇒ too_large, integrity ⇒ protocol_error', async () => {
    const answer = (at: string, kind: string) =>
      setup(
        host((m, p) => {
          if (m.type !== at) return false;
          p.reply({ id: m.id, type: 'error', scanId: m['scanId'], error: { kind, message: `${kind} happened` } });
          return true;
        }),
      ).client;
    expectUnscanned(await answer('scan.begin', 'busy').scan(bytes(5)), 'unavailable', /busy with other scans.*busy happened/);
    expectUnscanned(await answer('scan.begin', 'too_large').scan(bytes(5)), 'too_large');
    expectUnscanned(await answer('scan.end', 'integrity').scan(bytes(5)), 'protocol_error', /refused the scan \(integrity\)/);
    expectUnscanned(await answer('scan.chunk', 'timeout').scan(bytes(5)), 'timeout');
  });

  it('passes the host\'s own unscanned verdicts through unchanged', async () => {
    const verdict = { verdict: 'unscanned', reason: 'misconfigured', message: 'the scanner missed test viruses' };
    const { client } = setup(
      host((m, p) => {
        if (m.type !== 'scan.end') return false;
        p.reply({ id: m.id, type: 'scan.result', scanId: m['scanId'], verdict });
        return true;
      }),
    );
    expect(await client.scan(bytes(5))).toEqual(verdict);
  });

  it('close() fails pending scans as cancelled; the next call reconnects', async () => {
    const { client, ports } = setup(host((m) => m.type === 'scan.end'));
    const p = client.scan(bytes(10));
    while (ports[0]?.of('scan.end').length !== 1) await tick();
    client.close();
    expectUnscanned(await p, 'cancelled');
    expect(ports[0]!.closedByClient).toBe(true);
    await client.hello();
    expect(ports).toHaveLength(2);
  });
});

describe('health and audit', () => {
  it('returns the health reply without envelope', async () => {
    const { client } = setup();
    expect(await client.health()).toEqual({ ok: true, scanner: 'clamd+unix:///run/clamd.ctl', reachable: true, engine: ENGINE, canary: CANARY });
  });

  it('audit resolves true on ack, false (never throws) when refused locally, by the host, or with no host', async () => {
    const { client, port } = setup();
    expect(await client.audit({ event: 'decrypted', messageId: '<a@x>', algorithm: 'aes256-CBC' })).toBe(true);
    expect(port().of('audit')[0]).toMatchObject({ event: { event: 'decrypted', messageId: '<a@x>' } });
    // A field the protocol does not allow is refused before it leaves the add-on.
    expect(await client.audit({ event: 'decrypted', body: 'secret' } as never)).toBe(false);
    expect(port().of('audit')).toHaveLength(1);

    const refusing = setup(
      host((m, p) => {
        if (m.type !== 'audit') return false;
        p.reply({ id: m.id, type: 'error', error: { kind: 'internal', message: 'disk full' } });
        return true;
      }),
    );
    expect(await refusing.client.audit({ event: 'key_deleted' })).toBe(false);

    const missing = setup(() => {});
    const a = missing.client.audit({ event: 'key_deleted' });
    await until(() => missing.ports.length > 0);
    missing.port().drop('No such native application unseal_host');
    expect(await a).toBe(false);
  });
});
