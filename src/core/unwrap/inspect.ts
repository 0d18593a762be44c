import { cmsContentType } from '../cms/content-type.js';
import { describeRecipients, type RecipientReport } from '../cms/decrypt.js';
import { parseEnvelope } from '../cms/enveloped-parse.js';
import { resolveContentCipher } from '../cms/content-decrypt.js';
import { oidName } from '../cms/oids.js';
import { UnsealError } from '../errors.js';
import { decodeBody, header, parseMime } from '../mime/entity.js';
import { findSmimeParts } from '../mime/smime-detect.js';
import { detectInput } from './input-detect.js';

export interface InspectedObject {
  readonly mimePath?: string;
  readonly mimeType?: string;
  readonly cmsType: string;
  readonly size: number;
  readonly encoding?: 'DER' | 'BER';
  readonly contentAlgorithm?: string;
  readonly recipients?: readonly RecipientReport[];
  readonly error?: { kind: string; message: string };
}

export interface Inspection {
  readonly input: 'cms' | 'mime';
  readonly armour?: string;
  readonly headers?: { subject?: string; from?: string; to?: string; messageId?: string };
  readonly objects: readonly InspectedObject[];
}

function inspectCms(der: Uint8Array, extra: { mimePath?: string; mimeType?: string }): InspectedObject {
  const kind = cmsContentType(der);
  const base = { ...extra, cmsType: kind ?? 'unknown', size: der.length };
  if (kind !== 'enveloped' && kind !== 'authEnveloped' && kind !== 'encrypted') return base;
  try {
    const env = parseEnvelope(der);
    let contentAlgorithm: string;
    try {
      contentAlgorithm = resolveContentCipher(env.contentEncryptionAlgorithm, env.kind === 'authEnveloped').name;
    } catch {
      contentAlgorithm = oidName(env.contentEncryptionAlgorithm.oid);
    }
    return { ...base, encoding: env.ber ? 'BER' : 'DER', contentAlgorithm, recipients: describeRecipients(env) };
  } catch (e) {
    const err = e instanceof UnsealError ? e.toJSON() : { kind: 'internal', message: String(e) };
    return { ...base, error: err };
  }
}

/** Structure and recipients of a message or CMS object, without any key. */
export function inspect(input: Uint8Array): Inspection {
  const d = detectInput(input);
  if (d.type === 'cms') return { input: 'cms', armour: d.armour, objects: [inspectCms(d.der, {})] };
  const root = parseMime(input);
  const h = (n: string) => header(root, n);
  const objects = findSmimeParts(root).map((p) => {
    const extra = { mimePath: p.path, mimeType: p.entity.contentType.mime };
    if (p.kind === 'multipart-signed') return { ...extra, cmsType: 'multipart-signed', size: p.entity.raw.length };
    return inspectCms(p.der ?? decodeBody(p.entity), extra);
  });
  const headers = Object.fromEntries(
    (
      [
        ['subject', h('subject')],
        ['from', h('from')],
        ['to', h('to')],
        ['messageId', h('message-id')],
      ] as const
    ).filter(([, v]) => v !== undefined),
  );
  return { input: 'mime', headers, objects };
}
