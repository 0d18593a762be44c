/**
 * Entry point of `display/channel.js`, the first of the two message display scripts: installs the
 * {@link DisplayChannel} on the content-script global so the gate (src/display) never touches
 * `browser.*`. Both scripts share one content-script global per message document (measured).
 *
 * Runtime messages it sends (the background's router answers them):
 *   {type:'display.classify', hint}   → GateDecision
 *   {type:'display.report', ...body}  → {ok:true}
 *   {type:'display.openLink', url}    → background opens url in the default browser (http/https/mailto only)
 *   {type:'display.openKeys'}         → background opens the add-on's keys page
 * and one port per message document, `runtime.connect({name: RENDER_PORT})` (src/protocol/render.ts).
 */
import {
  DISPLAY_CHANNEL_GLOBAL,
  MAX_URL_LENGTH,
  OPENABLE_URL,
  parseGateDecision,
  type DisplayChannel,
  type DisplayRequest,
  type RenderConnection,
  type RenderHandlers,
} from '../protocol/display.js';
import { openRenderPort } from './render-client.js';
import { webext } from './webext.js';

function send(msg: DisplayRequest): Promise<unknown> {
  return webext.runtime.sendMessage(msg) as Promise<unknown>;
}

function openRender(p7mAttachment: boolean, handlers: RenderHandlers): RenderConnection {
  return openRenderPort({ type: 'open', p7mAttachment }, handlers);
}

const channel: DisplayChannel = {
  async classify(hint) {
    return parseGateDecision(await send({ type: 'display.classify', hint }));
  },
  async report(body) {
    await send({ type: 'display.report', ...body });
  },
  text(key, substitutions) {
    return webext.i18n.getMessage(key, substitutions) || key;
  },
  openRender,
  async openLink(url) {
    if (url.length > MAX_URL_LENGTH || !OPENABLE_URL.test(url)) throw new Error('only http, https and mailto links can be opened');
    await send({ type: 'display.openLink', url });
  },
  async openKeysPage() {
    await send({ type: 'display.openKeys' });
  },
  async saveDecryptedCopy() {
    const r = (await send({ type: 'display.saveCopy' })) as { ok?: boolean; message?: string } | undefined;
    if (!r?.ok) throw new Error(r?.message ?? 'not saved');
  },
};

Object.defineProperty(globalThis, DISPLAY_CHANNEL_GLOBAL, { value: Object.freeze(channel), configurable: false, writable: false });
