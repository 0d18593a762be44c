import { decodeWindows1252 } from './charset.js';

/**
 * HTML → readable text without a DOM (the core has no DOMParser). A single forward scan with
 * indexOf: tags are dropped, script/style/head/title contents are skipped, block elements become
 * line breaks, whitespace collapses as a browser would (except inside <pre>), entities decode.
 * This is for showing and searching text, not for sanitising HTML.
 */

const LATIN1_NAMES =
  'nbsp iexcl cent pound curren yen brvbar sect uml copy ordf laquo not shy reg macr deg plusmn sup2 sup3 acute micro para middot cedil sup1 ordm raquo frac14 frac12 frac34 iquest Agrave Aacute Acirc Atilde Auml Aring AElig Ccedil Egrave Eacute Ecirc Euml Igrave Iacute Icirc Iuml ETH Ntilde Ograve Oacute Ocirc Otilde Ouml times Oslash Ugrave Uacute Ucirc Uuml Yacute THORN szlig agrave aacute acirc atilde auml aring aelig ccedil egrave eacute ecirc euml igrave iacute icirc iuml eth ntilde ograve oacute ocirc otilde ouml divide oslash ugrave uacute ucirc uuml yacute thorn yuml'.split(' ');

export const NAMED_ENTITIES: ReadonlyMap<string, string> = new Map<string, string>([
  ...LATIN1_NAMES.map((n, i): [string, string] => [n, String.fromCharCode(160 + i)]),
  ['amp', '&'], ['lt', '<'], ['gt', '>'], ['quot', '"'], ['apos', "'"],
  ['euro', '€'], ['ndash', '–'], ['mdash', '—'], ['lsquo', '‘'], ['rsquo', '’'], ['sbquo', '‚'],
  ['ldquo', '“'], ['rdquo', '”'], ['bdquo', '„'], ['hellip', '…'], ['bull', '•'], ['trade', '™'],
  ['dagger', '†'], ['Dagger', '‡'], ['permil', '‰'], ['lsaquo', '‹'], ['rsaquo', '›'], ['OElig', 'Œ'],
  ['oelig', 'œ'], ['Scaron', 'Š'], ['scaron', 'š'], ['Yuml', 'Ÿ'], ['fnof', 'ƒ'], ['circ', 'ˆ'], ['tilde', '˜'],
  ['ensp', '\u2002'], ['emsp', '\u2003'], ['thinsp', '\u2009'], ['zwnj', '\u200c'], ['zwj', '\u200d'],
  ['lrm', '\u200e'], ['rlm', '\u200f'], ['larr', '←'], ['rarr', '→'], ['uarr', '↑'], ['darr', '↓'],
]);

const BLOCK = new Set([
  'address', 'article', 'aside', 'blockquote', 'center', 'dd', 'div', 'dl', 'dt', 'fieldset', 'figcaption', 'figure',
  'footer', 'form', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'header', 'hr', 'li', 'main', 'nav', 'ol', 'p', 'pre',
  'section', 'table', 'tbody', 'thead', 'tfoot', 'tr', 'ul', 'body', 'html',
]);
const PARAGRAPH = new Set(['p', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'blockquote', 'table', 'pre', 'ul', 'ol']);
const SKIP_CONTENT = new Set(['script', 'style', 'head', 'title', 'template', 'noscript', 'iframe', 'object']);

