/**
 * The Unseal viewer: an extension tab (`pages/viewer.html?message=<id>[&reason=p7m-off]`) that
 * shows one S/MIME message with the SAME gated pipeline and the SAME renderer as the message pane,
 * for when the pane cannot be used (Thunderbird's own "cannot decrypt" page with
 * `mailnews.p7m_external=false`). It opens the render port naming the message (`open.messageId`,
 * honoured by the background only because this is an extension page of the add-on), shows the
 * progress lines, and renders the result through `renderModel` into a closed shadow root
 * (GateView). Nothing of the message is shown before the background's verdict; everything except
 * `clean` is a banner only. No remote content: the decrypted HTML goes through DOMPurify
 * (src/display/sanitize.ts) and the extension-page CSP applies on top.
 *
 * It then sends the display report the gate sends (surface 'viewer', forMessageId) so support and
 * the e2e tests can read what was rendered, and exposes its state on
 * `<body data-state="loading|done|failed" data-kind="<model kind>">`.
 */
import { ANSWER_TIMEOUT_MS } from '../../display/gate.js';
import { progressLine, renderModel, renderedBodyText } from '../../display/render.js';
import { GateView } from '../../display/view.js';
import { sha256Hex } from '../../display/visible-text.js';
import type { AttachmentBytes } from '../../display/attachments.js';
import type { DisplayReportBody, RenderConnection, RenderFailure } from '../../protocol/display.js';
import type { AttachmentData, AttachmentError, RenderModel } from '../../protocol/render.js';
import { localizeDocument } from '../../platform/key-store-i18n.js';
import { viewerChannel as channel } from '../../platform/page-channel.js';

/** The enterprise policy that locks the pref on (shown verbatim; also in the notification). */
export const P7M_POLICY = '{"policies":{"Preferences":{"mailnews.p7m_external":{"Value":true,"Status":"locked"}}}}';
const ATTACHMENT_TIMEOUT_MS = 60_000;

const $ = (id: string): HTMLElement => {
  const el = document.getElementById(id);
  if (!el) throw new Error(`viewer.html lacks #${id}`);
  return el;
};

/** `?message=<non-negative integer>`; anything else names no message. */
export function messageIdFrom(search: string): number | undefined {
  const v = new URLSearchParams(search).get('message');
  if (v === null || !/^\d{1,15}$/.test(v)) return undefined;
  const n = Number(v);
  return Number.isSafeInteger(n) ? n : undefined;
}

