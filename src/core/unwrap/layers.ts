import { sha256Hex } from '../bytes.js';
import { cmsContentType } from '../cms/content-type.js';
import { decryptEnvelope, type DecryptionMaterial, type RecipientReport } from '../cms/decrypt.js';
import { canonicalizeMime, verifySignedData, type SignerReport } from '../cms/signed.js';
import { UnsealError } from '../errors.js';
import { decodeBody, parseMime, type MimeEntity } from '../mime/entity.js';
import { findSmimeParts, type SmimePart } from '../mime/smime-detect.js';
import { detectInput } from './input-detect.js';

export type Layer =
  | {
      readonly type: 'enveloped' | 'authEnveloped' | 'encrypted';
      readonly contentAlgorithm: string;
      readonly encoding: 'DER' | 'BER';
      readonly recipients: readonly RecipientReport[];
      readonly usedRecipient?: RecipientReport;
      readonly usedKeyId?: string;
      /** The key is the organisation's, held by the native host (DecryptionMaterial.remote). */
      readonly usedRemoteKey?: boolean;
      /** Where the layer was found: "" for the message itself, a MIME part path otherwise. */
      readonly mimePath?: string;
      readonly plaintextSha256: string;
    }
  | {
      readonly type: 'signed';
      readonly form: 'opaque' | 'detached';
      readonly signers: readonly SignerReport[];
      readonly mimePath?: string;
    };

export interface UnwrapOptions {
  readonly trustAnchors?: readonly Uint8Array[];
  readonly now?: Date;
  /** Stop as soon as the outermost encryption layer is open (what `unseal decrypt` writes). */
  readonly stopAfterFirstDecryption?: boolean;
  readonly maxBytes?: number;
}

export interface Unwrapped {
  readonly layers: readonly Layer[];
  /** Content octets of the outermost encryption layer, exactly as `openssl cms -decrypt -binary` writes them. */
  readonly firstDecrypted?: Uint8Array;
  /**
   * The innermost MIME entity: what the user reads (raw data inside a layer, e.g. RFC 4134 id-data
   * content, is parsed as a header-less entity). Absent only with stopAfterFirstDecryption.
   */
  readonly entity?: MimeEntity;
  /** The outer (transport) message, when the input was one: its headers are unprotected. */
  readonly outer?: MimeEntity;
  /** Unprotected MIME parts that sat beside the encrypted part (never merged into the content). */
  readonly unprotectedSiblings: number;
}

/** S/MIME layers (encryptions and signatures) opened at most; a MIME wrapper around one is not a layer. */
const MAX_LAYERS = 10;

type Cursor = { kind: 'cms'; der: Uint8Array; mimePath?: string } | { kind: 'mime'; entity: MimeEntity };

/**
 * Peels S/MIME layers in order — encryption, opaque and detached signatures, triple wraps — until
 * plain MIME remains. A layer is identified from the CMS bytes themselves, not from labels alone.
 */
