/**
 * The runtime-messaging contract between the message display script (src/display) and the
 * background (src/background). Runtime-neutral: types, guards and constants only.
 *
 * Flow for every message Thunderbird shows in a message pane:
 *   display script (document_start) ──classify──▶ background: looks the displayed message up by
 *   `sender.tab.id`, reads the raw original (`getRaw(id, {decrypt:false})`) and answers a
 *   {@link GateDecision}; the display script applies it and sends a {@link DisplayReport} of what
 *   it actually rendered, which the background keeps in its diagnostics ring (storage.session).
 */
import type { AttachmentData, AttachmentError, ProgressMessage, RenderModel } from './render.js';
import { GuardError, bool, int, isRecord, oneOf, optStr, str, strArray } from './validate.js';

/** What the message pane shows for a message, as far as Unseal is concerned. */
export type DisplayState =
  /** Not S/MIME (or clear-signed only): Thunderbird's rendering is left untouched. */
  | 'plain'
  /** S/MIME suspected from the DOM; the background has not answered yet. Content hidden. */
  | 'checking'
  /** S/MIME: Thunderbird's content hidden, the message held until it is decrypted and scanned. */
  | 'held'
  /** The gate could not decide (background timeout or error). Content stays hidden: fail closed. */
  | 'error';

export const DISPLAY_STATES: readonly DisplayState[] = ['plain', 'checking', 'held', 'error'];

/** Why a message is held; the display script turns each into a localized sentence. */
export type HoldReason =
  | 'smime-enveloped'
  | 'smime-auth-enveloped'
  | 'smime-opaque-signed'
  | 'smime-compressed'
  | 'smime-certs-only'
  | 'pending-decryption'
  | 'background-timeout'
  | 'no-displayed-message'
  | 'raw-unavailable';

export const HOLD_REASONS: readonly HoldReason[] = [
  'smime-enveloped',
  'smime-auth-enveloped',
  'smime-opaque-signed',
  'smime-compressed',
  'smime-certs-only',
  'pending-decryption',
  'background-timeout',
  'no-displayed-message',
  'raw-unavailable',
];

/** What the display script saw of Thunderbird's rendering before asking (no message content). */
export interface DomHint {
  /** Thunderbird listed an `*.p7m` attachment (what `mailnews.p7m_external=true` produces). */
  readonly p7mAttachment: boolean;
  readonly readyState: 'loading' | 'interactive' | 'complete';
}

export interface ClassifyRequest {
  readonly type: 'display.classify';
  readonly hint: DomHint;
}

export type GateDecision =
  | { readonly state: 'plain'; readonly messageId?: number }
  | { readonly state: 'held'; readonly reason: HoldReason; readonly messageId?: number };

/** What the display script rendered. Facts and a digest only: never message text. */
export interface DisplayReportBody {
  readonly state: DisplayState;
  readonly reason?: HoldReason;
  /** Thunderbird's own body content was detached or made invisible by the gate. */
  readonly bodyHidden: boolean;
  /** Some of Thunderbird's body content is still rendered (visible text or elements). */
  readonly thunderbirdContentVisible: boolean;
  /** Unseal's own view (progress / held / error) is mounted and has a box. */
  readonly gateShown: boolean;
  /**
   * Length of the visible text of Thunderbird's body (whitespace-normalized) and the SHA-256 (hex)
   * of its first 65,536 characters ('' when there is none).
   */
  readonly textLength: number;
  readonly textSha256: string;
  /** `Date.now()` when the display script started, and `document.readyState` then. */
  readonly startedAt: number;
  readonly readyStateAtStart: 'loading' | 'interactive' | 'complete';
  /** Who decided the state that was rendered first. */
  readonly decidedBy: 'dom' | 'background';
  /**
   * The message this document was opened for, as the background named it in its decision. The
   * background files the report under it rather than under whatever the tab shows by the time the
   * report arrives (after fast switching, that is another message).
   */
  readonly forMessageId?: number;
  /*
   * What Unseal itself rendered for a held message, sent in a second report once the render port
   * answered (or failed). Absent from the first report (the gate's decision). Facts only.
   */
  /** The render model's kind that is shown, or 'failed' (port closed, stalled, invalid message). */
  readonly rendered?: RenderedKind;
  /** Why rendering failed; only with `rendered: 'failed'`. */
  readonly renderFailure?: RenderFailure;
  /**
   * Unseal's rendered body text (whitespace-normalized; innerText where laid out, else textContent
   * without <style>): its length and the SHA-256 (hex) of its first 65,536 characters ('' when none).
   */
  readonly renderedTextLength?: number;
  readonly renderedTextSha256?: string;
  /** Attachments listed (clean messages only). */
  readonly attachmentCount?: number;
  /** The red "blocked" banner (infected) is shown. */
  readonly blockedBanner?: boolean;
  /** Signature names of the findings shown (infected): names only, never content. */
  readonly findingSignatures?: readonly string[];
  /** Clean messages: where the key came from, and per signer 'invalid' or the certificate status. */
  readonly keySource?: 'unseal' | 'managed' | 'thunderbird';
  readonly signatureStates?: readonly string[];
  /** Unscanned: the reason; error: the error kind. */
  readonly renderedReason?: string;
  /** A "Save decrypted copy" button is offered (policy decryptedCopies.mode = folder). */
  readonly saveCopyOffered?: boolean;
  /**
   * Where it was rendered: absent or 'pane' for the message display script in Thunderbird's
   * message pane, 'viewer' for the Unseal viewer tab (pages/viewer.html), which sends the same
   * report with `forMessageId` set to the message it was opened for.
   */
  readonly surface?: 'pane' | 'viewer';
}

