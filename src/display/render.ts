/**
 * Builds what the user sees for a held S/MIME message from the background's {@link RenderModel}.
 * DOM only through createElement/textContent; the single exception is the decrypted HTML body,
 * which enters as DOMPurify's DocumentFragment (src/display/sanitize.ts) into a closed shadow root
 * of its own, inside a container with paint containment, so neither its CSS nor its layout can
 * reach or cover Unseal's header, security and signature lines. Links in it are inert: a click
 * shows the full target and only a second, deliberate click on Unseal's own button opens it.
 * Content is shown only for `clean`; every other kind shows a banner and nothing of the message.
 */
import type { AttachmentSummary, HeaderSummary, ProgressMessage, RenderModel, ShownContent, SignatureSummary } from '../protocol/render.js';
import type { RenderedKind } from '../protocol/display.js';
import { OPENABLE_URL } from '../protocol/display.js';
import { attachmentList, formatBytes, type RequestAttachment } from './attachments.js';
import { ANCHOR_ATTR, LINK_ATTR, sanitizeHtml } from './sanitize.js';
import type { Text } from './view.js';
import { normalizeText } from './visible-text.js';

export interface RenderContext {
  readonly doc: Document;
  readonly text: Text;
  openLink(url: string): Promise<void>;
  openKeysPage(): Promise<void>;
  readonly requestAttachment: RequestAttachment;
  /** "Save decrypted copy" (only offered when the model carries `saveCopy`); resolves when saved. */
  saveDecryptedCopy?(): Promise<void>;
}

export interface Rendered {
  readonly root: HTMLElement;
  readonly kind: RenderedKind;
  /**
   * The element holding the message body's content (clean only): the text div, or the wrapper
   * inside the HTML body's closed shadow root. For the report's digest and for tests.
   */
  readonly body?: HTMLElement;
  readonly attachmentCount: number;
  readonly blockedBanner: boolean;
  readonly findingSignatures: readonly string[];
  /** A "Save decrypted copy" button is offered (policy decryptedCopies.mode = folder). */
  readonly saveCopyOffered?: boolean;
}

const STYLE = `
.unseal { font: 14px/1.45 system-ui, sans-serif; color: #1c1b22; margin: 12px 16px; }
.headers { border-bottom: 1px solid #d7d7db; padding-bottom: 8px; margin-bottom: 8px; }
.headers dl { display: grid; grid-template-columns: max-content 1fr; gap: 2px 12px; margin: 0; }
.headers dt { color: #5b5b66; }
.headers dd { margin: 0; overflow-wrap: anywhere; }
.headers .subject { font-weight: 600; }
.protected-note, .tag { font-size: 12px; color: #0a6640; }
.tag { margin-left: 6px; border: 1px solid #0a6640; border-radius: 3px; padding: 0 4px; }
.security, .signatures, .warnings, .unprotected { margin: 4px 0; padding: 6px 10px; border-radius: 4px; font-size: 13px; }
.security { background: #eef7f1; border: 1px solid #9ccfb0; }
.security p { margin: 0; }
.signatures { list-style: none; background: #f5f5f7; border: 1px solid #d7d7db; }
.signatures li[data-status="valid"] { color: #0a6640; }
.signatures li[data-status="invalid"], .signatures li[data-status="problem"] { color: #a4000f; font-weight: 600; }
.signatures .detail { display: block; font-weight: normal; color: #5b5b66; }
.warnings { list-style: none; background: #fff8e5; border: 1px solid #d7b600; }
.unprotected { background: #fff8e5; border: 1px solid #d7b600; }
.body { margin-top: 12px; }
.body-text { white-space: pre-wrap; overflow-wrap: anywhere; font: 13px/1.5 ui-monospace, monospace; }
.body-html { position: relative; contain: layout paint; isolation: isolate; overflow: auto; max-width: 100%; }
.attachments { margin-top: 12px; border-top: 1px solid #d7d7db; padding-top: 8px; }
.attachments h2 { font-size: 13px; margin: 0 0 4px; }
.attachments ul { list-style: none; margin: 0; padding: 0; }
.attachment { display: flex; gap: 8px; align-items: baseline; flex-wrap: wrap; padding: 2px 0; }
.attachment .name { font-weight: 600; overflow-wrap: anywhere; }
.attachment .meta, .attachment .status { color: #5b5b66; font-size: 12px; }
.banner { border-radius: 6px; padding: 16px 20px; max-width: 640px; border: 1px solid #c9c9d1; background: #f5f5f7; }
.banner h1 { font-size: 16px; margin: 0 0 8px; }
.banner p, .banner ul { margin: 4px 0; }
.banner .detail { color: #5b5b66; font-size: 12px; overflow-wrap: anywhere; }
.banner.blocked { border: 2px solid #a4000f; background: #fde8ea; color: #6b0010; }
.banner.blocked h1 { color: #a4000f; }
.banner.unscanned { border-color: #d7b600; background: #fff8e5; }
.banner.warning { margin-bottom: 8px; border-width: 2px; }
.save-copy { margin-top: 12px; }
.banner.error { border-color: #c50042; background: #fff0f3; }
.banner code { font: 13px ui-monospace, monospace; background: #fff; padding: 1px 4px; border-radius: 3px; }
.linkbar { position: fixed; left: 16px; right: 16px; bottom: 16px; z-index: 2147483647; background: #fff; color: #1c1b22;
  border: 2px solid #0060df; border-radius: 6px; padding: 10px 14px; box-shadow: 0 2px 12px rgba(0,0,0,.25); font: 13px/1.4 system-ui, sans-serif; }
.linkbar .url { display: block; font: 13px ui-monospace, monospace; overflow-wrap: anywhere; margin: 4px 0 8px; user-select: all; }
.linkbar button, .banner button, .attachment button { font: inherit; font-size: 13px; }
`;

