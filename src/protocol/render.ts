/**
 * What the background tells a message display script to show for an S/MIME message, over a
 * long-lived port the display script opens (`runtime.connect({name: RENDER_PORT})`). The port lives
 * exactly as long as the message document, so a late answer can never land in another message
 * (fast switching): when the user moves on, the document and its port are gone.
 *
 * Flow: display → {type:'open', p7mAttachment, messageId?}; background → any number of {type:'progress'}, then one
 * {type:'result', model}; display → {type:'attachment', index} for a clean message only; background
 * → {type:'attachment-data'} or {type:'attachment-error'}. Runtime-neutral: types and guards only.
 */
import type { Finding, UnscannedReason } from './scan.js';

export const RENDER_PORT = 'unseal-render';

export type ProgressStage = 'reading' | 'decrypting' | 'verifying' | 'scanning';

export interface ProgressMessage {
  readonly type: 'progress';
  readonly stage: ProgressStage;
  /** Size of what is being worked on, for "decrypting 12.4 MB…". */
  readonly bytes?: number;
}

export interface HeaderSummary {
  readonly subject?: string;
  readonly from?: string;
  readonly to?: string;
  readonly cc?: string;
  readonly date?: string;
}

export interface SignatureSummary {
  /** Signature over the content checked out (independent of the certificate). */
  readonly signatureValid: boolean;
  readonly certificateStatus: 'valid' | 'expired' | 'not-yet-valid' | 'untrusted' | 'unknown-signer';
  readonly signer?: string;
  readonly email?: string;
  readonly signingTime?: string;
  readonly weakDigest: boolean;
  readonly detail?: string;
  /** The signer's certificate names other addresses than the message's sender (From). */
  readonly senderMismatch?: boolean;
}

export interface LayerSummary {
  readonly type: 'enveloped' | 'authEnveloped' | 'encrypted' | 'signed';
  /** e.g. "AES-256-CBC", "RSAES-PKCS1-v1_5" — for the details line. */
  readonly algorithm?: string;
}

export interface AttachmentSummary {
  readonly index: number;
  readonly filename: string;
  readonly contentType: string;
  readonly size: number;
}

/** An HTML body keeps its parts apart: each is sanitized and shown on its own, never joined into one markup string. */
export type RenderBody = { readonly type: 'text'; readonly text: string } | { readonly type: 'html'; readonly parts: readonly string[]; readonly text: string };

export type RenderModel =
  /** Not S/MIME after all: give Thunderbird's rendering back. */
  | { readonly kind: 'plain' }
  /** Decrypted, scanned clean: show it. */
  | ({
      readonly kind: 'clean';
      readonly scan: { readonly engine: string; readonly signatures?: string };
      /**
       * Present when the policy names a folder for decrypted copies (`decryptedCopies.mode: folder`):
       * the view offers "Save decrypted copy" there. Absent otherwise.
       */
      readonly saveCopy?: { readonly folder: string };
    } & ShownContent)
  /**
   * Warn mode (policy `scanner.required: false`): decrypted but NOT scanned (why: `unscanned`);
   * shown under a warning banner. Never produced in the default fail-closed mode.
   */
  | ({
      readonly kind: 'unscanned-allowed';
      readonly unscanned: { readonly reason: UnscannedReason | 'host_missing' | 'host_error'; readonly message: string };
    } & ShownContent)
  | { readonly kind: 'infected'; readonly findings: readonly Finding[]; readonly engine: string }
  | {
      readonly kind: 'unscanned';
      readonly reason: UnscannedReason | 'host_missing' | 'host_error';
      readonly message: string;
    }
  /** None of the stored keys is a recipient; `recipients` says for whom it was encrypted. */
  | { readonly kind: 'no-key'; readonly recipients: readonly string[] }
  /** Unseal's keys are protected by a passphrase and not unlocked: nothing was decrypted. */
  | { readonly kind: 'locked' }
  /** errorKind `blocked_by_policy`: the admin policy refuses the message (e.g. a forbidden algorithm). */
  | { readonly kind: 'error'; readonly errorKind: string; readonly message: string };

/** What a shown message carries (clean, or unscanned-allowed in warn mode). */
export interface ShownContent {
  readonly headers: HeaderSummary;
  /** RFC 8551 protected (inner) headers; shown in preference to the outer ones. */
  readonly protectedHeaders?: HeaderSummary;
  readonly layers: readonly LayerSummary[];
  readonly signatures: readonly SignatureSummary[];
  readonly body: RenderBody;
  readonly attachments: readonly AttachmentSummary[];
  /** Unencrypted parts that came with the message: never shown together with the decrypted ones. */
  readonly unprotectedParts: number;
  /** Where the key came from: Unseal's store, the organisation's keys in the native host, or Thunderbird's (getRaw decrypt:true). */
  readonly keySource: 'unseal' | 'managed' | 'thunderbird';
  /** The label of the key that opened it (Unseal's and the organisation's keys only). */
  readonly keyLabel?: string;
  readonly warnings: readonly string[];
}

export interface ResultMessage {
  readonly type: 'result';
  readonly model: RenderModel;
}

export interface AttachmentData {
  readonly type: 'attachment-data';
  readonly index: number;
  readonly filename: string;
  readonly contentType: string;
  readonly data: Uint8Array;
}

export interface AttachmentError {
  readonly type: 'attachment-error';
  readonly index: number;
  readonly message: string;
}

export type BackgroundToDisplay = ProgressMessage | ResultMessage | AttachmentData | AttachmentError;

/**
 * `open.messageId` names the message explicitly. Only the Unseal viewer tab (an extension page of
 * this add-on: pages/viewer.html) sends it, and the background honours it ONLY for a port whose
 * sender is such a page (RenderPort.fromExtensionPage); from a message display script it is
 * ignored and the message shown in the sender's tab is opened, as before.
 */
export type DisplayToBackground =
  | { readonly type: 'open'; readonly p7mAttachment: boolean; readonly messageId?: number }
  | { readonly type: 'attachment'; readonly index: number };