export type RenderedKind = RenderModel['kind'] | 'failed';
export const RENDERED_KINDS: readonly RenderedKind[] = ['plain', 'clean', 'unscanned-allowed', 'infected', 'unscanned', 'no-key', 'locked', 'error', 'failed'];
export type RenderFailure = 'disconnected' | 'stalled' | 'protocol';
export const RENDER_FAILURES: readonly RenderFailure[] = ['disconnected', 'stalled', 'protocol'];

export interface DisplayReportRequest extends DisplayReportBody {
  readonly type: 'display.report';
}

/** A link in a rendered message the user clicked and then confirmed: open it in the default browser. */
export interface OpenLinkRequest {
  readonly type: 'display.openLink';
  readonly url: string;
}

/** "Import a key" on the no-key view: open the add-on's keys page. */
export interface OpenKeysRequest {
  readonly type: 'display.openKeys';
}

/**
 * "Save decrypted copy" on a clean message when the policy allows it: the background imports the
 * scanned plaintext into the policy's folder. `forMessageId` when not sent from the message pane.
 */
export interface SaveCopyRequest {
  readonly type: 'display.saveCopy';
  readonly forMessageId?: number;
}

export type DisplayRequest = ClassifyRequest | DisplayReportRequest | OpenLinkRequest | OpenKeysRequest | SaveCopyRequest;

/** Only these schemes are handed to the default browser; the display script refuses others too. */
export const OPENABLE_URL = /^(https?:\/\/[^\s]+|mailto:[^\s]+)$/i;
export const MAX_URL_LENGTH = 8_192;

/** Callbacks of one render port (src/protocol/render.ts); called with validated messages only. */
export interface RenderHandlers {
  onProgress(p: ProgressMessage): void;
  onResult(model: RenderModel): void;
  onAttachment(a: AttachmentData | AttachmentError): void;
  /**
   * The port is gone: the background closed it or went away ('disconnected'), or it sent something
   * that failed validation ('protocol', and the channel closed the port). Not called after close().
   */
  onDisconnect(reason: 'disconnected' | 'protocol', detail: string): void;
}

export interface RenderConnection {
  requestAttachment(index: number): void;
  close(): void;
}

/**
 * The display script's only way out of its document: installed on the content-script global by
 * src/platform/display-channel.ts (listed before the gate in manifest.json), so src/display never
 * touches `browser.*` itself.
 */
export interface DisplayChannel {
  classify(hint: DomHint): Promise<GateDecision>;
  report(body: DisplayReportBody): Promise<void>;
  /** Localized UI string (`_locales/<lang>/messages.json`); the key itself when missing. */
  text(key: string, substitutions?: string[]): string;
  /** Opens the render port (`runtime.connect({name: RENDER_PORT})`) and sends `{type:'open'}`. */
  openRender(p7mAttachment: boolean, handlers: RenderHandlers): RenderConnection;
  /** Runtime message `{type:'display.openLink', url}`: the background opens it in the default browser. */
  openLink(url: string): Promise<void>;
  /** Runtime message `{type:'display.openKeys'}`: the background opens the add-on's keys page. */
  openKeysPage(): Promise<void>;
  /** Runtime message `{type:'display.saveCopy'}`: rejects with the background's reason when not saved. */
  saveDecryptedCopy?(): Promise<void>;
}

export const DISPLAY_CHANNEL_GLOBAL = '__unsealDisplayChannel';

const READY_STATES = ['loading', 'interactive', 'complete'] as const;

function parseHint(u: unknown): DomHint {
  if (!isRecord(u)) throw new GuardError('hint must be an object');
  return { p7mAttachment: bool(u, 'p7mAttachment'), readyState: oneOf(u, 'readyState', READY_STATES) };
}

