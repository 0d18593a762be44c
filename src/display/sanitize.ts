/**
 * The only HTML sink of Unseal: decrypted HTML becomes a DocumentFragment through DOMPurify with
 * an allow-list and hooks that remove every way to load anything (EFAIL, RFC-less but see
 * efail.de: "direct exfiltration" and CBC/CFB gadgets both need the mail client to fetch a URL the
 * attacker built around the plaintext). The invariant this file guarantees, checked once more by
 * a final walk over the result ({@link assertInert}):
 *
 *   no element that can load or submit (script, iframe, object, embed, form, link, meta, base,
 *   video/audio/source, svg image/use/feImage, …), no URL-bearing attribute (src, href, srcset,
 *   background, poster, action, formaction, xlink:href, data, cite, ping, …) except an `<img src>`
 *   holding a `data:image/{png,gif,jpeg,webp,bmp}` URI, and no CSS that can reference a URL
 *   (`url(`, `image-set(`, `@import`, CSS escapes) in a style attribute or a <style> element.
 *
 * Links are kept as inert anchors: the target moves to {@link LINK_ATTR} (or {@link ANCHOR_ATTR}
 * for in-document `#fragments`) and the renderer asks before anything is opened.
 *
 * DOMPurify parses into an inert document (DOMParser), so nothing loads while sanitizing; the
 * fragment's nodes load only when adopted into the message document — after this file's checks.
 */
import createDOMPurify, { type Config, type DOMPurify, type WindowLike } from 'dompurify';

/** Where an anchor's external target is kept (the anchor itself has no href). */
export const LINK_ATTR = 'data-unseal-href';
/** Where an in-document anchor's `#fragment` is kept. */
export const ANCHOR_ATTR = 'data-unseal-anchor';

const HTML_TAGS = [
  'a', 'abbr', 'acronym', 'address', 'article', 'aside', 'b', 'bdi', 'bdo', 'big', 'blockquote', 'br', 'caption',
  'center', 'cite', 'code', 'col', 'colgroup', 'data', 'dd', 'del', 'details', 'dfn', 'div', 'dl', 'dt', 'em',
  'fieldset', 'figcaption', 'figure', 'font', 'footer', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'header', 'hgroup', 'hr',
  'i', 'img', 'ins', 'kbd', 'label', 'legend', 'li', 'main', 'mark', 'nav', 'nobr', 'ol', 'p', 'pre', 'q', 'rp',
  'rt', 'ruby', 's', 'samp', 'section', 'small', 'span', 'strike', 'strong', 'style', 'sub', 'summary', 'sup',
  'table', 'tbody', 'td', 'tfoot', 'th', 'thead', 'time', 'tr', 'tt', 'u', 'ul', 'var', 'wbr',
];
/** Drawing only: no image, use, feImage, foreignObject, animate/set (which can rewrite href), filter, a. */
const SVG_TAGS = [
  'svg', 'g', 'path', 'circle', 'ellipse', 'line', 'polygon', 'polyline', 'rect', 'defs', 'lineargradient',
  'radialgradient', 'stop', 'text', 'tspan', 'title', 'desc', 'clippath', 'mask',
];

/** Attributes that name a resource, in any namespace; compared lower-case, prefix stripped too. */
const URL_ATTRS = new Set([
  'src', 'href', 'srcset', 'background', 'poster', 'action', 'formaction', 'data', 'codebase', 'cite', 'longdesc',
  'lowsrc', 'dynsrc', 'ping', 'usemap', 'manifest', 'icon', 'profile', 'archive', 'classid', 'srcdoc', 'imagesrcset',
  'attributionsrc', 'itemtype', 'itemid', 'xlink:href', 'xml:base', 'base', 'content', 'http-equiv',
]);

/** Raster images inline in the message; never svg (a document), never anything remote. */
const INLINE_IMAGE = /^data:image\/(png|gif|jpe?g|webp|bmp);base64,[a-z0-9+/=\s]*$/i;

/**
 * CSS that could fetch or hide a fetch: url()/image()/image-set()/cross-fade()/element(), var()
 * (a custom property split as `--p:url; --q:(http://…); background:var(--p)var(--q)` names a URL
 * that no single declaration shows) and attr() (typed attr() can yield a URL), @import,
 * old IE/Gecko bindings, `src()`, and any backslash (CSS escapes can spell `url(`). Comments are
 * removed first, so `u/ * * /rl(` style splitting is not a way around it either (it would not
 * tokenize as a URL anyway). `:host` would let a <style> inside the body's shadow root restyle
 * the container that confines it.
 */