/** CSS inside the HTML body's own shadow root: a readable default, and inert-looking links. */
const BODY_CSS = `
.message-body { font: 14px/1.45 system-ui, sans-serif; color: #1c1b22; overflow-wrap: anywhere; }
a[${LINK_ATTR}], a[${ANCHOR_ATTR}] { color: #0060df; text-decoration: underline; cursor: pointer; }
img { max-width: 100%; height: auto; }
`;

function el<K extends keyof HTMLElementTagNameMap>(doc: Document, tag: K, className?: string, text?: string): HTMLElementTagNameMap[K] {
  const e = doc.createElement(tag);
  if (className) e.className = className;
  if (text !== undefined) e.textContent = text;
  return e;
}

function uiLocale(text: Text): string | undefined {
  const l = text('@@ui_locale');
  return /^[a-z]{2,3}([_-][A-Za-z0-9]{2,8})*$/.test(l) ? l.replace(/_/g, '-') : undefined;
}

/** "Decrypting 12.4 MB…", "Scanning…" */
export function progressLine(text: Text, p: ProgressMessage | undefined): string {
  if (!p) return text('progress_waiting');
  if (p.bytes !== undefined && p.bytes > 0) return text(`progress_${p.stage}_size`, [formatBytes(p.bytes, uiLocale(text))]);
  return text(`progress_${p.stage}`);
}

// ---- clean ----

const HEADER_FIELDS = ['subject', 'from', 'to', 'cc', 'date'] as const;

function headerBlock(doc: Document, text: Text, outer: HeaderSummary, inner: HeaderSummary | undefined): HTMLElement {
  const section = el(doc, 'section', 'headers');
  const dl = el(doc, 'dl');
  for (const f of HEADER_FIELDS) {
    const fromInner = inner?.[f];
    const value = fromInner ?? outer[f];
    if (value === undefined || value === '') continue;
    const dt = el(doc, 'dt', undefined, text(`header_${f}`));
    const dd = el(doc, 'dd', f === 'subject' ? 'subject' : undefined, value);
    dd.dataset['field'] = f;
    if (fromInner !== undefined) {
      dd.dataset['protected'] = 'true';
      dd.append(el(doc, 'span', 'tag', text('header_protected_tag')));
    }
    dl.append(dt, dd);
  }
  section.append(dl);
  if (inner) section.append(el(doc, 'p', 'protected-note', text('headers_protected_note')));
  return section;
}

type Shown = Extract<RenderModel, { kind: 'clean' | 'unscanned-allowed' }>;

