/**
 * The gate in the message document. Runs at `document_start` and decides synchronously from what
 * Thunderbird rendered — it cannot ask the background first: a round trip (17–52 ms) is slower
 * than Thunderbird's layout. With `mailnews.p7m_external=true` an S/MIME message arrives as an
 * empty body plus an `smime.p7m` attachment row; such a body is sealed at once (Thunderbird's nodes
 * detached, Unseal's view mounted). Then the background's answer (from the raw original) is
 * applied: it may seal a message the DOM did not flag, or give back one it flagged wrongly.
 * Plain messages are not modified: only while the document is still `loading` is the root made
 * transparent until DOMContentLoaded, because then the structure is not known yet.
 *
 * A held S/MIME message then opens the render port (src/protocol/render.ts): progress lines while
 * the background decrypts and scans, then one result that src/display/render.ts turns into the
 * view. Fail closed: if the port closes before a result, sends something invalid, or stays silent
 * for {@link ANSWER_TIMEOUT_MS} (each progress message restarts that clock, so a 10 MB message
 * may take as long as it keeps reporting), Thunderbird's content stays hidden and an error shows.
 * A second display report says what was rendered.
 */
import type { DisplayChannel, DisplayReportBody, DisplayState, DomHint, GateDecision, HoldReason, RenderConnection, RenderFailure } from '../protocol/display.js';
import type { AttachmentData, AttachmentError, RenderModel } from '../protocol/render.js';
import type { AttachmentBytes } from './attachments.js';
import { progressLine, renderModel, renderedBodyText, type Rendered } from './render.js';
import { GateView } from './view.js';
import { sha256Hex, visibleThunderbirdContent } from './visible-text.js';

export const ANSWER_TIMEOUT_MS = 8_000;
/** Held for one of these reasons, the message is worth asking the background to open. */
const RENDERABLE: readonly HoldReason[] = ['smime-enveloped', 'smime-auth-enveloped', 'smime-opaque-signed', 'smime-compressed', 'smime-certs-only', 'pending-decryption'];
/** How long an attachment request may take before its button says so. */
const ATTACHMENT_TIMEOUT_MS = 60_000;
const P7M_NAME = /\.p7m\s*$/i;

export function hasP7mAttachment(doc: Document): boolean {
  for (const cell of Array.from(doc.querySelectorAll('.moz-mime-attachment-file'))) {
    if (P7M_NAME.test(cell.textContent ?? '')) return true;
  }
  return false;
}

type ReadyState = DomHint['readyState'];

export class Gate {
  private readonly startedAt = Date.now();
  private readonly readyStateAtStart: ReadyState;
  private readonly view: GateView;
  /** Thunderbird's body nodes while sealed, to give back if the background says "plain". */
  private held: Node[] = [];
  private sealed = false;
  private observer: MutationObserver | undefined;
  private decidedBy: 'dom' | 'background' = 'dom';
  private messageId: number | undefined;
  private p7mAtStart = false;
  private connection: RenderConnection | undefined;
  private readonly pendingAttachments = new Map<number, { resolve: (b: AttachmentBytes) => void; reject: (e: Error) => void }[]>();

  constructor(
    private readonly doc: Document,
    private readonly channel: DisplayChannel,
  ) {
    this.readyStateAtStart = doc.readyState as ReadyState;
    this.view = new GateView(doc, channel.text);
  }

  /** Synchronous part first; returns the promise of the whole exchange (for tests). */
  run(): Promise<void> {
    this.p7mAtStart = this.doc.readyState !== 'loading' && hasP7mAttachment(this.doc);
    const answer = withTimeout(this.channel.classify({ p7mAttachment: this.p7mAtStart, readyState: this.readyStateAtStart }), ANSWER_TIMEOUT_MS);
    let domDecided: Promise<void>;
    if (this.doc.readyState === 'loading' || !this.doc.body) {
      this.veil();
      domDecided = new Promise((resolve) => {
        this.doc.addEventListener('DOMContentLoaded', () => (this.decideFromDom(), resolve()), { once: true });
      });
    } else {
      this.decideFromDom();
      domDecided = Promise.resolve();
    }
    return domDecided.then(() => answer).then(
      (d) => this.apply(d),
      () => this.apply(undefined),
    );
  }

  private decideFromDom(): void {
    if (hasP7mAttachment(this.doc)) {
      this.seal();
      this.view.show('checking');
    }
    this.unveil();
  }