const RISKY_CSS = /\\|url\s*\(|image\s*\(|image-set|cross-fade|element\s*\(|src\s*\(|var\s*\(|attr\s*\(|@import|@namespace|expression\s*\(|binding|behavior|:host|::slotted|::part/i;

export function riskyCss(css: string): boolean {
  return RISKY_CSS.test(css.replace(/\/\*[\s\S]*?(\*\/|$)/g, ''));
}

/** An external link target the renderer may offer to open (after a confirmation). */
export function linkTarget(raw: string): { kind: 'anchor'; id: string } | { kind: 'url'; url: string } | undefined {
  const v = raw.trim();
  if (v === '') return undefined;
  if (v.startsWith('#')) return v.length > 1 ? { kind: 'anchor', id: v.slice(1) } : undefined;
  return { kind: 'url', url: v };
}

function attrNames(el: Element): string[] {
  return Array.from(el.attributes, (a) => a.name);
}

/** True when `name`=`value` on `el` could make the document load something. */
function loads(el: Element, name: string, value: string): boolean {
  const n = name.toLowerCase();
  const local = n.includes(':') ? n.slice(n.indexOf(':') + 1) : n;
  if (n === 'src' && el.localName === 'img') return !INLINE_IMAGE.test(value);
  if (URL_ATTRS.has(n) || URL_ATTRS.has(local)) return true;
  if (n.startsWith('on')) return true;
  if (n === 'style') return riskyCss(value);
  // Any other attribute mentioning url(...) (SVG fill/stroke/filter/mask/clip-path/marker-*, cursor).
  return /url\s*\(|\\/i.test(value);
}

function scrubElement(el: Element): void {
  for (const name of attrNames(el)) {
    const value = el.getAttribute(name) ?? '';
    if (name === LINK_ATTR || name === ANCHOR_ATTR) continue;
    if (loads(el, name, value)) el.removeAttribute(name);
  }
}

const HOOKED = new WeakSet<DOMPurify>();

function install(purify: DOMPurify): void {
  if (HOOKED.has(purify)) return;
  HOOKED.add(purify);
  purify.addHook('beforeSanitizeAttributes', (node) => {
    if (node.nodeType !== 1) return;
    const el = node as Element;
    // Our marker attributes are ours only: the message cannot bring its own.
    el.removeAttribute(LINK_ATTR);
    el.removeAttribute(ANCHOR_ATTR);
    if (el.localName === 'a' && el.namespaceURI === 'http://www.w3.org/1999/xhtml') {
      const t = linkTarget(el.getAttribute('href') ?? '');
      if (t?.kind === 'url') el.setAttribute(LINK_ATTR, t.url);
      else if (t?.kind === 'anchor') el.setAttribute(ANCHOR_ATTR, t.id);
      el.removeAttribute('href');
    }
  });
  purify.addHook('uponSanitizeElement', (node, data) => {
    // Emptied, not removed: removing the node under DOMPurify's walker is not a supported hook action.
    if (data.tagName === 'style' && riskyCss(node.textContent ?? '')) node.textContent = '';
  });
  purify.addHook('afterSanitizeAttributes', (node) => {
    if (node.nodeType === 1) scrubElement(node as Element);
  });
}

const CONFIG: Config = {
  ALLOWED_TAGS: [...HTML_TAGS, ...SVG_TAGS],
  FORBID_TAGS: ['script', 'iframe', 'frame', 'frameset', 'object', 'embed', 'applet', 'form', 'input', 'button', 'textarea', 'select', 'option', 'base', 'link', 'meta', 'template', 'image', 'use', 'feimage', 'foreignobject', 'video', 'audio', 'source', 'track', 'picture', 'portal', 'noscript', 'math'],
  FORBID_ATTR: ['srcset', 'background', 'poster', 'action', 'formaction', 'xlink:href', 'ping', 'usemap', 'srcdoc', 'target', 'autofocus', 'contenteditable', 'popover'],
  ADD_ATTR: [LINK_ATTR, ANCHOR_ATTR],
  ALLOW_DATA_ATTR: false,
  ALLOW_ARIA_ATTR: true,
  ALLOW_UNKNOWN_PROTOCOLS: false,
  SANITIZE_DOM: true,
  SANITIZE_NAMED_PROPS: true,
  // Keep a leading <style> (it would otherwise be parsed into <head> and dropped).
  FORCE_BODY: true,
  WHOLE_DOCUMENT: false,
  RETURN_DOM_FRAGMENT: true,
};

const instances = new WeakMap<object, DOMPurify>();

function purifierFor(win: WindowLike): DOMPurify {
  let p = instances.get(win);
  if (!p) {
    p = createDOMPurify(win);
    install(p);
    instances.set(win, p);
  }
  return p;
}

/**
 * Walks a fragment and removes whatever could still load: the last line of defence should the
 * sanitizer's allow-list ever be widened. Returns how many things it had to remove (0 expected).
 */
export function assertInert(root: DocumentFragment | Element): number {
  let removed = 0;
  const forbidden = /^(script|iframe|frame|frameset|object|embed|applet|form|input|button|textarea|select|base|link|meta|template|image|use|feimage|foreignobject|video|audio|source|track|picture|portal|animate|set|animatemotion|animatetransform)$/i;
  for (const el of Array.from(root.querySelectorAll('*'))) {
    if (forbidden.test(el.localName)) {
      el.remove();
      removed++;
      continue;
    }
    if (el.localName === 'style' && riskyCss(el.textContent ?? '')) {
      el.remove();
      removed++;
      continue;
    }
    for (const name of attrNames(el)) {
      if (name === LINK_ATTR || name === ANCHOR_ATTR) continue;
      if (loads(el, name, el.getAttribute(name) ?? '')) {
        el.removeAttribute(name);
        removed++;
      }
    }
  }
  return removed;
}

/**
 * Decrypted HTML → an inert DocumentFragment owned by DOMPurify's parsing document; append it
 * into a shadow root (never into the message document's own tree). Throws if DOMPurify cannot
 * run in `win` (then nothing is rendered: the caller falls back to the text body).
 */
export function sanitizeHtml(html: string, win: WindowLike): DocumentFragment {
  const purify = purifierFor(win);
  if (!purify.isSupported) throw new Error('DOMPurify is not supported in this window');
  const fragment = purify.sanitize(html, CONFIG) as unknown as DocumentFragment;
  assertInert(fragment);
  return fragment;
}
