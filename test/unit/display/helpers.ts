/**
 * Shared pieces of the display unit tests: the English strings with browser.i18n's `$1`
 * substitution, a recorder for every shadow root created (closed ones included, so a test can look
 * inside Unseal's view), and a scripted fake of the display channel.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { vi } from 'vitest';
import { ROOT } from '../../helpers/cli.js';
import type { DisplayChannel, DisplayReportBody, GateDecision, RenderHandlers } from '../../../src/protocol/display.js';

const messages = JSON.parse(readFileSync(resolve(ROOT, 'src/_locales/en/messages.json'), 'utf8')) as Record<string, { message: string }>;

export function text(key: string, substitutions?: string[]): string {
  const m = messages[key];
  if (!m) return key;
  return m.message.replace(/\$([1-9])/g, (_, n: string) => substitutions?.[Number(n) - 1] ?? '');
}

export function messageKeys(): string[] {
  return Object.keys(messages);
}

/** Every shadow root attached from now on (the view's and the HTML body's are closed). */
export function recordShadowRoots(): ShadowRoot[] {
  const roots: ShadowRoot[] = [];
  const orig = Element.prototype.attachShadow;
  vi.spyOn(Element.prototype, 'attachShadow').mockImplementation(function (this: Element, init: ShadowRootInit) {
    const r = orig.call(this, init);
    roots.push(r);
    return r;
  });
  return roots;
}

export interface FakeChannel extends DisplayChannel {
  reports: DisplayReportBody[];
  handlers: RenderHandlers | undefined;
  opened: { p7mAttachment: boolean }[];
  attachmentRequests: number[];
  closed: number;
  links: string[];
  keysOpened: number;
}

export function fakeChannel(decision: GateDecision | Promise<GateDecision>): FakeChannel {
  const ch: FakeChannel = {
    reports: [],
    handlers: undefined,
    opened: [],
    attachmentRequests: [],
    closed: 0,
    links: [],
    keysOpened: 0,
    classify: () => Promise.resolve(decision),
    report: (b) => {
      ch.reports.push(b);
      return Promise.resolve();
    },
    text,
    openRender(p7mAttachment, handlers) {
      ch.opened.push({ p7mAttachment });
      ch.handlers = handlers;
      return {
        requestAttachment: (i) => void ch.attachmentRequests.push(i),
        close: () => void ch.closed++,
      };
    },
    openLink: (url) => {
      ch.links.push(url);
      return Promise.resolve();
    },
    openKeysPage: () => {
      ch.keysOpened++;
      return Promise.resolve();
    },
  };
  return ch;
}

/** Thunderbird's rendering of an S/MIME message with mailnews.p7m_external=true: empty body + smime.p7m row. */
export function thunderbirdSmimeBody(doc: Document, extraText = ''): void {
  doc.body.replaceChildren();
  const table = doc.createElement('table');
  const tr = doc.createElement('tr');
  const td = doc.createElement('td');
  td.className = 'moz-mime-attachment-file';
  td.textContent = 'smime.p7m';
  tr.append(td);
  table.append(tr);
  const p = doc.createElement('p');
  p.textContent = extraText;
  doc.body.append(table, p);
}