  private async apply(decision: GateDecision | undefined): Promise<void> {
    if (decision?.messageId !== undefined) this.messageId = decision.messageId;
    let state: DisplayState;
    let reason: HoldReason | undefined;
    if (!decision) {
      // No answer: fail closed for what looked like S/MIME, leave everything else alone.
      state = this.sealed ? 'error' : 'plain';
      reason = this.sealed ? 'background-timeout' : undefined;
    } else if (decision.state === 'held') {
      if (!this.sealed) this.decidedBy = 'background';
      this.seal();
      state = 'held';
      reason = decision.reason;
    } else {
      if (this.sealed) {
        this.decidedBy = 'background';
        this.release();
      }
      state = 'plain';
    }
    if (this.sealed) this.view.show(state, reason);
    // The first report goes out without holding up the render port: every round trip shows on screen.
    const first = this.report(state, reason).catch(() => undefined);
    if (state === 'held' && reason !== undefined && RENDERABLE.includes(reason)) await this.render(reason);
    await first;
  }

  /** Opens the render port and waits for the result (or a failure); resolves after the second report. */
  private render(reason: HoldReason): Promise<void> {
    return new Promise<void>((settle) => {
      let done = false;
      let stall: ReturnType<typeof setTimeout> | undefined;
      const armStall = () => {
        clearTimeout(stall);
        stall = setTimeout(() => fail('stalled'), ANSWER_TIMEOUT_MS);
      };
      const finish = (fn: () => Promise<void>) => {
        if (done) return;
        done = true;
        clearTimeout(stall);
        fn().then(settle, settle);
      };
      const fail = (why: RenderFailure) =>
        finish(async () => {
          this.connection?.close();
          this.connection = undefined;
          this.rejectAttachments(this.channel.text('attachment_port_closed'));
          this.view.fail(`render_failed_${why}`);
          await this.report('error', why === 'stalled' ? 'background-timeout' : reason, { rendered: 'failed', renderFailure: why }).catch(() => undefined);
        });
      this.view.progress(progressLine(this.channel.text, undefined));
      armStall();
      try {
        this.connection = this.channel.openRender(this.p7mAtStart || hasP7mAttachment(this.doc), {
          onProgress: (p) => {
            if (done) return;
            armStall();
            this.view.progress(progressLine(this.channel.text, p));
          },
          onResult: (model) => finish(() => this.show(model, reason)),
          onAttachment: (a) => this.settleAttachment(a),
          onDisconnect: (why) => {
            this.connection = undefined;
            this.rejectAttachments(this.channel.text('attachment_port_closed'));
            if (!done) fail(why);
          },
        });
      } catch {
        fail('disconnected');
      }
    });
  }

  private async show(model: RenderModel, reason: HoldReason): Promise<void> {
    if (model.kind === 'plain') {
      this.connection?.close();
      this.connection = undefined;
      this.decidedBy = 'background';
      this.release();
      await this.report('plain', undefined, { rendered: 'plain' }).catch(() => undefined);
      return;
    }
    if (model.kind !== 'clean' && model.kind !== 'unscanned-allowed') {
      // Nothing more to ask for: no attachments outside a shown message.
      this.connection?.close();
      this.connection = undefined;
    }
    let rendered: Rendered;
    try {
      rendered = renderModel(
        {
          doc: this.doc,
          text: this.channel.text,
          openLink: (url) => this.channel.openLink(url),
          openKeysPage: () => this.channel.openKeysPage(),
          requestAttachment: (index) => this.requestAttachment(index),
          ...(this.channel.saveDecryptedCopy ? { saveDecryptedCopy: () => this.channel.saveDecryptedCopy!() } : {}),
        },
        model,
      );
    } catch {
      this.connection?.close();
      this.connection = undefined;
      this.view.fail('render_failed_protocol');
      await this.report('error', reason, { rendered: 'failed', renderFailure: 'protocol' }).catch(() => undefined);
      return;
    }
    this.view.showContent(rendered.root);
    const text = renderedBodyText(rendered.body);
    await this.report('held', reason, {
      rendered: rendered.kind,
      renderedTextLength: text.length,
      renderedTextSha256: sha256Hex(text),
      attachmentCount: rendered.attachmentCount,
      blockedBanner: rendered.blockedBanner,
      findingSignatures: [...rendered.findingSignatures],
      ...(rendered.saveCopyOffered !== undefined ? { saveCopyOffered: rendered.saveCopyOffered } : {}),
      ...(model.kind === 'clean' || model.kind === 'unscanned-allowed'
        ? {
            keySource: model.keySource,
            signatureStates: model.signatures.map((x) => (!x.signatureValid ? 'invalid' : x.senderMismatch ? 'sender-mismatch' : x.certificateStatus)),
            ...(model.kind === 'unscanned-allowed' ? { renderedReason: model.unscanned.reason } : {}),
          }
        : model.kind === 'unscanned'
          ? { renderedReason: model.reason }
          : model.kind === 'error'
            ? { renderedReason: model.errorKind }
            : {}),
    }).catch(() => undefined);
  }

