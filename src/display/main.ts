/**
 * Entry point of `display/gate.js`, the second message display script (after display/channel.js,
 * which installs the channel). Runs at `document_start` in every message document.
 */
import { DISPLAY_CHANNEL_GLOBAL, type DisplayChannel } from '../protocol/display.js';
import { Gate, hasP7mAttachment } from './gate.js';

const channel = (globalThis as Record<string, unknown>)[DISPLAY_CHANNEL_GLOBAL] as DisplayChannel | undefined;

if (channel) {
  void new Gate(document, channel).run();
} else if (document.readyState !== 'loading' && hasP7mAttachment(document)) {
  // Without the channel nothing can be decided: fail closed for what looks like S/MIME.
  document.body?.replaceChildren();
}
