import { describe, expect, it } from 'vitest';
import { OpenedCache } from '../../../src/background/opened-cache.js';
import { blocked, type OpenedForDisplay } from '../../../src/background/render-model.js';
import { serveRenderPort } from '../../../src/background/render-session.js';
import type { RenderPort } from '../../../src/platform/render-port.js';
import type { BackgroundToDisplay, RenderModel } from '../../../src/protocol/render.js';

/** A scripted port: records what the background posts; the test plays the display script. */
function scriptedPort(tabId = 7, fromExtensionPage = false) {
  const posted: BackgroundToDisplay[] = [];
  let onMsg: (m: unknown) => void = () => {};
  let onDisc: () => void = () => {};
  let open = true;
  const port: RenderPort = {
    tabId,
    fromExtensionPage,
    post: (m) => void (open && posted.push(m)),
    onMessage: (f) => void (onMsg = f),
    onDisconnect: (f) => void (onDisc = f),
  };
  return { port, posted, send: (m: unknown) => onMsg(m), disconnect: () => ((open = false), onDisc()) };
}

const clean = (): OpenedForDisplay => ({
  model: { kind: 'clean', headers: {}, layers: [], signatures: [], body: { type: 'text', text: 'hi' }, attachments: [{ index: 0, filename: 'a.txt', contentType: 'text/plain', size: 1 }], unprotectedParts: 0, keySource: 'unseal', scan: { engine: 'ClamAV' }, warnings: [] },
  bytes: 1,
  attachment: (i) => (i === 0 ? { filename: 'a.txt', contentType: 'text/plain', data: new Uint8Array([65]) } : undefined),
});

const tick = () => new Promise((r) => setTimeout(r, 0));

describe('render session', () => {
  it('progress, then one result; attachments of a clean message', async () => {
    const s = scriptedPort();
    serveRenderPort(s.port, {
      displayed: async (t) => (t === 7 ? { id: 1 } : undefined),
      open: async (_m, o) => (o.onProgress?.('decrypting', 10), clean()),
    });
    s.send({ type: 'open', p7mAttachment: true });
    await tick();
    await tick();
    expect(s.posted.map((p) => p.type)).toEqual(['progress', 'result']);
    s.send({ type: 'attachment', index: 0 });
    await tick();
    expect(s.posted[2]).toMatchObject({ type: 'attachment-data', filename: 'a.txt' });
    s.send({ type: 'attachment', index: 5 });
    await tick();
    expect(s.posted[3]).toMatchObject({ type: 'attachment-error', index: 5 });
  });

  it('a stage that takes longer than the display\'s silence limit keeps the port alive with repeated progress, and stops after the result', async () => {
    const s = scriptedPort();
    let finish!: (v: OpenedForDisplay) => void;
    serveRenderPort(
      s.port,
      {
        displayed: async () => ({ id: 1 }),
        open: (_m, o) => (o.onProgress?.('scanning', 42), new Promise((r) => (finish = r))),
      },
      20,
    );
    s.send({ type: 'open', p7mAttachment: true });
    await new Promise((r) => setTimeout(r, 130));
    const beats = s.posted.filter((p) => p.type === 'progress');
    expect(beats.length).toBeGreaterThanOrEqual(3);
    expect(beats.every((p) => p.type === 'progress' && p.stage === 'scanning' && p.bytes === 42)).toBe(true);
    finish(clean());
    await tick();
    const n = s.posted.length;
    expect(s.posted.at(-1)).toMatchObject({ type: 'result' });
    await new Promise((r) => setTimeout(r, 80));
    expect(s.posted).toHaveLength(n);
  });

  it('a document that went away gets no late result, and its work is cancelled', async () => {
    const s = scriptedPort();
    let signal: AbortSignal | undefined;
    let finish!: (v: OpenedForDisplay) => void;
    serveRenderPort(s.port, {
      displayed: async () => ({ id: 1 }),
      open: (_m, o) => ((signal = o.signal), new Promise((r) => (finish = r))),
    });
    s.send({ type: 'open', p7mAttachment: true });
    await tick();
    s.disconnect();
    expect(signal?.aborted).toBe(true);
    finish(clean());
    await tick();
    expect(s.posted.filter((p) => p.type === 'result')).toEqual([]);
  });

  it('blocked messages never hand out attachment bytes', async () => {
    const s = scriptedPort();
    serveRenderPort(s.port, { displayed: async () => ({ id: 1 }), open: async () => blocked({ kind: 'infected', findings: [{ part: 'attachments/1 x.com', signature: 'Eicar' }], engine: 'ClamAV' }) });
    s.send({ type: 'open', p7mAttachment: true });
    await tick();
    await tick();
    s.send({ type: 'attachment', index: 0 });
    await tick();
    expect(s.posted.at(-1)).toMatchObject({ type: 'attachment-error' });
  });

  it('an exception becomes an error result (fail closed), and an unknown tab too', async () => {
    const s = scriptedPort();
    serveRenderPort(s.port, { displayed: async () => ({ id: 1 }), open: async () => { throw new Error('boom'); } });
    s.send({ type: 'open', p7mAttachment: true });
    await tick();
    await tick();
    expect(s.posted.at(-1)).toMatchObject({ type: 'result', model: { kind: 'error', message: 'boom' } });
    const u = scriptedPort();
    serveRenderPort(u.port, { displayed: async () => undefined, open: async () => clean() });
    u.send({ type: 'open', p7mAttachment: true });
    await tick();
    expect((u.posted[0] as { model: RenderModel }).model.kind).toBe('error');
  });
});