  private requestAttachment(index: number): Promise<AttachmentBytes> {
    const conn = this.connection;
    if (!conn) return Promise.reject(new Error(this.channel.text('attachment_port_closed')));
    return new Promise<AttachmentBytes>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(this.channel.text('attachment_timeout'))), ATTACHMENT_TIMEOUT_MS);
      const waiters = this.pendingAttachments.get(index) ?? [];
      waiters.push({
        resolve: (b) => (clearTimeout(timer), resolve(b)),
        reject: (e) => (clearTimeout(timer), reject(e)),
      });
      this.pendingAttachments.set(index, waiters);
      if (waiters.length === 1) conn.requestAttachment(index);
    });
  }

  private settleAttachment(a: AttachmentData | AttachmentError): void {
    const waiters = this.pendingAttachments.get(a.index);
    if (!waiters) return;
    this.pendingAttachments.delete(a.index);
    for (const w of waiters) {
      if (a.type === 'attachment-data') w.resolve({ filename: a.filename, contentType: a.contentType, data: a.data });
      else w.reject(new Error(a.message));
    }
  }

  private rejectAttachments(message: string): void {
    for (const waiters of this.pendingAttachments.values()) for (const w of waiters) w.reject(new Error(message));
    this.pendingAttachments.clear();
  }

  /** Made transparent until the structure is known; `opacity` on the root cannot be undone by descendants. */
  private veil(): void {
    this.doc.documentElement?.style.setProperty('opacity', '0', 'important');
  }

  private unveil(): void {
    this.doc.documentElement?.style.removeProperty('opacity');
    if (this.doc.documentElement?.getAttribute('style') === '') this.doc.documentElement.removeAttribute('style');
  }

  /** Detaches Thunderbird's body content (and whatever the parser still adds) and shows Unseal's view. */
  private seal(): void {
    if (this.sealed) return;
    const body = this.doc.body;
    if (!body) return;
    this.sealed = true;
    for (const n of Array.from(body.childNodes)) if (n !== this.view.host) this.held.push(body.removeChild(n));
    this.view.mount(body);
    this.observer = new MutationObserver(() => {
      for (const n of Array.from(body.childNodes)) if (n !== this.view.host) this.held.push(body.removeChild(n));
    });
    this.observer.observe(body, { childList: true });
  }

  private release(): void {
    this.observer?.disconnect();
    this.observer = undefined;
    const body = this.doc.body;
    this.view.unmount();
    if (body) for (const n of this.held) body.append(n);
    this.held = [];
    this.sealed = false;
  }

  private async report(state: DisplayState, reason: HoldReason | undefined, rendered: Partial<DisplayReportBody> = {}): Promise<void> {
    const visible = visibleThunderbirdContent(this.doc, this.view.host);
    const body: DisplayReportBody = {
      state,
      ...(reason ? { reason } : {}),
      bodyHidden: this.sealed,
      thunderbirdContentVisible: visible.text.length > 0 || visible.anyBox,
      gateShown: this.view.isShown(),
      textLength: visible.text.length,
      textSha256: sha256Hex(visible.text),
      startedAt: this.startedAt,
      readyStateAtStart: this.readyStateAtStart,
      decidedBy: this.decidedBy,
      ...(this.messageId !== undefined ? { forMessageId: this.messageId } : {}),
      ...rendered,
    };
    await this.channel.report(body);
  }
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('timeout')), ms);
    p.then(
      (v) => (clearTimeout(t), resolve(v)),
      (e: unknown) => (clearTimeout(t), reject(e instanceof Error ? e : new Error(String(e)))),
    );
  });
}
