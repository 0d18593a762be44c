/**
 * One render port = one message document (or one Unseal viewer tab, which names its message in
 * `open.messageId`). Answers `open` with progress and one result, then
 * attachment requests for a clean message. When the document goes away the work is cancelled, so
 * a late answer has nowhere to land — fast switching between messages cannot mix them up.
 */
import type { ProgressMessage } from '../protocol/render.js';
import { isRecord } from '../protocol/validate.js';
import type { RenderPort } from '../platform/render-port.js';
import type { MessageRef, PipelineOptions } from './pipeline.js';
import type { OpenedForDisplay } from './render-model.js';

export interface SessionDeps {
  /** The message shown in the port's tab, or undefined. */
  displayed(tabId: number | undefined): Promise<MessageRef | undefined>;
  /**
   * The message with this id, for a port from one of the add-on's own pages (the Unseal viewer)
   * that named it in `open.messageId`; undefined when there is no such message.
   */
  byId?(messageId: number): Promise<MessageRef | undefined>;
  open(msg: MessageRef, opts: PipelineOptions): Promise<OpenedForDisplay>;
}

/**
 * While the pipeline works, the last progress is sent again this often. The display side gives up
 * after ANSWER_TIMEOUT_MS (8 s) of silence — that catches a background that died, not a big
 * message: one stage (decrypting 100 MB of 3DES, a slow scanner) can take far longer, and its own
 * limits (scan.timeLimitSeconds, the host's timeouts) bound it.
 */
export const HEARTBEAT_MS = 2_000;

export function serveRenderPort(port: RenderPort, deps: SessionDeps, heartbeatMs = HEARTBEAT_MS): void {
  const abort = new AbortController();
  let opened: Promise<OpenedForDisplay | undefined> | undefined;
  port.onDisconnect(() => abort.abort());
  port.onMessage((raw) => {
    if (!isRecord(raw)) return;
    if (raw['type'] === 'open' && !opened) {
      // An explicit message id counts only from the add-on's own extension pages; a display
      // script's port always opens what its tab shows (it cannot ask for another message).
      const named = raw['messageId'];
      const explicit = port.fromExtensionPage && typeof named === 'number' && Number.isSafeInteger(named) && named >= 0 ? named : undefined;
      opened = run(explicit);
      return;
    }
    if (raw['type'] === 'attachment' && typeof raw['index'] === 'number') void sendAttachment(raw['index']);
  });

  async function run(explicitId: number | undefined): Promise<OpenedForDisplay | undefined> {
    try {
      const msg = explicitId !== undefined ? await deps.byId?.(explicitId) : await deps.displayed(port.tabId);
      if (!msg) {
        port.post({ type: 'result', model: { kind: 'error', errorKind: 'no_message', message: 'Unseal could not tell which message this window shows.' } });
        return undefined;
      }
      let last: ProgressMessage | undefined;
      const beat = setInterval(() => {
        // A pipeline that ignores the abort must not keep a timer alive for a closed document.
        if (abort.signal.aborted) clearInterval(beat);
        else if (last) port.post(last);
      }, heartbeatMs);
      try {
        const r = await deps.open(msg, {
          signal: abort.signal,
          onProgress: (stage, bytes) => {
            last = { type: 'progress', stage, ...(bytes !== undefined ? { bytes } : {}) };
            port.post(last);
          },
        });
        if (!abort.signal.aborted) port.post({ type: 'result', model: r.model });
        return r;
      } finally {
        clearInterval(beat);
      }
    } catch (e) {
      // Fail closed with a reason; never a half-rendered message.
      port.post({ type: 'result', model: { kind: 'error', errorKind: 'internal', message: e instanceof Error ? e.message : String(e) } });
      return undefined;
    }
  }

  async function sendAttachment(index: number): Promise<void> {
    const r = await opened;
    const a = r?.attachment(index);
    if (!a) {
      port.post({ type: 'attachment-error', index, message: 'This attachment is not available (the message was not scanned clean).' });
      return;
    }
    port.post({ type: 'attachment-data', index, filename: a.filename, contentType: a.contentType, data: a.data });
  }
}