describe('render session: an explicitly named message (the Unseal viewer)', () => {
  const deps = (opened: number[]) => ({
    displayed: async (t: number | undefined) => (t === 7 ? { id: 1 } : undefined),
    byId: async (id: number) => (id === 42 || id === 0 ? { id, headerMessageId: `m${id}@x` } : undefined),
    open: async (m: { id: number }) => (opened.push(m.id), clean()),
  });

  it('an extension page may name the message; the tab is not asked', async () => {
    const s = scriptedPort(8, true);
    const opened: number[] = [];
    serveRenderPort(s.port, deps(opened));
    s.send({ type: 'open', p7mAttachment: false, messageId: 42 });
    await tick();
    await tick();
    expect(opened).toEqual([42]);
    expect((s.posted.at(-1) as { model: RenderModel }).model.kind).toBe('clean');
  });

  it('a display script cannot name another message: the id is ignored, its tab decides', async () => {
    const s = scriptedPort(7, false);
    const opened: number[] = [];
    serveRenderPort(s.port, deps(opened));
    s.send({ type: 'open', p7mAttachment: true, messageId: 42 });
    await tick();
    await tick();
    expect(opened).toEqual([1]);
  });

  it('an unknown or malformed id is an error result, never another message', async () => {
    for (const messageId of [99, -1, 1.5, '42']) {
      const s = scriptedPort(7, true);
      const opened: number[] = [];
      serveRenderPort(s.port, deps(opened));
      s.send({ type: 'open', p7mAttachment: false, messageId });
      await tick();
      await tick();
      if (messageId === 99) expect((s.posted.at(-1) as { model: RenderModel }).model).toMatchObject({ kind: 'error', errorKind: 'no_message' });
      // Malformed ids are not honoured: the port's own tab (7) decides, as for any port.
      else expect(opened).toEqual([1]);
      if (messageId === 99) expect(opened).toEqual([]);
    }
  });

  it('id 0 is a valid Thunderbird message id', async () => {
    const s = scriptedPort(8, true);
    const opened: number[] = [];
    serveRenderPort(s.port, deps(opened));
    s.send({ type: 'open', p7mAttachment: false, messageId: 0 });
    await tick();
    await tick();
    expect(opened).toEqual([0]);
  });
});

describe('opened cache', () => {
  it('keeps final verdicts only, bounded by count and bytes', () => {
    const c = new OpenedCache(2, 100);
    expect(c.set(1, blocked({ kind: 'unscanned', reason: 'timeout', message: '' }), 1)).toBe(false);
    expect(c.set(1, clean(), 10)).toBe(true);
    c.set(2, clean(), 10);
    c.get(1); // 1 is now most recent
    c.set(3, clean(), 10);
    expect(c.get(2)).toBeUndefined();
    expect(c.get(1)).toBeDefined();
    c.set(4, clean(), 95);
    expect(c.size).toBe(1);
    expect(c.set(5, clean(), 101)).toBe(false);
    c.clear();
    expect(c.size).toBe(0);
  });
});