function securityBlock(doc: Document, text: Text, m: ShownContent & { scan?: { engine: string; signatures?: string } }): HTMLElement {
  const box = el(doc, 'div', 'security');
  box.setAttribute('role', 'note');
  const enc = m.layers.find((l) => l.type !== 'signed');
  const parts: string[] = [];
  if (enc) parts.push(enc.algorithm ? text('security_encrypted', [enc.algorithm]) : text('security_encrypted_unknown'));
  else parts.push(text('security_not_encrypted'));
  parts.push(
    m.keySource === 'thunderbird'
      ? text('security_key_thunderbird')
      : m.keySource === 'managed'
        ? m.keyLabel
          ? text('security_key_managed_label', [m.keyLabel])
          : text('security_key_managed')
        : m.keyLabel
          ? text('security_key_unseal_label', [m.keyLabel])
          : text('security_key_unseal'),
  );
  if (m.scan) parts.push(m.scan.signatures ? text('security_scanned_sigs', [m.scan.engine, m.scan.signatures]) : text('security_scanned', [m.scan.engine]));
  else parts.push(text('security_not_scanned'));
  for (const p of parts) box.append(el(doc, 'p', undefined, p));
  return box;
}

/** One line per signer; 'valid' only when the signature AND the certificate check out. */
export function signatureLine(text: Text, s: SignatureSummary): { status: 'valid' | 'invalid' | 'problem'; line: string } {
  const who = [s.signer, s.email ? `<${s.email}>` : undefined].filter((x) => x).join(' ') || text('signature_unknown_name');
  if (!s.signatureValid) return { status: 'invalid', line: text('signature_invalid', [who]) };
  switch (s.certificateStatus) {
    case 'valid':
      return { status: 'valid', line: text('signature_valid', [who]) };
    case 'expired':
      return { status: 'problem', line: text('signature_expired', [who]) };
    case 'not-yet-valid':
      return { status: 'problem', line: text('signature_not_yet_valid', [who]) };
    case 'untrusted':
      return { status: 'problem', line: text('signature_untrusted', [who]) };
    case 'unknown-signer':
      return { status: 'problem', line: text('signature_unknown_signer') };
  }
}

function signatureBlock(doc: Document, text: Text, sigs: readonly SignatureSummary[], from: string | undefined): HTMLElement {
  const ul = el(doc, 'ul', 'signatures');
  if (sigs.length === 0) {
    const li = el(doc, 'li', undefined, text('signature_none'));
    li.dataset['status'] = 'none';
    ul.append(li);
    return ul;
  }
  for (const s of sigs) {
    const { status, line } = signatureLine(text, s);
    const li = el(doc, 'li', undefined, line);
    // A good signature by someone else than the named sender is a problem, as in Thunderbird.
    li.dataset['status'] = status === 'valid' && s.senderMismatch ? 'problem' : status;
    if (s.weakDigest) li.append(el(doc, 'span', 'detail', text('signature_weak_digest')));
    if (s.senderMismatch) {
      // Valid, but by someone other than the sender the message names: say so next to the signer.
      li.dataset['sender'] = 'mismatch';
      li.append(el(doc, 'span', 'detail warning', text('signature_sender_mismatch', [s.email ?? text('signature_unknown_name'), from ?? '?'])));
    }
    if (s.signingTime) li.append(el(doc, 'span', 'detail', text('signature_signed_at', [s.signingTime])));
    if (s.detail) li.append(el(doc, 'span', 'detail', s.detail));
    ul.append(li);
  }
  return ul;
}

/** The confirmation bar for a clicked link: full target, and a button that opens it. */
class LinkBar {
  readonly element: HTMLDivElement;
  private readonly url: HTMLSpanElement;
  private readonly note: HTMLParagraphElement;
  private readonly open: HTMLButtonElement;
  private target = '';

  constructor(
    private readonly doc: Document,
    private readonly ctx: RenderContext,
  ) {
    const t = ctx.text;
    this.element = el(doc, 'div', 'linkbar');
    this.element.setAttribute('role', 'dialog');
    this.element.setAttribute('aria-label', t('link_title'));
    this.element.hidden = true;
    this.url = el(doc, 'span', 'url');
    this.note = el(doc, 'p', 'note');
    this.open = el(doc, 'button', 'open', t('link_open'));
    this.open.type = 'button';
    const cancel = el(doc, 'button', 'cancel', t('link_cancel'));
    cancel.type = 'button';
    this.open.addEventListener('click', () => {
      const url = this.target;
      ctx.openLink(url).then(
        () => this.hide(),
        (e: unknown) => (this.note.textContent = t('link_failed', [e instanceof Error ? e.message : String(e)])),
      );
    });
    cancel.addEventListener('click', () => this.hide());
    this.element.append(el(doc, 'strong', undefined, t('link_title')), this.url, this.note, this.open, doc.createTextNode(' '), cancel);
  }

