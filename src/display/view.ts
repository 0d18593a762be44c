/**
 * Unseal's own UI inside the message document: a host element with a CLOSED shadow root, so the
 * message's CSS cannot restyle it and nothing in the page can reach into it. Text only, set via
 * `textContent`. What the background sends for a held message (src/display/render.ts) replaces the
 * status box in the same shadow root; decrypted HTML sits one level deeper, in a shadow root of its
 * own (src/display/sanitize.ts is its only way in).
 */
import type { DisplayState, HoldReason } from '../protocol/display.js';

export const HOST_TAG = 'unseal-gate';

const CSS = `
:host { all: initial; }
.box { font: 14px/1.4 system-ui, sans-serif; color: #1c1b22; background: #f5f5f7; border: 1px solid #c9c9d1;
  border-radius: 6px; padding: 16px 20px; margin: 16px; max-width: 640px; }
.title { font-weight: 600; font-size: 15px; margin: 0 0 6px; }
.detail { margin: 0; color: #4a4a55; }
.spinner { display: inline-block; width: 12px; height: 12px; margin-right: 8px; vertical-align: -1px;
  border: 2px solid #8f8f9d; border-top-color: transparent; border-radius: 50%; animation: spin 1s linear infinite; }
@keyframes spin { to { transform: rotate(360deg); } }
.box[data-state="held"] { border-color: #b8860b; background: #fff8e5; }
.box[data-state="error"] { border-color: #c50042; background: #fff0f3; }
[hidden] { display: none !important; }
`;

/** Inline `!important` on the host wins over any author stylesheet in the message. */
const HOST_STYLE = 'display:block!important;visibility:visible!important;opacity:1!important;position:static!important;';

export type Text = (key: string, substitutions?: string[]) => string;

export class GateView {
  readonly host: HTMLElement;
  private readonly box: HTMLDivElement;
  private readonly title: HTMLParagraphElement;
  private readonly detail: HTMLParagraphElement;
  /** Where a render result goes; empty until then. */
  private readonly content: HTMLDivElement;

  constructor(
    private readonly doc: Document,
    private readonly text: Text,
  ) {
    this.host = doc.createElement(HOST_TAG);
    this.host.setAttribute('style', HOST_STYLE);
    const root = this.host.attachShadow({ mode: 'closed' });
    const style = doc.createElement('style');
    style.textContent = CSS;
    this.box = doc.createElement('div');
    this.box.className = 'box';
    this.box.setAttribute('role', 'status');
    this.box.setAttribute('aria-live', 'polite');
    this.title = doc.createElement('p');
    this.title.className = 'title';
    this.detail = doc.createElement('p');
    this.detail.className = 'detail';
    this.box.append(this.title, this.detail);
    this.content = doc.createElement('div');
    this.content.className = 'content';
    root.append(style, this.box, this.content);
  }

  mount(parent: Element): void {
    if (this.host.parentNode !== parent) parent.append(this.host);
  }

  /** Mounted in the document and laid out with a non-empty box (status box or rendered content). */
  isShown(): boolean {
    if (!this.host.isConnected) return false;
    const laidOut = (el: HTMLElement) => !el.hidden && el.getClientRects().length > 0 && el.offsetHeight > 0;
    return laidOut(this.box) || laidOut(this.content);
  }

  /** The status box with a spinner and a progress line ("Decrypting 12.4 MB…"). */
  progress(line: string): void {
    this.content.replaceChildren();
    this.box.hidden = false;
    this.box.dataset['state'] = 'checking';
    const spin = this.doc.createElement('span');
    spin.className = 'spinner';
    this.title.replaceChildren(spin, this.doc.createTextNode(line));
    this.detail.textContent = this.text('gate_held_detail');
  }

  /** Replaces the status box with a rendered result (built by src/display/render.ts). */
  showContent(node: Node): void {
    this.box.hidden = true;
    this.content.replaceChildren(node);
  }

  /** Failure after the decision: the error box with a specific sentence; rendered content removed. */
  fail(detailKey: string): void {
    this.content.replaceChildren();
    this.box.hidden = false;
    this.box.dataset['state'] = 'error';
    this.title.textContent = this.text('gate_error_title');
    this.detail.textContent = this.text(detailKey);
  }

  unmount(): void {
    this.host.remove();
  }

  show(state: DisplayState, reason?: HoldReason): void {
    this.content.replaceChildren();
    this.box.hidden = false;
    this.box.dataset['state'] = state;
    this.title.replaceChildren();
    if (state === 'checking') {
      const spin = this.doc.createElement('span');
      spin.className = 'spinner';
      this.title.append(spin);
    }
    this.title.append(this.doc.createTextNode(this.text(`gate_${state}_title`)));
    this.detail.textContent = reason ? this.text(`reason_${reason.replace(/-/g, '_')}`) : this.text(`gate_${state}_detail`);
  }
}