class Viewer {
  private readonly startedAt = Date.now();
  private readonly readyStateAtStart = document.readyState as DisplayReportBody['readyStateAtStart'];
  private readonly view = new GateView(document, channel.text);
  private connection: RenderConnection | undefined;
  private readonly pending = new Map<number, { resolve: (b: AttachmentBytes) => void; reject: (e: Error) => void }[]>();
  private done = false;
  private stall: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly messageId: number) {}

  run(): void {
    this.view.mount($('message'));
    this.view.progress(progressLine(channel.text, undefined));
    this.armStall();
    try {
      this.connection = channel.openRender(this.messageId, {
        onProgress: (p) => {
          if (this.done) return;
          this.armStall();
          this.view.progress(progressLine(channel.text, p));
        },
        onResult: (model) => this.finish(() => this.show(model)),
        onAttachment: (a) => this.settleAttachment(a),
        onDisconnect: (why) => {
          this.connection = undefined;
          this.rejectAttachments(channel.text('attachment_port_closed'));
          if (!this.done) this.fail(why);
        },
      });
    } catch {
      this.fail('disconnected');
    }
  }

  private armStall(): void {
    clearTimeout(this.stall);
    this.stall = setTimeout(() => this.fail('stalled'), ANSWER_TIMEOUT_MS);
  }

  private finish(fn: () => Promise<void>): void {
    if (this.done) return;
    this.done = true;
    clearTimeout(this.stall);
    void fn();
  }

  private fail(why: RenderFailure): void {
    this.finish(async () => {
      this.connection?.close();
      this.connection = undefined;
      this.rejectAttachments(channel.text('attachment_port_closed'));
      this.view.fail(`render_failed_${why}`);
      setState('failed', 'failed');
      await this.report({ rendered: 'failed', renderFailure: why }, 'error');
    });
  }

  private async show(model: RenderModel): Promise<void> {
    if (model.kind !== 'clean') {
      // Nothing more to ask for: no attachments outside a clean message.
      this.connection?.close();
      this.connection = undefined;
    }
    if (model.kind === 'plain') {
      // Not S/MIME: Thunderbird shows it itself; the viewer has nothing to add.
      this.view.showContent(notice(channel.text('viewer_plain_title'), channel.text('viewer_plain_detail')));
      setState('done', 'plain');
      await this.report({ rendered: 'plain' }, 'plain');
      return;
    }
    let rendered;
    try {
      rendered = renderModel(
        {
          doc: document,
          text: channel.text,
          openLink: (url) => channel.openLink(url),
          openKeysPage: () => channel.openKeysPage(),
          requestAttachment: (index) => this.requestAttachment(index),
        },
        model,
      );
    } catch {
      this.connection?.close();
      this.connection = undefined;
      this.view.fail('render_failed_protocol');
      setState('failed', 'failed');
      await this.report({ rendered: 'failed', renderFailure: 'protocol' }, 'error');
      return;
    }
    this.view.showContent(rendered.root);
    setState('done', rendered.kind);
    const text = renderedBodyText(rendered.body);
    await this.report(
      {
        rendered: rendered.kind,
        renderedTextLength: text.length,
        renderedTextSha256: sha256Hex(text),
        attachmentCount: rendered.attachmentCount,
        blockedBanner: rendered.blockedBanner,
        findingSignatures: [...rendered.findingSignatures],
        ...(model.kind === 'clean'
          ? { keySource: model.keySource, signatureStates: model.signatures.map((x) => (x.signatureValid ? x.certificateStatus : 'invalid')) }
          : model.kind === 'unscanned'
            ? { renderedReason: model.reason }
            : model.kind === 'error'
              ? { renderedReason: model.errorKind }
              : {}),
      },
      'held',
    );
  }

  /** The gate's report, with the fields about Thunderbird's own rendering fixed: there is none here. */
  private async report(rendered: Partial<DisplayReportBody>, state: DisplayReportBody['state']): Promise<void> {
    await channel
      .report({
        state,
        bodyHidden: false,
        thunderbirdContentVisible: false,
        gateShown: this.view.isShown(),
        textLength: 0,
        textSha256: '',
        startedAt: this.startedAt,
        readyStateAtStart: this.readyStateAtStart,
        decidedBy: 'background',
        forMessageId: this.messageId,
        surface: 'viewer',
        ...rendered,
      })
      .catch(() => undefined);
  }

  private requestAttachment(index: number): Promise<AttachmentBytes> {
    const conn = this.connection;
    if (!conn) return Promise.reject(new Error(channel.text('attachment_port_closed')));
    return new Promise<AttachmentBytes>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(channel.text('attachment_timeout'))), ATTACHMENT_TIMEOUT_MS);
      const waiters = this.pending.get(index) ?? [];
      waiters.push({ resolve: (b) => (clearTimeout(timer), resolve(b)), reject: (e) => (clearTimeout(timer), reject(e)) });
      this.pending.set(index, waiters);
      if (waiters.length === 1) conn.requestAttachment(index);
    });
  }

  private settleAttachment(a: AttachmentData | AttachmentError): void {
    const waiters = this.pending.get(a.index);
    if (!waiters) return;
    this.pending.delete(a.index);
    for (const w of waiters) {
      if (a.type === 'attachment-data') w.resolve({ filename: a.filename, contentType: a.contentType, data: a.data });
      else w.reject(new Error(a.message));
    }
  }

  private rejectAttachments(message: string): void {
    for (const waiters of this.pending.values()) for (const w of waiters) w.reject(new Error(message));
    this.pending.clear();
  }
}

function notice(title: string, detail: string): HTMLElement {
  const box = document.createElement('div');
  box.className = 'unseal-notice';
  const h = document.createElement('p');
  h.style.fontWeight = '600';
  h.textContent = title;
  const p = document.createElement('p');
  p.textContent = detail;
  box.append(h, p);
  return box;
}

function setState(state: 'loading' | 'done' | 'failed', kind?: string): void {
  document.body.dataset['state'] = state;
  if (kind !== undefined) document.body.dataset['kind'] = kind;
}

function main(): void {
  localizeDocument(document);
  const params = new URLSearchParams(location.search);
  if (params.get('reason') === 'p7m-off') {
    $('policy').textContent = P7M_POLICY;
    $('pref-off').hidden = false;
  }
  const id = messageIdFrom(location.search);
  if (id === undefined) {
    const problem = $('problem');
    problem.textContent = channel.text('viewer_no_message');
    problem.hidden = false;
    setState('failed', 'failed');
    return;
  }
  new Viewer(id).run();
}

main();
