// @vitest-environment jsdom
/**
 * What each render model kind shows, and what it does not. Closed shadow roots are recorded by
 * spying on attachShadow, so the test can look inside the HTML body's own root.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { RenderModel } from '../../../src/protocol/render.js';
import { formatBytes, safeFilename } from '../../../src/display/attachments.js';
import { progressLine, renderModel, renderedBodyText, signatureLine, type RenderContext } from '../../../src/display/render.js';
import { LINK_ATTR } from '../../../src/display/sanitize.js';
import { messageKeys, recordShadowRoots, text } from './helpers.js';

type Clean = Extract<RenderModel, { kind: 'clean' }>;

const clean = (over: Partial<Clean> = {}): Clean => ({
  kind: 'clean',
  headers: { subject: 'Outer subject', from: 'alice@example.org', to: 'bob@example.org', date: 'Tue, 1 Dec 2026 10:00:00 +0000' },
  layers: [{ type: 'enveloped', algorithm: 'AES-256-CBC' }, { type: 'signed' }],
  signatures: [{ signatureValid: true, certificateStatus: 'valid', signer: 'Alice', email: 'alice@example.org', weakDigest: false }],
  body: { type: 'text', text: 'Hello Bob,\n  see https://example.org/x\nBye' },
  attachments: [],
  unprotectedParts: 0,
  keySource: 'unseal',
  scan: { engine: 'ClamAV 1.4.3', signatures: '27500' },
  warnings: [],
  ...over,
});

function setup() {
  const calls = { links: [] as string[], keys: 0, attachments: [] as number[] };
  const ctx: RenderContext = {
    doc: document,
    text,
    openLink: (u) => (calls.links.push(u), Promise.resolve()),
    openKeysPage: () => (calls.keys++, Promise.resolve()),
    requestAttachment: (i) => (calls.attachments.push(i), Promise.resolve({ filename: 'a.txt', contentType: 'text/plain', data: new Uint8Array([104, 105]) })),
  };
  return { ctx, calls };
}

let roots: ShadowRoot[];
beforeEach(() => {
  roots = recordShadowRoots();
  document.body.replaceChildren();
});
afterEach(() => vi.restoreAllMocks());

describe('render: clean', () => {
  it('text body: headers, security line, signature, body as text with no live links', () => {
    const { ctx } = setup();
    const r = renderModel(ctx, clean());
    document.body.append(r.root);
    const t = r.root.textContent ?? '';
    expect(t).toContain('Outer subject');
    expect(t).toContain('Encrypted with AES-256-CBC.');
    expect(t).toContain("Decrypted with a key from Unseal's key store.");
    expect(t).toContain('Scanned clean by ClamAV 1.4.3 (signatures 27500).');
    expect(t).toContain('Valid signature by Alice <alice@example.org>.');
    expect(r.body?.className).toContain('body-text');
    expect(r.body?.textContent).toBe('Hello Bob,\n  see https://example.org/x\nBye');
    expect(r.root.querySelector('a')).toBeNull();
    expect(r.root.querySelector('.protected-note')).toBeNull();
    expect(renderedBodyText(r.body)).toBe('Hello Bob, see https://example.org/x Bye');
    expect(r).toMatchObject({ kind: 'clean', attachmentCount: 0, blockedBanner: false, findingSignatures: [] });
  });

  it('prefers protected headers and marks them', () => {
    const { ctx } = setup();
    const r = renderModel(ctx, clean({ headers: { subject: '...', from: 'outer@example.org' }, protectedHeaders: { subject: 'Real subject' } }));
    const subject = r.root.querySelector('dd[data-field="subject"]');
    expect(subject?.textContent).toContain('Real subject');
    expect(subject?.getAttribute('data-protected')).toBe('true');
    expect(r.root.querySelector('dd[data-field="from"]')?.hasAttribute('data-protected')).toBe(false);
    expect(r.root.querySelector('.protected-note')?.textContent).toMatch(/Protected headers/);
    expect(r.root.textContent).not.toContain('...');
  });

  it('one signature line per signer, with every certificate status and SHA-1 flagged', () => {
    const { ctx } = setup();
    const r = renderModel(
      ctx,
      clean({
        signatures: [
          { signatureValid: false, certificateStatus: 'valid', signer: 'Mallory', weakDigest: false },
          { signatureValid: true, certificateStatus: 'expired', signer: 'Old', weakDigest: true, signingTime: '2020-01-01T00:00:00Z' },
          { signatureValid: true, certificateStatus: 'untrusted', email: 'x@example.org', weakDigest: false, detail: 'self-signed' },
          { signatureValid: true, certificateStatus: 'unknown-signer', weakDigest: false },
          { signatureValid: true, certificateStatus: 'not-yet-valid', signer: 'Future', weakDigest: false },
        ],
      }),
    );
    const items = Array.from(r.root.querySelectorAll('.signatures li'));
    expect(items.map((li) => li.getAttribute('data-status'))).toEqual(['invalid', 'problem', 'problem', 'problem', 'problem']);
    expect(items[0]?.textContent).toMatch(/INVALID signature/);
    expect(items[1]?.textContent).toMatch(/expired at signing time/);
    expect(items[1]?.textContent).toMatch(/SHA-1/);
    expect(items[2]?.textContent).toMatch(/not trusted.*self-signed/);
    expect(items[3]?.textContent).toMatch(/unknown signer/);
    expect(items[4]?.textContent).toMatch(/not yet valid/);
    expect(signatureLine(text, { signatureValid: true, certificateStatus: 'valid', weakDigest: false }).status).toBe('valid');
  });

  it('a good signature by someone other than the sender is shown as a problem, naming both', () => {
    const { ctx } = setup();
    const r = renderModel(ctx, clean({ signatures: [{ signatureValid: true, certificateStatus: 'valid', signer: 'Alice', email: 'alice@example.org', weakDigest: false, senderMismatch: true }], headers: { from: 'Bob <bob@example.org>' } }));
    const li = r.root.querySelector('.signatures li') as HTMLElement;
    expect(li.dataset['status']).toBe('problem');
    expect(li.dataset['sender']).toBe('mismatch');
    expect(li.textContent).toContain(text('signature_sender_mismatch', ['alice@example.org', 'Bob <bob@example.org>']));
  });

  it('shows "not signed", warnings, the Thunderbird key source and the unprotected-parts notice', () => {
    const { ctx } = setup();
    const r = renderModel(ctx, clean({ signatures: [], warnings: ['charset windows-1252 assumed'], keySource: 'thunderbird', unprotectedParts: 2, scan: { engine: 'c-icap' } }));
    const t = r.root.textContent ?? '';
    expect(t).toContain('Not signed.');
    expect(t).toContain('charset windows-1252 assumed');
    expect(t).toContain('Decrypted with a key held by Thunderbird.');
    expect(t).toContain('This message also contained 2 unencrypted part(s), not shown.');
    expect(t).toContain('Scanned clean by c-icap.');
  });

  it('html parts are sanitized one by one: an attribute left open in one part cannot take in the next part\'s text', () => {
    const { ctx } = setup();
    const parts = ['<p>first <a href="http://127.0.0.1:9/v?q=', '<p>STITCH-SECRET-MARKER second</p>'];
    const r = renderModel(ctx, clean({ body: { type: 'html', parts, text: 'first STITCH-SECRET-MARKER second' } }));
    document.body.append(r.root);
    const inner = roots.find((x) => x.host === r.root.querySelector('.body-html'))!;
    const shown = Array.from(inner.querySelectorAll('.message-part'));
    expect(shown).toHaveLength(2);
    expect(shown[1]!.textContent).toBe('STITCH-SECRET-MARKER second');
    for (const a of Array.from(inner.querySelectorAll(`[${LINK_ATTR}]`))) expect(a.getAttribute(LINK_ATTR)).not.toContain('STITCH');
    expect(r.body?.textContent).toContain('STITCH-SECRET-MARKER second');
  });

  it('html body: sanitized, in a closed shadow root of its own, links inert until confirmed', async () => {
    const { ctx, calls } = setup();
    const html = '<style>p{color:green}</style><p>Hi <a href="https://example.org/a?b=1">site</a> <a href="javascript:alert(1)">js</a> <a href="ftp://files.example/f">ftp</a><img src="http://evil.example/t.png"></p>';
    const r = renderModel(ctx, clean({ body: { type: 'html', parts: [html], text: 'Hi site js' } }));
    document.body.append(r.root);
    const host = r.root.querySelector('.body-html') as HTMLElement;
    expect(host).not.toBeNull();
    expect(host.shadowRoot).toBeNull(); // closed
    const inner = roots.find((x) => x.host === host)!;
    expect(inner.mode).toBe('closed');
    // The body never joins the document's own tree; nothing of it is in light DOM.
    expect(Array.from(document.querySelectorAll('p')).some((p) => p.textContent?.includes('Hi'))).toBe(false);
    expect(inner.querySelector('p')?.textContent).toContain('Hi');
    expect(r.root.querySelector('img')).toBeNull();
    expect(inner.querySelector('img')?.hasAttribute('src')).toBe(false);
    expect(r.body?.textContent).toContain('Hi site js');
    expect(calls.links).toEqual([]);
    const [site, js, ftp] = Array.from(inner.querySelectorAll('a'));
    expect(site?.hasAttribute('href')).toBe(false);
    expect(site?.getAttribute('title')).toBe('https://example.org/a?b=1');
    const bar = r.root.querySelector('.linkbar') as HTMLElement;
    expect(bar.hidden).toBe(true);
    const ev = new MouseEvent('click', { bubbles: true, cancelable: true, composed: true });
    site!.dispatchEvent(ev);
    expect(ev.defaultPrevented).toBe(true);
    expect(bar.hidden).toBe(false);
    expect(bar.querySelector('.url')?.textContent).toBe('https://example.org/a?b=1');
    expect(calls.links).toEqual([]); // one click only shows the target
    (bar.querySelector('button.open') as HTMLButtonElement).click();
    await Promise.resolve();
    expect(calls.links).toEqual(['https://example.org/a?b=1']);
    // javascript: loses its target altogether (DOMPurify's URI check): a click does nothing.
    expect(js?.hasAttribute(LINK_ATTR)).toBe(false);
    const jsClick = new MouseEvent('click', { bubbles: true, cancelable: true, composed: true });
    js!.dispatchEvent(jsClick);
    expect(jsClick.defaultPrevented).toBe(true);
    expect(bar.hidden).toBe(true);
    // Another scheme is shown but cannot be opened.
    ftp!.dispatchEvent(new MouseEvent('click', { bubbles: true, cancelable: true, composed: true }));
    expect(bar.querySelector('.url')?.textContent).toBe('ftp://files.example/f');
    expect((bar.querySelector('button.open') as HTMLButtonElement).hidden).toBe(true);
    expect(bar.textContent).toMatch(/only web/);
  });

  it('attachments: listed with name, type and size; Save asks for the bytes and downloads through <a download>', async () => {
    const { ctx, calls } = setup();
    const created: Blob[] = [];
    const clicks: { href: string; download: string }[] = [];
    Object.assign(URL, { createObjectURL: (b: Blob) => (created.push(b), 'blob:unseal/1'), revokeObjectURL: () => undefined });
    vi.spyOn(HTMLAnchorElement.prototype, 'click').mockImplementation(function (this: HTMLAnchorElement) {
      clicks.push({ href: this.getAttribute('href') ?? '', download: this.download });
    });
    const r = renderModel(ctx, clean({ attachments: [{ index: 0, filename: 'report.pdf', contentType: 'application/pdf', size: 12_400_000 }] }));
    document.body.append(r.root);
    expect(r.attachmentCount).toBe(1);
    const li = r.root.querySelector('.attachment')!;
    expect(li.textContent).toContain('report.pdf');
    expect(li.textContent).toContain('application/pdf · 12.4 MB');
    (li.querySelector('button[data-mode="save"]') as HTMLButtonElement).click();
    await new Promise((r2) => setTimeout(r2, 0));
    expect(calls.attachments).toEqual([0]);
    expect(clicks).toEqual([{ href: 'blob:unseal/1', download: 'a.txt' }]);
    expect(created[0]?.type).toBe('application/octet-stream');
    expect(li.querySelector('.status')?.textContent).toBe('Handed to the download.');
    expect(li.querySelector('a')).toBeNull(); // the temporary anchor is gone
  });
});

describe('render: no content for anything but clean', () => {
  it('infected: red blocked banner naming signature and part', () => {
    const { ctx } = setup();
    const r = renderModel(ctx, { kind: 'infected', engine: 'ClamAV 1.4.3', findings: [{ part: 'attachments/1 eicar.com', signature: 'Eicar-Test-Signature' }] });
    const b = r.root.querySelector('.banner.blocked')!;
    expect(b.getAttribute('role')).toBe('alert');
    expect(b.textContent).toContain('Blocked: this message contains malware');
    expect(b.textContent).toContain('Eicar-Test-Signature in attachments/1 eicar.com');
    expect(r.root.querySelector('.body, .attachments, .headers')).toBeNull();
    expect(r).toMatchObject({ kind: 'infected', blockedBanner: true, attachmentCount: 0, findingSignatures: ['Eicar-Test-Signature'] });
    expect(r.body).toBeUndefined();
  });

  it('unscanned: host missing says how to install it', () => {
    const { ctx } = setup();
    const r = renderModel(ctx, { kind: 'unscanned', reason: 'host_missing', message: 'native host unseal_host not found' });
    const t = r.root.textContent ?? '';
    expect(t).toContain('Not shown: the message could not be scanned');
    expect(t).toContain('not installed');
    expect(r.root.querySelector('code')?.textContent).toBe('unseal host install');
    expect(t).toContain('native host unseal_host not found');
    expect(r.root.querySelector('.body')).toBeNull();
    expect(r.blockedBanner).toBe(false);
  });

  it.each([
    ['unavailable', /not reachable/],
    ['timeout', /did not answer in time/],
    ['too_large', /larger than the scanner accepts/],
    ['misconfigured', /misconfigured/],
    ['host_error', /host failed/],
  ] as const)('unscanned %s explains what to do', (reason, re) => {
    const { ctx } = setup();
    const r = renderModel(ctx, { kind: 'unscanned', reason, message: '' });
    expect(r.root.querySelector('.what')?.textContent).toMatch(re);
    expect(r.root.querySelector('code')).toBeNull();
  });

  it('no-key: recipients and a button to the keys page', () => {
    const { ctx, calls } = setup();
    const r = renderModel(ctx, { kind: 'no-key', recipients: ['CN=Bob, serial 01', 'carol@example.org'] });
    expect(r.root.textContent).toContain('No key for this message');
    expect(Array.from(r.root.querySelectorAll('.recipients li'), (li) => li.textContent)).toEqual(['CN=Bob, serial 01', 'carol@example.org']);
    (r.root.querySelector('button.keys') as HTMLButtonElement).click();
    expect(calls.keys).toBe(1);
  });

  it('error: kind and message', () => {
    const { ctx } = setup();
    const r = renderModel(ctx, { kind: 'error', errorKind: 'internal', message: 'boom' });
    expect(r.root.querySelector('.banner.error')?.textContent).toContain('internal: boom');
    expect(r.kind).toBe('error');
  });
});

describe('render: small parts', () => {
  it('progress lines', () => {
    expect(progressLine(text, { type: 'progress', stage: 'decrypting', bytes: 12_400_000 })).toBe('Decrypting 12.4 MB…');
    expect(progressLine(text, { type: 'progress', stage: 'scanning' })).toBe('Scanning…');
    expect(progressLine(text, undefined)).toBe('Waiting for Unseal…');
  });

  it('formats sizes and cleans file names', () => {
    expect(formatBytes(999)).toBe('999 B');
    expect(formatBytes(1_500, 'en')).toBe('1.5 KB');
    expect(formatBytes(12_400_000, 'de')).toBe('12,4 MB');
    expect(safeFilename('../../etc/passwd')).toBe('_.._etc_passwd');
    expect(safeFilename('\u0000')).toBe('_');
    expect(safeFilename('')).toBe('attachment');
  });

  it('every string key the display uses exists in English and German', async () => {
    const { readFileSync } = await import('node:fs');
    const de = JSON.parse(readFileSync('src/_locales/de/messages.json', 'utf8')) as Record<string, unknown>;
    const src = ['render.ts', 'gate.ts', 'attachments.ts', 'view.ts'].map((f) => readFileSync(`src/display/${f}`, 'utf8')).join('\n');
    const used = new Set<string>();
    for (const m of src.matchAll(/text\('([a-z_]+)'/g)) used.add(m[1]!);
    for (const stage of ['reading', 'decrypting', 'verifying', 'scanning']) used.add(`progress_${stage}`).add(`progress_${stage}_size`);
    for (const f of ['subject', 'from', 'to', 'cc', 'date']) used.add(`header_${f}`);
    for (const w of ['disconnected', 'stalled', 'protocol']) used.add(`render_failed_${w}`);
    for (const m of src.matchAll(/'(unscanned_[a-z_]+|attachment_[a-z]+|link_[a-z]+)'/g)) used.add(m[1]!);
    const en = new Set(messageKeys());
    for (const k of used) {
      expect(en.has(k), `en: ${k}`).toBe(true);
      expect(k in de, `de: ${k}`).toBe(true);
    }
  });
});

it('the link target attribute name is what the renderer looks for', () => {
  expect(LINK_ATTR).toBe('data-unseal-href');
});
