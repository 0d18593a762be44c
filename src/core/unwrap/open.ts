import type { DecryptionMaterial } from '../cms/decrypt.js';
import { extractContent, type MessageContent } from '../mime/content.js';
import { header, type MimeEntity } from '../mime/entity.js';
import { unwrapLayers, type Layer, type UnwrapOptions } from './layers.js';

export interface OpenedMessage {
  readonly layers: readonly Layer[];
  /** Headers of the transport message: unprotected, may differ from the protected ones. */
  readonly outerHeaders?: { subject?: string; from?: string; to?: string; date?: string; messageId?: string };
  /** RFC 8551 §3.1 header protection: headers of an inner message/rfc822 wrapper. */
  readonly protectedHeaders?: { subject?: string; from?: string; to?: string; date?: string };
  readonly message: MessageContent;
  /** Content octets of the outermost encryption layer. */
  readonly plaintext?: Uint8Array;
  /** The innermost content as bytes — the MIME entity the user would see, attachments included: what a scanner must see as a whole. */
  readonly innermost: Uint8Array;
  /** True when `innermost` was parsed as a MIME entity (scan it as a message, part by part). */
  readonly innermostIsMime: boolean;
  readonly unprotectedSiblings: number;
}

function pick(e: MimeEntity) {
  const out: Record<string, string> = {};
  for (const [k, n] of [
    ['subject', 'subject'],
    ['from', 'from'],
    ['to', 'to'],
    ['date', 'date'],
    ['messageId', 'message-id'],
  ] as const) {
    const v = header(e, n);
    if (v !== undefined) out[k] = v;
  }
  return out;
}

/** Unwraps every layer and extracts what the user would read. */
export async function openMessage(crypto: SubtleCrypto, input: Uint8Array, material: DecryptionMaterial, opts: UnwrapOptions = {}): Promise<OpenedMessage> {
  const u = await unwrapLayers(crypto, input, material, opts);
  let entity = u.entity;
  let protectedHeaders: OpenedMessage['protectedHeaders'];
  if (entity && (entity.contentType.mime === 'message/rfc822' || entity.contentType.mime === 'message/global') && entity.message) {
    protectedHeaders = pick(entity.message);
    entity = entity.message;
  }
  const message: MessageContent = entity ? await extractContent(crypto, entity) : { text: '', attachments: [], charsetWarnings: [] };
  const plaintext = u.firstDecrypted;
  const sender = senderAddress(protectedHeaders?.from ?? message.from ?? (u.outer ? header(u.outer, 'from') : undefined));
  return {
    layers: sender ? u.layers.map((l) => (l.type === 'signed' ? { ...l, signers: l.signers.map((s) => (s.emails ? { ...s, senderMatches: s.emails.includes(sender) } : s)) } : l)) : u.layers,
    ...(u.outer ? { outerHeaders: pick(u.outer) } : {}),
    ...(protectedHeaders ? { protectedHeaders } : {}),
    message,
    ...(plaintext ? { plaintext } : {}),
    innermost: u.entity?.raw ?? new Uint8Array(0),
    innermostIsMime: u.entity !== undefined,
    unprotectedSiblings: u.unprotectedSiblings,
  };
}

/** The addr-spec of a From header ("Name <a@b>" or a bare address), lower-case; undefined for none or several. */
export function senderAddress(from: string | undefined): string | undefined {
  if (!from) return undefined;
  const angle = [...from.matchAll(/<([^<>\s]+@[^<>\s]+)>/g)];
  if (angle.length === 1) return angle[0]![1]!.toLowerCase();
  if (angle.length > 1) return undefined;
  const bare = from.trim().match(/^[^\s<>,"]+@[^\s<>,"]+$/);
  return bare ? bare[0].toLowerCase() : undefined;
}