  show(raw: string): void {
    let shown = raw;
    try {
      // The parsed form: punycode host, percent-encoding made visible.
      shown = new URL(raw).href;
    } catch {
      // not a URL at all: shown as written, and not openable
    }
    this.target = shown;
    this.url.textContent = shown;
    const openable = OPENABLE_URL.test(shown);
    this.open.hidden = !openable;
    this.note.textContent = openable ? '' : this.ctx.text('link_not_openable');
    this.element.hidden = false;
    (openable ? this.open : this.element).focus?.();
  }

  hide(): void {
    this.element.hidden = true;
    this.target = '';
  }
}

function textBody(doc: Document, s: string): HTMLElement {
  // Plain text stays text: no auto-linking, Thunderbird's linkifier never sees it.
  return el(doc, 'div', 'body body-text', s);
}

function htmlBody(ctx: RenderContext, parts: readonly string[], links: LinkBar): { host: HTMLElement; content: HTMLElement } {
  const { doc } = ctx;
  const win = doc.defaultView;
  if (!win) throw new Error('no window');
  const host = el(doc, 'div', 'body body-html');
  const root = host.attachShadow({ mode: 'closed' });
  const style = el(doc, 'style', undefined, BODY_CSS);
  const wrapper = el(doc, 'div', 'message-body');
  // Each part parsed and sanitized on its own: markup left open at the end of one part (an
  // unclosed attribute, a comment) cannot take in the text of the next.
  for (const html of parts) {
    const part = el(doc, 'div', 'message-part');
    part.append(sanitizeHtml(html, win as unknown as Parameters<typeof sanitizeHtml>[1]));
    wrapper.append(part);
  }
  for (const a of Array.from(wrapper.querySelectorAll(`[${LINK_ATTR}]`))) {
    a.setAttribute('role', 'link');
    a.setAttribute('tabindex', '0');
    // The real target, whatever the message's own title said.
    a.setAttribute('title', a.getAttribute(LINK_ATTR) ?? '');
  }
  for (const a of Array.from(wrapper.querySelectorAll(`[${ANCHOR_ATTR}]`))) a.setAttribute('tabindex', '0');
  const activate = (e: Event) => {
    const path = e.composedPath();
    for (const t of path) {
      if (t === wrapper) break;
      if (typeof (t as Element).getAttribute !== 'function') continue;
      const href = (t as Element).getAttribute(LINK_ATTR);
      if (href !== null) {
        links.show(href);
        return true;
      }
      const anchor = (t as Element).getAttribute(ANCHOR_ATTR);
      if (anchor !== null) {
        const target = wrapper.querySelector(`[id="user-content-${CSS.escape(anchor)}"], [name="user-content-${CSS.escape(anchor)}"], [id="${CSS.escape(anchor)}"]`);
        target?.scrollIntoView?.();
        return true;
      }
    }
    return false;
  };
  // Nothing in the body navigates on its own: every click is ours to interpret.
  root.addEventListener('click', (e) => {
    e.preventDefault();
    activate(e);
  });
  root.addEventListener('auxclick', (e) => e.preventDefault());
  root.addEventListener('keydown', (e) => {
    if ((e as KeyboardEvent).key === 'Enter' && activate(e)) e.preventDefault();
  });
  root.append(style, wrapper);
  return { host, content: wrapper };
}

