/**
 * Decides from the raw original whether Unseal must hold a message. Pure: bytes in, decision out.
 * Clear-signed `multipart/signed` is not held — Thunderbird renders it and shows its own badge;
 * every `application/pkcs7-mime` layer (enveloped, opaque-signed, compressed…) is, because with
 * `mailnews.p7m_external=true` Thunderbird shows an empty body and an `smime.p7m` attachment.
 */
import { parseMime } from '../core/mime/entity.js';
import { findSmimeParts, type SmimeKind } from '../core/mime/smime-detect.js';
import type { HoldReason } from '../protocol/display.js';

export type Classification = { readonly state: 'plain' } | { readonly state: 'held'; readonly reason: HoldReason; readonly kind: SmimeKind };

const REASON: Record<Exclude<SmimeKind, 'multipart-signed'>, HoldReason> = {
  enveloped: 'smime-enveloped',
  authEnveloped: 'smime-auth-enveloped',
  'signed-data': 'smime-opaque-signed',
  compressed: 'smime-compressed',
  'certs-only': 'smime-certs-only',
};

export function classifyRaw(bytes: Uint8Array): Classification {
  const parts = findSmimeParts(parseMime(bytes)).filter((p) => p.kind !== 'multipart-signed');
  // Encryption anywhere wins over other layers: that is what must be decrypted and scanned.
  const first = parts.find((p) => p.kind === 'enveloped' || p.kind === 'authEnveloped') ?? parts[0];
  if (!first || first.kind === 'multipart-signed') return { state: 'plain' };
  return { state: 'held', reason: REASON[first.kind], kind: first.kind };
}
