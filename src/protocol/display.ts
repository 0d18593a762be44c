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
import { GuardError, bool, int, isRecord, oneOf, optStr, str } from './validate.js';

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
}

export interface DisplayReportRequest extends DisplayReportBody {
  readonly type: 'display.report';
}

export type DisplayRequest = ClassifyRequest | DisplayReportRequest;

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
    };
  }
  throw new GuardError('type is unknown');
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
