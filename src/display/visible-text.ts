/**
 * What of Thunderbird's own rendering is still visible, for the display report: the
 * whitespace-normalized rendered text (innerText honours CSS, so print-only parts do not count)
 * and whether any element still has a box. Unseal's own host element is excluded.
 */
import { hashSync } from '../core/crypto/hash.js';
import { hexEncode } from '../core/bytes.js';

export function normalizeText(s: string): string {
  return s.replace(/\s+/g, ' ').trim();
}

/**
 * Digest of at most the first {@link DIGEST_MAX_CHARS} characters: per-byte JS is slow inside
 * Thunderbird (Debian ships with the baseline JIT off) and the report is a check, not a copy.
 */
export const DIGEST_MAX_CHARS = 65_536;

export function sha256Hex(text: string): string {
  return text === '' ? '' : hexEncode(hashSync('SHA-256', new TextEncoder().encode(text.slice(0, DIGEST_MAX_CHARS))));
}

export interface Visible {
  text: string;
  anyBox: boolean;
}

export function visibleThunderbirdContent(doc: Document, exclude: Element): Visible {
  const root = doc.documentElement;
  const body = doc.body;
  if (!root || !body) return { text: '', anyBox: false };
  const rootStyle = doc.defaultView?.getComputedStyle(root);
  if (rootStyle && (rootStyle.opacity === '0' || rootStyle.visibility === 'hidden' || rootStyle.display === 'none')) return { text: '', anyBox: false };
  const parts: string[] = [];
  let anyBox = false;
  for (const n of Array.from(body.childNodes)) {
    if (n === exclude) continue;
    if (n.nodeType === 3) parts.push(n.textContent ?? '');
    else if (n.nodeType === 1) {
      const el = n as HTMLElement;
      // innerText of an element that is not rendered (display:none, e.g. Thunderbird's print-only
      // header tables) is its textContent: skip those outright.
      if (el.getClientRects().length === 0) continue;
      if (typeof el.innerText === 'string') parts.push(el.innerText);
      if (el.offsetWidth > 0 || el.offsetHeight > 0) anyBox = true;
    }
  }
  return { text: normalizeText(parts.join(' ')), anyBox };
}
