/**
 * Messages as the background needs them: which message a display tab shows, and its raw original.
 * `getRaw` is always called with `decrypt: false` (Thunderbird 125+ would otherwise hand back its
 * own decryption when it holds a key).
 */
import { deadline, webext } from './webext.js';

export interface DisplayedMessage {
  readonly id: number;
  readonly headerMessageId: string;
  readonly subject: string;
  readonly folderPath?: string;
  /** The outer From as Thunderbird lists it (for the audit trail; never decrypted content). */
  readonly author?: string;
}

function toDisplayed(u: unknown): DisplayedMessage | undefined {
  if (typeof u !== 'object' || u === null) return undefined;
  const h = u as { id?: unknown; headerMessageId?: unknown; subject?: unknown; author?: unknown; folder?: { path?: unknown } };
  if (typeof h.id !== 'number') return undefined;
  return {
    id: h.id,
    headerMessageId: typeof h.headerMessageId === 'string' ? h.headerMessageId : '',
    subject: typeof h.subject === 'string' ? h.subject : '',
    ...(typeof h.folder?.path === 'string' ? { folderPath: h.folder.path } : {}),
    ...(typeof h.author === 'string' && h.author !== '' ? { author: h.author } : {}),
  };
}

/** MV3 answers `{id, messages: MessageHeader[]}`; MV2 answered the array itself. */
export function headerList(u: unknown): DisplayedMessage[] {
  const list = Array.isArray(u) ? u : typeof u === 'object' && u !== null && Array.isArray((u as { messages?: unknown }).messages) ? (u as { messages: unknown[] }).messages : [];
  return list.map(toDisplayed).filter((m): m is DisplayedMessage => m !== undefined);
}

/** One message's header by Thunderbird's id. */
export async function messageHeader(messageId: number, timeoutMs = 3_000): Promise<DisplayedMessage | undefined> {
  return toDisplayed(await deadline(webext.messages.get(messageId) as Promise<unknown>, timeoutMs, 'messages.get'));
}

export async function displayedMessages(tabId: number, timeoutMs = 3_000): Promise<DisplayedMessage[]> {
  return headerList(await deadline(webext.messageDisplay.getDisplayedMessages(tabId) as Promise<unknown>, timeoutMs, 'messageDisplay.getDisplayedMessages'));
}

/** The original bytes as stored (still encrypted). */
export async function rawMessage(messageId: number, timeoutMs = 15_000): Promise<Uint8Array> {
  const raw = (await deadline(
    webext.messages.getRaw(messageId, { decrypt: false } as Parameters<typeof webext.messages.getRaw>[1]) as Promise<unknown>,
    timeoutMs,
    'messages.getRaw',
  )) as unknown;
  if (typeof raw === 'string') {
    // MV2 `data_format: "BinaryString"`: one char per byte.
    const out = new Uint8Array(raw.length);
    for (let i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i) & 0xff;
    return out;
  }
  if (raw instanceof Blob) return new Uint8Array(await raw.arrayBuffer());
  throw new TypeError('messages.getRaw returned neither a File nor a string');
}

/**
 * Thunderbird's own decryption, for keys held in its NSS store: `getRaw(id, {decrypt: true})`.
 * Undefined when it fails; the caller checks that the result is really decrypted.
 */
export async function rawMessageDecryptedByThunderbird(messageId: number, timeoutMs = 30_000): Promise<Uint8Array | undefined> {
  try {
    const raw = (await deadline(
      webext.messages.getRaw(messageId, { decrypt: true } as Parameters<typeof webext.messages.getRaw>[1]) as Promise<unknown>,
      timeoutMs,
      'messages.getRaw(decrypt)',
    )) as unknown;
    if (raw instanceof Blob) return new Uint8Array(await raw.arrayBuffer());
    return undefined;
  } catch {
    return undefined;
  }
}
