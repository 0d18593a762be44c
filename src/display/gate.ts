/**
 * The gate in the message document. Runs at `document_start` and decides synchronously from what
 * Thunderbird rendered — it cannot ask the background first: a round trip (17–52 ms) is slower
 * than Thunderbird's layout. With `mailnews.p7m_external=true` an S/MIME message arrives as an
 * empty body plus an `smime.p7m` attachment row; such a body is sealed at once (Thunderbird's nodes
 * detached, Unseal's view mounted). Then the background's answer (from the raw original) is
 * applied: it may seal a message the DOM did not flag, or give back one it flagged wrongly.
 * Plain messages are not modified: only while the document is still `loading` is the root made
 * transparent until DOMContentLoaded, because then the structure is not known yet.
 */
import type { DisplayChannel, DisplayReportBody, DisplayState, DomHint, GateDecision, HoldReason } from '../protocol/display.js';
import { GateView } from './view.js';
import { sha256Hex, visibleThunderbirdContent } from './visible-text.js';

const ANSWER_TIMEOUT_MS = 8_000;
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

  constructor(
    private readonly doc: Document,
    private readonly channel: DisplayChannel,
  ) {
    this.readyStateAtStart = doc.readyState as ReadyState;
    this.view = new GateView(doc, channel.text);
  }

  /** Synchronous part first; returns the promise of the whole exchange (for tests). */
  run(): Promise<void> {
    const answer = withTimeout(this.channel.classify({ p7mAttachment: this.doc.readyState !== 'loading' && hasP7mAttachment(this.doc), readyState: this.readyStateAtStart }), ANSWER_TIMEOUT_MS);
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
    await this.report(state, reason).catch(() => undefined);
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

  private async report(state: DisplayState, reason: HoldReason | undefined): Promise<void> {
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
