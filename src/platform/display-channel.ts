/**
 * Entry point of `display/channel.js`, the first of the two message display scripts: installs the
 * {@link DisplayChannel} on the content-script global so the gate (src/display) never touches
 * `browser.*`. Both scripts share one content-script global per message document (measured).
 */
import { DISPLAY_CHANNEL_GLOBAL, parseGateDecision, type DisplayChannel, type DisplayRequest } from '../protocol/display.js';
import { webext } from './webext.js';

function send(msg: DisplayRequest): Promise<unknown> {
  return webext.runtime.sendMessage(msg) as Promise<unknown>;
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
};

Object.defineProperty(globalThis, DISPLAY_CHANNEL_GLOBAL, { value: Object.freeze(channel), configurable: false, writable: false });
