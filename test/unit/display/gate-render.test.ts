// @vitest-environment jsdom
/**
 * The gate's second phase against a scripted channel: a held S/MIME message opens the render port,
 * progress keeps it waiting (the stall timer restarts on each message), a result is rendered and
 * reported; silence, a closed port or an invalid message fail closed with Thunderbird's content
 * still detached.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ANSWER_TIMEOUT_MS, Gate } from '../../../src/display/gate.js';
import { sha256Hex } from '../../../src/display/visible-text.js';
import type { RenderModel } from '../../../src/protocol/render.js';
import { fakeChannel, recordShadowRoots, thunderbirdSmimeBody, type FakeChannel } from './helpers.js';

const cleanModel: RenderModel = {
  kind: 'clean',
  headers: { subject: 'S', from: 'a@example.org' },
  layers: [{ type: 'enveloped', algorithm: 'AES-128-GCM' }],
  signatures: [],
  body: { type: 'text', text: 'decrypted   marker\ntext' },
  attachments: [{ index: 0, filename: 'a.bin', contentType: 'application/octet-stream', size: 3 }],
  unprotectedParts: 0,
  keySource: 'unseal',
  scan: { engine: 'ClamAV' },
  warnings: [],
};

let roots: ShadowRoot[];
const viewText = () => roots.map((r) => r.textContent ?? '').join(' ');

beforeEach(() => {
  vi.useFakeTimers();
  roots = recordShadowRoots();
  // A fresh <body> per test: earlier gates keep observing (and emptying) their own.
  document.documentElement.replaceChild(document.createElement('body'), document.body);
  thunderbirdSmimeBody(document, 'THUNDERBIRD CONTENT');
});
afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

async function heldGate(): Promise<{ ch: FakeChannel; done: Promise<void> }> {
  const ch = fakeChannel({ state: 'held', reason: 'smime-enveloped', messageId: 1 });
  const done = new Gate(document, ch).run();
  // Let classify + first report + openRender happen.
  await vi.advanceTimersByTimeAsync(0);
  return { ch, done };
}

const thunderbirdVisible = () => document.body.textContent?.includes('THUNDERBIRD CONTENT') ?? false;

describe('gate: render port', () => {
  it('reports the decision first, then opens the port for a held S/MIME message', async () => {
    const { ch } = await heldGate();
    expect(ch.reports).toHaveLength(1);
    expect(ch.reports[0]).toMatchObject({ state: 'held', reason: 'smime-enveloped', bodyHidden: true });
    expect(ch.reports[0]?.rendered).toBeUndefined();
    expect(ch.opened).toEqual([{ p7mAttachment: true }]);
    expect(viewText()).toContain('Waiting for Unseal…');
    expect(thunderbirdVisible()).toBe(false);
  });

  it('progress keeps the stall timer from firing; the result is rendered and reported', async () => {
    const { ch, done } = await heldGate();
    // 30 s of work, a progress message every 5 s: longer than the 8 s timeout in total.
    for (let i = 0; i < 6; i++) {
      await vi.advanceTimersByTimeAsync(5_000);
      ch.handlers!.onProgress({ type: 'progress', stage: i < 3 ? 'decrypting' : 'scanning', bytes: 12_400_000 });
    }
    expect(viewText()).toContain('Scanning 12.4 MB…');
    expect(ch.reports).toHaveLength(1);
    ch.handlers!.onResult(cleanModel);
    await done;
    expect(ch.reports).toHaveLength(2);
    const text = 'decrypted marker text';
    expect(ch.reports[1]).toMatchObject({
      state: 'held',
      rendered: 'clean',
      bodyHidden: true,
      thunderbirdContentVisible: false,
      renderedTextLength: text.length,
      renderedTextSha256: sha256Hex(text),
      attachmentCount: 1,
      blockedBanner: false,
      findingSignatures: [],
    });
    expect(viewText()).toContain('decrypted   marker');
    expect(thunderbirdVisible()).toBe(false);
    expect(ch.closed).toBe(0); // kept open for attachments
  });

  it('fails closed when nothing arrives for 8 s after the last progress', async () => {
    const { ch, done } = await heldGate();
    await vi.advanceTimersByTimeAsync(ANSWER_TIMEOUT_MS - 100);
    ch.handlers!.onProgress({ type: 'progress', stage: 'reading' });
    await vi.advanceTimersByTimeAsync(ANSWER_TIMEOUT_MS - 100);
    expect(ch.reports).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(200);
    await done;
    expect(ch.reports[1]).toMatchObject({ state: 'error', reason: 'background-timeout', rendered: 'failed', renderFailure: 'stalled', bodyHidden: true });
    expect(ch.closed).toBe(1);
    expect(viewText()).toContain('no progress for 8 seconds');
    expect(thunderbirdVisible()).toBe(false);
    // A late result after the failure changes nothing.
    ch.handlers!.onResult(cleanModel);
    await vi.advanceTimersByTimeAsync(0);
    expect(ch.reports).toHaveLength(2);
    expect(viewText()).not.toContain('decrypted');
  });

  it('fails closed when the port disconnects before a result', async () => {
    const { ch, done } = await heldGate();
    ch.handlers!.onProgress({ type: 'progress', stage: 'decrypting' });
    ch.handlers!.onDisconnect('disconnected', 'gone');
    await done;
    expect(ch.reports[1]).toMatchObject({ state: 'error', rendered: 'failed', renderFailure: 'disconnected' });
    expect(viewText()).toContain('stopped answering');
    expect(thunderbirdVisible()).toBe(false);
  });

  it('fails closed on a protocol error reported by the channel', async () => {
    const { ch, done } = await heldGate();
    ch.handlers!.onDisconnect('protocol', 'model must be an object');
    await done;
    expect(ch.reports[1]).toMatchObject({ rendered: 'failed', renderFailure: 'protocol' });
  });

  it('plain gives Thunderbird its content back', async () => {
    const { ch, done } = await heldGate();
    ch.handlers!.onResult({ kind: 'plain' });
    await done;
    expect(thunderbirdVisible()).toBe(true);
    expect(ch.reports[1]).toMatchObject({ state: 'plain', rendered: 'plain', bodyHidden: false });
    expect(document.querySelector('unseal-gate')).toBeNull();
  });

  it('infected: banner reported with finding names, port closed, nothing of the message shown', async () => {
    const { ch, done } = await heldGate();
    ch.handlers!.onResult({ kind: 'infected', engine: 'ClamAV', findings: [{ part: 'message', signature: 'Eicar-Test-Signature' }] });
    await done;
    expect(ch.reports[1]).toMatchObject({ rendered: 'infected', blockedBanner: true, findingSignatures: ['Eicar-Test-Signature'], renderedTextLength: 0, renderedTextSha256: '', attachmentCount: 0 });
    expect(ch.closed).toBe(1);
    expect(thunderbirdVisible()).toBe(false);
  });

  it('attachment bytes are requested over the port and matched to the button', async () => {
    const { ch, done } = await heldGate();
    ch.handlers!.onResult(cleanModel);
    await done;
    Object.assign(URL, { createObjectURL: () => 'blob:x', revokeObjectURL: () => undefined });
    const clicks: string[] = [];
    vi.spyOn(HTMLAnchorElement.prototype, 'click').mockImplementation(function (this: HTMLAnchorElement) {
      clicks.push(this.download);
    });
    const button = roots.flatMap((r) => Array.from(r.querySelectorAll('button[data-mode="open"]')))[0] as HTMLButtonElement;
    button.click();
    expect(ch.attachmentRequests).toEqual([0]);
    ch.handlers!.onAttachment({ type: 'attachment-data', index: 0, filename: 'a.bin', contentType: 'application/octet-stream', data: new Uint8Array([1, 2, 3]) });
    await vi.advanceTimersByTimeAsync(0);
    expect(clicks).toEqual(['a.bin']);
    // An error for the next request shows on the row.
    button.click();
    ch.handlers!.onAttachment({ type: 'attachment-error', index: 0, message: 'not available' });
    await vi.advanceTimersByTimeAsync(0);
    expect(viewText()).toContain('Failed: not available');
  });

  it('does not open the port when the message is held for a reason that has nothing to render', async () => {
    const ch = fakeChannel({ state: 'held', reason: 'no-displayed-message' });
    await new Gate(document, ch).run();
    expect(ch.opened).toEqual([]);
    expect(ch.reports).toHaveLength(1);
  });

  it('leaves a plain message alone and opens no port', async () => {
    document.body.replaceChildren(document.createTextNode('plain mail'));
    const ch = fakeChannel({ state: 'plain' });
    await new Gate(document, ch).run();
    expect(ch.opened).toEqual([]);
    expect(ch.reports).toEqual([expect.objectContaining({ state: 'plain', bodyHidden: false })]);
  });
});