const ENTITY = /&(#[0-9]{1,8}|#[xX][0-9a-fA-F]{1,8}|[A-Za-z][A-Za-z0-9]{1,31});?/g;
const WS_RUN = /[ \t\r\n\f]+/g;

function decodeNumeric(code: number): string {
  // Browsers read &#128;–&#159; as windows-1252 (mail from Word does this a lot).
  if (code >= 128 && code <= 159) return decodeWindows1252(new Uint8Array([code]));
  if (code === 0 || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) return '\ufffd';
  return String.fromCodePoint(code);
}

export function decodeEntities(s: string): string {
  if (s.indexOf('&') === -1) return s;
  return s.replace(ENTITY, (m, body: string) => {
    if (body[0] === '#') {
      const code = body[1] === 'x' || body[1] === 'X' ? parseInt(body.slice(2), 16) : parseInt(body.slice(1), 10);
      return decodeNumeric(code);
    }
    return NAMED_ENTITIES.get(body) ?? NAMED_ENTITIES.get(body.toLowerCase()) ?? m;
  });
}

function isNameChar(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}

/** End of a tag (index of its '>'), skipping quoted attribute values; -1 when unterminated. */
function tagEnd(html: string, from: number): number {
  let quote = 0;
  for (let k = from; k < html.length; k++) {
    const c = html.charCodeAt(k);
    if (quote) {
      if (c === quote) quote = 0;
    } else if (c === 0x22 || c === 0x27) quote = c;
    else if (c === 0x3e) return k;
  }
  return -1;
}

const closers = new Map<string, RegExp>();
function closingTag(name: string): RegExp {
  let re = closers.get(name);
  if (!re) closers.set(name, (re = new RegExp(`</${name}[\\s/>]`, 'gi')));
  return re;
}

export function htmlToText(html: string): string {
  const out: string[] = [];
  const n = html.length;
  let pre = 0;
  // Pending line breaks from block boundaries: adjacent blocks (</li><li>, </div><div>) share one
  // break, as in a browser, instead of stacking blank lines. <br> is explicit and always counts.
  let brk = 0;
  const emit = (s: string): void => {
    if (brk > 0) {
      if (out.length > 0) out.push(brk > 1 ? '\n\n' : '\n');
      brk = 0;
    }
    out.push(s);
  };
  const text = (raw: string): void => {
    const t = pre > 0 ? raw : raw.replace(WS_RUN, ' ');
    if (brk > 0 && pre === 0 && t.trim() === '') return;
    emit(decodeEntities(t));
  };
  let i = 0;
  while (i < n) {
    const lt = html.indexOf('<', i);
    const stop = lt === -1 ? n : lt;
    if (stop > i) text(html.slice(i, stop));
    if (lt === -1) break;
    if (html.startsWith('<!--', lt)) {
      const e = html.indexOf('-->', lt + 4);
      i = e === -1 ? n : e + 3;
      continue;
    }
    let j = lt + 1;
    const closing = html.charCodeAt(j) === 0x2f;
    if (closing) j++;
    if (!closing && (html[j] === '!' || html[j] === '?')) {
      const e = html.indexOf('>', j);
      i = e === -1 ? n : e + 1;
      continue;
    }
    const nameStart = j;
    while (j < n && isNameChar(html.charCodeAt(j))) j++;
    if (j === nameStart) {
      text('<');
      i = lt + 1;
      continue;
    }
    const name = html.slice(nameStart, j).toLowerCase();
    const gt = tagEnd(html, j);
    i = gt === -1 ? n : gt + 1;
    if (!closing && SKIP_CONTENT.has(name) && html.charCodeAt(gt - 1) !== 0x2f) {
      const re = closingTag(name);
      re.lastIndex = i;
      const m = re.exec(html);
      if (!m) break;
      const e = html.indexOf('>', m.index);
      i = e === -1 ? n : e + 1;
      continue;
    }
    if (name === 'br') emit('\n');
    else if (name === 'td' || name === 'th') {
      if (!closing) emit('\t');
    } else if (BLOCK.has(name)) brk = Math.max(brk, PARAGRAPH.has(name) ? 2 : 1);
    if (name === 'li' && !closing) emit('• ');
    if (name === 'pre') pre = Math.max(0, pre + (closing ? -1 : 1));
  }
  return out
    .join('')
    .replace(/\u00a0/g, ' ')
    .split('\n')
    // trimEnd, not a `[ \t]+$` regex: that pattern is quadratic on long inner runs (<pre>).
    .map((l) => {
      const t = l.trimEnd();
      return t.startsWith(' ') && !t.startsWith('  ') ? t.slice(1) : t;
    })
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}