export async function unwrapLayers(crypto: SubtleCrypto, input: Uint8Array, material: DecryptionMaterial, opts: UnwrapOptions = {}): Promise<Unwrapped> {
  const layers: Layer[] = [];
  let firstDecrypted: Uint8Array | undefined;
  let outer: MimeEntity | undefined;
  let unprotectedSiblings = 0;

  const detected = detectInput(input);
  let cur: Cursor;
  if (detected.type === 'cms') cur = { kind: 'cms', der: detected.der };
  else {
    outer = parseMime(input);
    cur = { kind: 'mime', entity: outer };
  }

  // Counted in layers, not loop steps: an opaque signature in a MIME part is one layer but two
  // steps (the MIME wrapper, then the CMS object).
  const another = () => {
    if (layers.length >= MAX_LAYERS) throw new UnsealError('malformed_cms', `more than ${MAX_LAYERS} nested S/MIME layers`);
  };
  for (;;) {
    if (cur.kind === 'mime') {
      // Until something was decrypted, an encrypted part may sit anywhere (attached, or inside a
      // clear-signed multipart/mixed); after that only the entity itself is a layer.
      const part = pickLayer(cur.entity, firstDecrypted === undefined);
      if (!part) break;
      another();
      if (part.path !== '' && firstDecrypted === undefined) unprotectedSiblings += countLeaves(cur.entity) - 1;
      if (part.kind === 'multipart-signed') {
        const [signedPart, sigPart] = part.entity.children;
        if (!signedPart || !sigPart) throw new UnsealError('malformed_mime', 'multipart/signed without two parts');
        const sig = await verifySignedData(crypto, decodeBody(sigPart), {
          detachedContent: canonicalizeMime(signedPart.raw),
          ...(opts.trustAnchors ? { trustAnchors: [...opts.trustAnchors] } : {}),
          ...(opts.now ? { now: opts.now } : {}),
        });
        layers.push({ type: 'signed', form: 'detached', signers: sig.signers, mimePath: part.path });
        cur = { kind: 'mime', entity: signedPart };
        continue;
      }
      const der = part.der ?? decodeBody(part.entity);
      cur = { kind: 'cms', der, mimePath: part.path };
      continue;
    }

    another();
    const kind = cmsContentType(cur.der);
    let content: Uint8Array;
    if (kind === 'enveloped' || kind === 'authEnveloped' || kind === 'encrypted') {
      const d = await decryptEnvelope(crypto, cur.der, material, opts.maxBytes !== undefined ? { maxBytes: opts.maxBytes } : {});
      content = d.content;
      layers.push({
        type: d.kind,
        contentAlgorithm: d.contentAlgorithm,
        encoding: d.encoding,
        recipients: d.recipients,
        ...(d.usedRecipient ? { usedRecipient: d.usedRecipient } : {}),
        ...(d.usedKeyId ? { usedKeyId: d.usedKeyId } : {}),
        ...(d.usedRemoteKey ? { usedRemoteKey: true } : {}),
        ...(cur.mimePath !== undefined ? { mimePath: cur.mimePath } : {}),
        plaintextSha256: await sha256Hex(crypto, content),
      });
      if (!firstDecrypted) {
        firstDecrypted = content;
        if (opts.stopAfterFirstDecryption) return { layers, firstDecrypted, unprotectedSiblings, ...(outer ? { outer } : {}) };
      }
    } else if (kind === 'signed') {
      const sig = await verifySignedData(crypto, cur.der, {
        ...(opts.trustAnchors ? { trustAnchors: [...opts.trustAnchors] } : {}),
        ...(opts.now ? { now: opts.now } : {}),
      });
      layers.push({ type: 'signed', form: 'opaque', signers: sig.signers, ...(cur.mimePath !== undefined ? { mimePath: cur.mimePath } : {}) });
      content = sig.content;
    } else if (kind === 'compressed') {
      throw new UnsealError('unsupported_algorithm', 'compressed S/MIME (RFC 3274) is not supported');
    } else {
      throw new UnsealError('malformed_cms', 'the S/MIME part does not hold a CMS object Unseal can open');
    }

    // Content of a layer is normally MIME; RFC 4134-style objects carry raw data or nested CMS.
    if (content[0] === 0x30 && cmsContentType(content) !== null) {
      cur = { kind: 'cms', der: content };
      continue;
    }
    cur = { kind: 'mime', entity: parseMime(content) };
  }

  if (opts.stopAfterFirstDecryption && !firstDecrypted) {
    throw new UnsealError('not_smime', 'no encrypted S/MIME layer found in the input');
  }
  // The loop ends only on MIME with no further layer (a CMS cursor always opens or throws).
  return {
    layers,
    ...(firstDecrypted ? { firstDecrypted } : {}),
    entity: cur.entity,
    unprotectedSiblings,
    ...(outer ? { outer } : {}),
  };
}

/**
 * The next layer to open in a MIME entity: the entity itself when it is S/MIME; before anything was
 * decrypted also an encrypted part further down (forwarded p7m, torture 03; a p7m inside a
 * clear-signed multipart/mixed). Inside decrypted content only the entity itself counts, so an
 * attachment that happens to be a .p7m is shown as an attachment, not silently opened and merged.
 */
function pickLayer(e: MimeEntity, beforeDecryption: boolean): SmimePart | undefined {
  const parts = findSmimeParts(e);
  const self = parts.find((p) => p.path === '' && p.kind !== 'certs-only');
  if (self) return self;
  if (!beforeDecryption) return undefined;
  return parts.find((p) => p.kind === 'enveloped' || p.kind === 'authEnveloped') ?? parts.find((p) => p.kind === 'signed-data' || p.kind === 'multipart-signed');
}

function countLeaves(e: MimeEntity): number {
  if (e.children.length === 0) return 1;
  return e.children.reduce((n, c) => n + countLeaves(c), 0);
}