function renderClean(ctx: RenderContext, m: Shown, root: HTMLElement): Rendered {
  const { doc, text } = ctx;
  const links = new LinkBar(doc, ctx);
  if (m.kind === 'unscanned-allowed') {
    // Warn mode: the admin allowed unscanned mail to be shown; say so above everything else.
    const b = banner(doc, 'unscanned warning', text('unscanned_allowed_title'));
    b.append(el(doc, 'p', 'what', text(UNSCANNED_KEYS[m.unscanned.reason])));
    if (m.unscanned.message) b.append(el(doc, 'p', 'detail', m.unscanned.message));
    b.append(el(doc, 'p', undefined, text('unscanned_allowed_detail')));
    root.append(b);
  }
  root.append(headerBlock(doc, text, m.headers, m.protectedHeaders), securityBlock(doc, text, m), signatureBlock(doc, text, m.signatures, m.protectedHeaders?.from ?? m.headers.from));
  if (m.warnings.length > 0) {
    const ul = el(doc, 'ul', 'warnings');
    for (const w of m.warnings) ul.append(el(doc, 'li', undefined, w));
    root.append(ul);
  }
  if (m.unprotectedParts > 0) root.append(el(doc, 'p', 'unprotected', text('unprotected_parts', [String(m.unprotectedParts)])));
  let body: HTMLElement;
  if (m.body.type === 'html') {
    try {
      const h = htmlBody(ctx, m.body.parts, links);
      root.append(h.host);
      body = h.content;
    } catch {
      // DOMPurify unavailable: the text alternative, never unsanitized HTML.
      root.append(el(doc, 'p', 'unprotected', text('html_fallback_text')));
      body = textBody(doc, m.body.text);
      root.append(body);
    }
  } else {
    body = textBody(doc, m.body.text);
    root.append(body);
  }
  if (m.attachments.length > 0) root.append(attachmentList(doc, text, m.attachments as AttachmentSummary[], ctx.requestAttachment, uiLocale(text)));
  const saveCopyOffered = m.kind === 'clean' && m.saveCopy !== undefined && ctx.saveDecryptedCopy !== undefined;
  if (saveCopyOffered) root.append(saveCopyBlock(ctx, m.saveCopy!.folder));
  root.append(links.element);
  return { root, kind: m.kind, body, attachmentCount: m.attachments.length, blockedBanner: false, findingSignatures: [], saveCopyOffered };
}

/** "Save decrypted copy": the background imports the scanned plaintext into the policy's folder. */
function saveCopyBlock(ctx: RenderContext, folder: string): HTMLElement {
  const { doc, text } = ctx;
  const p = el(doc, 'p', 'save-copy');
  const button = el(doc, 'button', 'save-copy', text('save_copy_button', [folder]));
  button.type = 'button';
  const status = el(doc, 'span', 'detail');
  status.setAttribute('role', 'status');
  button.addEventListener('click', () => {
    button.disabled = true;
    status.textContent = text('save_copy_saving');
    ctx.saveDecryptedCopy!().then(
      () => {
        status.textContent = text('save_copy_saved', [folder]);
        status.dataset['state'] = 'saved';
      },
      (e: unknown) => {
        button.disabled = false;
        status.textContent = text('save_copy_failed', [e instanceof Error ? e.message : String(e)]);
        status.dataset['state'] = 'failed';
      },
    );
  });
  p.append(button, doc.createTextNode(' '), status);
  return p;
}

// ---- banners ----

function banner(doc: Document, cls: string, title: string): HTMLElement {
  const b = el(doc, 'div', `banner ${cls}`);
  b.setAttribute('role', cls === 'blocked' ? 'alert' : 'status');
  b.append(el(doc, 'h1', undefined, title));
  return b;
}

const UNSCANNED_KEYS: Record<Extract<RenderModel, { kind: 'unscanned' }>['reason'], string> = {
  host_missing: 'unscanned_host_missing',
  host_error: 'unscanned_host_error',
  unavailable: 'unscanned_unavailable',
  timeout: 'unscanned_timeout',
  too_large: 'unscanned_too_large',
  engine_error: 'unscanned_engine_error',
  misconfigured: 'unscanned_misconfigured',
  cancelled: 'unscanned_cancelled',
  protocol_error: 'unscanned_protocol_error',
  not_scannable: 'unscanned_not_scannable',
};