/** Validates what arrives at the background's onMessage; throws GuardError naming the field. */
export function parseDisplayRequest(u: unknown): DisplayRequest {
  if (!isRecord(u)) throw new GuardError('message must be an object');
  const type = str(u, 'type');
  if (type === 'display.classify') return { type, hint: parseHint(u['hint']) };
  if (type === 'display.report') {
    const reason = optStr(u, 'reason');
    if (reason !== undefined && !(HOLD_REASONS as readonly string[]).includes(reason)) throw new GuardError('reason is unknown');
    return {
      type,
      state: oneOf(u, 'state', DISPLAY_STATES),
      ...(reason !== undefined ? { reason: reason as HoldReason } : {}),
      bodyHidden: bool(u, 'bodyHidden'),
      thunderbirdContentVisible: bool(u, 'thunderbirdContentVisible'),
      gateShown: bool(u, 'gateShown'),
      textLength: int(u, 'textLength', 0, 1 << 30),
      textSha256: str(u, 'textSha256', { pattern: /^([0-9a-f]{64})?$/ }),
      startedAt: int(u, 'startedAt', 0, Number.MAX_SAFE_INTEGER),
      readyStateAtStart: oneOf(u, 'readyStateAtStart', READY_STATES),
      decidedBy: oneOf(u, 'decidedBy', ['dom', 'background'] as const),
      ...renderedFields(u),
    };
  }
  if (type === 'display.openLink') {
    const url = str(u, 'url', { min: 1, max: MAX_URL_LENGTH });
    if (!OPENABLE_URL.test(url)) throw new GuardError('url must be an http(s) or mailto URL');
    return { type, url };
  }
  if (type === 'display.openKeys') return { type };
  if (type === 'display.saveCopy') {
    const id = u['forMessageId'] === undefined ? undefined : int(u, 'forMessageId', 0, Number.MAX_SAFE_INTEGER);
    return { type, ...(id !== undefined ? { forMessageId: id } : {}) };
  }
  throw new GuardError('type is unknown');
}

function renderedFields(u: Record<string, unknown>): Partial<DisplayReportBody> {
  const out: { -readonly [K in keyof DisplayReportBody]?: DisplayReportBody[K] } = {};
  if (u['forMessageId'] !== undefined) out.forMessageId = int(u, 'forMessageId', 0, Number.MAX_SAFE_INTEGER);
  if (u['rendered'] !== undefined) out.rendered = oneOf(u, 'rendered', RENDERED_KINDS);
  if (u['renderFailure'] !== undefined) out.renderFailure = oneOf(u, 'renderFailure', RENDER_FAILURES);
  if (u['renderedTextLength'] !== undefined) out.renderedTextLength = int(u, 'renderedTextLength', 0, Number.MAX_SAFE_INTEGER);
  if (u['renderedTextSha256'] !== undefined) out.renderedTextSha256 = str(u, 'renderedTextSha256', { pattern: /^([0-9a-f]{64})?$/ });
  if (u['attachmentCount'] !== undefined) out.attachmentCount = int(u, 'attachmentCount', 0, 100_000);
  if (u['blockedBanner'] !== undefined) out.blockedBanner = bool(u, 'blockedBanner');
  if (u['saveCopyOffered'] !== undefined) out.saveCopyOffered = bool(u, 'saveCopyOffered');
  if (u['findingSignatures'] !== undefined) out.findingSignatures = strArray(u, 'findingSignatures', 1_000, 1_000);
  if (u['keySource'] !== undefined) out.keySource = oneOf(u, 'keySource', ['unseal', 'managed', 'thunderbird'] as const);
  if (u['signatureStates'] !== undefined) out.signatureStates = strArray(u, 'signatureStates', 100, 32);
  if (u['renderedReason'] !== undefined) out.renderedReason = str(u, 'renderedReason', { max: 64 });
  if (u['surface'] !== undefined) out.surface = oneOf(u, 'surface', ['pane', 'viewer'] as const);
  return out;
}

/** Validates the background's answer on the display side. */
export function parseGateDecision(u: unknown): GateDecision {
  if (!isRecord(u)) throw new GuardError('decision must be an object');
  const state = oneOf(u, 'state', ['plain', 'held'] as const);
  const messageId = u['messageId'] === undefined ? undefined : int(u, 'messageId', 0, Number.MAX_SAFE_INTEGER);
  const id = messageId === undefined ? {} : { messageId };
  if (state === 'plain') return { state, ...id };
  const reason = str(u, 'reason');
  if (!(HOLD_REASONS as readonly string[]).includes(reason)) throw new GuardError('reason is unknown');
  return { state, reason: reason as HoldReason, ...id };
}