/** Builds the view for `model` (not `plain`: the gate gives Thunderbird's content back for that). */
export function renderModel(ctx: RenderContext, model: Exclude<RenderModel, { kind: 'plain' }>): Rendered {
  const { doc, text } = ctx;
  const root = el(doc, 'div', 'unseal');
  root.dataset['kind'] = model.kind;
  root.append(el(doc, 'style', undefined, STYLE));
  const none = { attachmentCount: 0, blockedBanner: false, findingSignatures: [] as string[] };
  switch (model.kind) {
    case 'clean':
    case 'unscanned-allowed':
      return renderClean(ctx, model, root);
    case 'infected': {
      const b = banner(doc, 'blocked', text('infected_title'));
      b.append(el(doc, 'p', undefined, text('infected_detail', [model.engine])));
      const ul = el(doc, 'ul', 'findings');
      for (const f of model.findings) {
        const li = el(doc, 'li', undefined, text('infected_finding', [f.signature, f.part]));
        li.dataset['signature'] = f.signature;
        ul.append(li);
      }
      b.append(ul, el(doc, 'p', undefined, text('infected_nothing_shown')));
      root.append(b);
      return { root, kind: 'infected', ...none, blockedBanner: true, findingSignatures: model.findings.map((f) => f.signature) };
    }
    case 'unscanned': {
      const b = banner(doc, 'unscanned', text('unscanned_title'));
      const what = el(doc, 'p', 'what', text(UNSCANNED_KEYS[model.reason]));
      b.append(what);
      if (model.reason === 'host_missing') {
        const p = el(doc, 'p', 'command');
        p.append(doc.createTextNode(text('unscanned_install_command')), doc.createTextNode(' '), el(doc, 'code', undefined, 'unseal host install'));
        b.append(p);
      }
      if (model.message) b.append(el(doc, 'p', 'detail', model.message));
      b.append(el(doc, 'p', undefined, text('unscanned_nothing_shown')));
      root.append(b);
      return { root, kind: 'unscanned', ...none };
    }
    case 'locked': {
      const b = banner(doc, 'locked', text('locked_title'));
      b.append(el(doc, 'p', undefined, text('locked_detail')));
      const button = el(doc, 'button', 'keys unlock', text('locked_unlock'));
      button.type = 'button';
      const status = el(doc, 'p', 'detail');
      button.addEventListener('click', () => {
        ctx.openKeysPage().catch((e: unknown) => (status.textContent = e instanceof Error ? e.message : String(e)));
      });
      b.append(button, status);
      root.append(b);
      return { root, kind: 'locked', ...none };
    }
    case 'no-key': {
      const b = banner(doc, 'no-key', text('nokey_title'));
      if (model.recipients.length > 0) {
        b.append(el(doc, 'p', undefined, text('nokey_recipients')));
        const ul = el(doc, 'ul', 'recipients');
        for (const r of model.recipients) ul.append(el(doc, 'li', undefined, r));
        b.append(ul);
      } else {
        b.append(el(doc, 'p', undefined, text('nokey_no_recipients')));
      }
      b.append(el(doc, 'p', undefined, text('nokey_howto')));
      const button = el(doc, 'button', 'keys', text('nokey_open_keys'));
      button.type = 'button';
      const status = el(doc, 'p', 'detail');
      button.addEventListener('click', () => {
        ctx.openKeysPage().catch((e: unknown) => (status.textContent = e instanceof Error ? e.message : String(e)));
      });
      b.append(button, status);
      root.append(b);
      return { root, kind: 'no-key', ...none };
    }
    case 'error': {
      if (model.errorKind === 'blocked_by_policy') {
        const b = banner(doc, 'blocked', text('policy_blocked_title'));
        b.append(el(doc, 'p', undefined, model.message), el(doc, 'p', undefined, text('policy_blocked_detail')));
        root.append(b);
        return { root, kind: 'error', ...none, blockedBanner: true };
      }
      const b = banner(doc, 'error', text('error_title'));
      b.append(el(doc, 'p', undefined, text('error_detail')), el(doc, 'p', 'detail', `${model.errorKind}: ${model.message}`));
      root.append(b);
      return { root, kind: 'error', ...none };
    }
  }
}

/**
 * The rendered body's text for the report: innerText where the body is laid out (what the user
 * sees), else its textContent without <style>; whitespace-normalized.
 */
export function renderedBodyText(body: HTMLElement | undefined): string {
  if (!body) return '';
  const target = body;
  if (typeof target.innerText === 'string' && target.getClientRects().length > 0) return normalizeText(target.innerText);
  const clone = target.cloneNode(true) as HTMLElement;
  for (const s of Array.from(clone.querySelectorAll('style'))) s.remove();
  return normalizeText(clone.textContent ?? '');
}
