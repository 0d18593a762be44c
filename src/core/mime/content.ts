import { base64Decode, sha256Hex } from '../bytes.js';
import { cmsContentType, type CmsKind } from '../cms/content-type.js';
import { encapsulatedContent } from '../cms/encapsulated.js';
import { UnsealError } from '../errors.js';
import { asciiText } from './charset.js';
import { decodeBody, decodeHeaderWords, decodeText, header, parseMime, type MimeEntity } from './entity.js';
import { cmsBytes } from './smime-detect.js';
import { decodeQuotedPrintable } from './transfer-encoding.js';
import { htmlToText } from './html-text.js';

export { htmlToText };

export interface AttachmentInfo {
  /** "attachments/2 invoice.zip": 1-based index among attachments, then the display name. */
  path: string;
  filename?: string;
  contentType: string;
  /** Decoded size in bytes. */
  size: number;
  sha256: string;
  entity: MimeEntity;
}

export interface MessageContent {
  /** What the user reads: text/plain, else text derived from text/html. */
  text: string;
  /**
   * Raw decoded HTML of each HTML body part, in order, if the message has any; NOT sanitised.
   * Kept apart so that no part's markup can run into the next one's (an attribute left open at
   * the end of one part would otherwise swallow the next part's text).
   */
  htmlParts?: string[];
  attachments: AttachmentInfo[];
  subject?: string;
  from?: string;
  to?: string;
  date?: string;
  messageId?: string;
  charsetWarnings: string[];
}

export interface LeafPart {
  path: string;
  contentType: string;
  filename?: string;
  data: () => Uint8Array;
  /**
   * Set on an entry that stands for content nobody scanned, so the message must not be called
   * clean: `encrypted` — encryption inside the decrypted content (a forwarded S/MIME or PGP/MIME
   * message; Unseal does not decrypt it); `unreadable` — an S/MIME object whose content could not
   * be read (corrupt, compressed, nested deeper than MAX_OPAQUE_NESTING) or the MAX_LEAF_PARTS
   * bound was reached. Such an entry is extra (the part itself is listed too, with its bytes);
   * its `data()` throws, so a caller that ignores the flag still cannot scan it as clean.
   */
  opaque?: 'encrypted' | 'unreadable';
}

/** Opaque signatures inside opaque signatures (each unwrapped for scanning) beyond this are not read. */
export const MAX_OPAQUE_NESTING = 8;
/** leafParts lists at most this many entries; past it, one `opaque: 'unreadable'` entry ends the list. */
export const MAX_LEAF_PARTS = 10_000;

/** A body item: text the user reads, and the HTML it came from (or its HTML alternative). */
interface BodyItem {
  entity: MimeEntity;
  partPath: string;
  kind: 'plain' | 'html';
  /** For multipart/alternative: the HTML sibling kept next to the chosen plain text. */
  htmlAlternative?: { entity: MimeEntity; partPath: string };
}

interface Layout {
  body: BodyItem[];
  attachments: { entity: MimeEntity; partPath: string }[];
}

function childPath(path: string, i: number): string {
  return path === '' ? String(i + 1) : `${path}.${i + 1}`;
}

const READABLE = new Set(['text/plain', 'text/html']);

/**
 * Inline vs attachment: `Content-Disposition: attachment` always wins; plain text and HTML are
 * shown inline unless they carry a filename without an inline disposition (Apple Mail and
 * Outlook name attached .txt files that way); every other type is an attachment, including
 * inline images, so the user sees (and the scanner names) everything that is not text.
 */
function isAttachment(e: MimeEntity): boolean {
  const disp = e.disposition?.type;
  if (disp === 'attachment') return true;
  if (!READABLE.has(e.contentType.mime)) return true;
  return disp !== 'inline' && e.filename !== undefined;
}

function layout(e: MimeEntity, path: string, out: Layout): void {
  const { type, subtype, mime } = e.contentType;
  if (type === 'multipart' && e.children.length > 0) {
    if (subtype === 'alternative') return layoutAlternative(e, path, out);
    if (subtype === 'related') return layoutRelated(e, path, out);
    if (subtype === 'signed') {
      // The signature is part of the signed layer, not content; another layer reports it.
      layout(e.children[0]!, childPath(path, 0), out);
      return;
    }
    e.children.forEach((c, i) => layout(c, childPath(path, i), out));
    return;
  }
  if (mime === 'message/rfc822' || mime === 'message/global' || type === 'multipart' || isAttachment(e)) {
    out.attachments.push({ entity: e, partPath: path });
    return;
  }
  out.body.push({ entity: e, partPath: path, kind: mime === 'text/html' ? 'html' : 'plain' });
}

/** Prefer text/plain for reading, keep the richest HTML alternative as `html`. */
function layoutAlternative(e: MimeEntity, path: string, out: Layout): void {
  const kids = e.children.map((c, i) => ({ c, p: childPath(path, i) }));
  const plain = kids.find(({ c }) => c.contentType.mime === 'text/plain' && !isAttachment(c));
  let rich: { c: MimeEntity; p: string } | undefined;
  for (const k of kids) if (k.c.contentType.mime === 'text/html' || k.c.contentType.type === 'multipart') rich = k;
  if (!plain) {
    const chosen = rich ?? kids[kids.length - 1]!;
    layout(chosen.c, chosen.p, out);
    return;
  }
  if (!rich) {
    out.body.push({ entity: plain.c, partPath: plain.p, kind: 'plain' });
    return;
  }
  // The rich alternative may be multipart/related (HTML + inline images): its attachments count,
  // its HTML becomes `html`, its text is superseded by the plain alternative.
  const sub: Layout = { body: [], attachments: [] };
  layout(rich.c, rich.p, sub);
  const html = sub.body.find((b) => b.kind === 'html');
  out.body.push(
    html
      ? { entity: plain.c, partPath: plain.p, kind: 'plain', htmlAlternative: { entity: html.entity, partPath: html.partPath } }
      : { entity: plain.c, partPath: plain.p, kind: 'plain' },
  );
  out.attachments.push(...sub.attachments);
}

/** RFC 2387: the root is named by `start` (a Content-ID) or is the first part. */
function layoutRelated(e: MimeEntity, path: string, out: Layout): void {
  const start = e.contentType.params['start']?.trim();
  let rootIndex = 0;
  if (start) {
    const k = e.children.findIndex((c) => header(c, 'content-id')?.trim() === start);
    if (k >= 0) rootIndex = k;
  }
  e.children.forEach((c, i) => {
    if (i === rootIndex) layout(c, childPath(path, i), out);
    else out.attachments.push({ entity: c, partPath: childPath(path, i) });
  });
}

const UNSAFE_NAME = /[\u0000-\u001f\u007f/\\]+/g;

function displayName(e: MimeEntity): string | undefined {
  if (e.filename) return e.filename.replace(UNSAFE_NAME, '_');
  if (e.message) {
    const subject = header(e.message, 'subject');
    const s = subject ? decodeHeaderWords(subject).replace(UNSAFE_NAME, '_').trim().slice(0, 80) : '';
    return `${s || 'message'}.eml`;
  }
  return undefined;
}

function attachmentPath(index: number, e: MimeEntity): string {
  const name = displayName(e);
  return `attachments/${index}${name ? ` ${name}` : ''}`;
}

function decodedHeader(e: MimeEntity, name: string): string | undefined {
  const v = header(e, name);
  return v === undefined ? undefined : decodeHeaderWords(v);
}

function warnIfFallback(
  warnings: string[],
  e: MimeEntity,
  partPath: string,
  r: { charset: string; charsetFallback?: boolean },
): void {
  if (!r.charsetFallback) return;
  const declared = e.contentType.params['charset'];
  const where = partPath === '' ? 'message body' : `part ${partPath}`;
  warnings.push(
    declared === undefined || declared.toLowerCase() === 'us-ascii'
      ? `${where}: declared us-ascii but holds 8-bit bytes; decoded as ${r.charset}`
      : r.charset === declared.toLowerCase()
        ? `${where}: invalid ${r.charset} byte sequences were replaced`
        : `${where}: charset "${declared}" is unknown or does not fit; decoded as ${r.charset}`,
  );
}

/**
 * What a (decrypted) entity shows: readable text, the HTML if any, attachments with decoded size
 * and SHA-256, and the main headers (RFC 2047-decoded). An attached message is listed as an
 * attachment and its text is not merged into the body.
 */
export async function extractContent(crypto: SubtleCrypto, e: MimeEntity): Promise<MessageContent> {
  const lay: Layout = { body: [], attachments: [] };
  layout(e, '', lay);
  const charsetWarnings: string[] = [];
  const texts: string[] = [];
  const htmls: string[] = [];
  const read = (entity: MimeEntity, partPath: string): string => {
    const r = decodeText(entity);
    warnIfFallback(charsetWarnings, entity, partPath, r);
    return r.text;
  };
  for (const item of lay.body) {
    const t = read(item.entity, item.partPath);
    if (item.kind === 'html') {
      htmls.push(t);
      texts.push(htmlToText(t));
    } else {
      texts.push(t);
      if (item.htmlAlternative) htmls.push(read(item.htmlAlternative.entity, item.htmlAlternative.partPath));
    }
  }
  const attachments: AttachmentInfo[] = [];
  for (const [i, a] of lay.attachments.entries()) {
    const data = decodeBody(a.entity);
    const info: AttachmentInfo = {
      path: attachmentPath(i + 1, a.entity),
      contentType: a.entity.contentType.mime,
      size: data.length,
      sha256: await sha256Hex(crypto, data),
      entity: a.entity,
    };
    if (a.entity.filename !== undefined) info.filename = a.entity.filename;
    attachments.push(info);
  }
  const content: MessageContent = { text: texts.filter((t) => t !== '').join('\n\n'), attachments, charsetWarnings };
  if (htmls.length > 0) content.htmlParts = htmls;
  const fields = [
    ['subject', 'subject'],
    ['from', 'from'],
    ['to', 'to'],
    ['date', 'date'],
    ['messageId', 'message-id'],
  ] as const;
  for (const [key, name] of fields) {
    const v = decodedHeader(e, name);
    if (v !== undefined) content[key] = v;
  }
  return content;
}

/**
 * Every decoded leaf for separate virus scanning, each with a human path: body text parts as
 * "body/N", attachments numbered exactly as `extractContent` numbers them, and leaves that are
 * neither (a multipart/signed signature, unchosen alternatives, a multipart whose boundary never
 * occurs) as "parts/<part path>". An attached message is yielded whole and then its own parts,
 * prefixed "attachments/3 fwd.eml › ".
 *
 * A leaf holding an opaque S/MIME signature (application/pkcs7-mime signed-data, or anything whose
 * bytes are a SignedData: a .p7m attachment, octet-stream; base64, QP or binary) is unwrapped
 * without a key and without verification: its encapsulated content follows as
 * "… › signed content", then that content's own leaves ("… › signed content › attachments/1 x").
 * Encrypted content (EnvelopedData, AuthEnvelopedData, EncryptedData, multipart/encrypted) and
 * what cannot be read get an extra entry with `opaque` set (see LeafPart).
 */
export function leafParts(e: MimeEntity): LeafPart[] {
  const ctx: LeafCtx = { out: [], nesting: 0, full: false };
  collectLeaves(e, '', ctx);
  return ctx.out;
}

interface LeafCtx {
  out: LeafPart[];
  /** Opaque signatures currently being unwrapped. */
  nesting: number;
  full: boolean;
}

function push(ctx: LeafCtx, leaf: LeafPart): boolean {
  if (ctx.full) return false;
  if (ctx.out.length >= MAX_LEAF_PARTS) {
    ctx.full = true;
    ctx.out.push(opaqueEntry(`more than ${MAX_LEAF_PARTS} parts`, 'unreadable', new UnsealError('too_large', `the message has more than ${MAX_LEAF_PARTS} parts; the rest was not listed for scanning`)));
    return false;
  }
  ctx.out.push(leaf);
  return true;
}

function opaqueEntry(path: string, opaque: 'encrypted' | 'unreadable', why: UnsealError): LeafPart {
  return {
    path,
    contentType: 'application/octet-stream',
    opaque,
    data: () => {
      throw why;
    },
  };
}

function encryptedEntry(path: string): LeafPart {
  return opaqueEntry(
    `${path} › encrypted content`,
    'encrypted',
    new UnsealError('unsupported_algorithm', 'encrypted content inside the decrypted message is not decrypted, so it cannot be scanned'),
  );
}

function unreadableEntry(path: string, message: string): LeafPart {
  return opaqueEntry(`${path} › unreadable content`, 'unreadable', new UnsealError('malformed_cms', `${message}, so its content cannot be scanned`));
}

const PKCS7_MIME = new Set(['application/pkcs7-mime', 'application/x-pkcs7-mime']);

/** The first decoded bytes of a body, enough to see a ContentInfo header, without decoding it all. */
function bodyPrefix(e: MimeEntity): Uint8Array {
  switch (e.transferEncoding) {
    case 'base64': {
      const t = asciiText(e.body.subarray(0, 512)).replace(/[^A-Za-z0-9+/\-_]+/g, '');
      try {
        return base64Decode(t.slice(0, t.length - (t.length % 4)));
      } catch {
        return new Uint8Array(0);
      }
    }
    case 'quoted-printable':
      return decodeQuotedPrintable(e.body.subarray(0, 256));
    case '7bit':
    case '8bit':
    case 'binary':
      return e.body.subarray(0, 64);
    default:
      return decodeBody(e).subarray(0, 64);
  }
}

/**
 * The leaf's CMS object, if it is one: sniffed from its bytes whatever the label; a part labelled
 * pkcs7-mime or named *.p7m that holds no readable CMS is `unreadable` rather than passed over.
 */
function leafCms(e: MimeEntity): { der: Uint8Array; kind: CmsKind } | { unreadable: string } | null {
  const labelled = PKCS7_MIME.has(e.contentType.mime) || /\.p7m$/i.test(e.filename ?? '');
  const prefix = bodyPrefix(e);
  if (!labelled && !(prefix[0] === 0x30 && cmsContentType(prefix) !== null)) return null;
  const der = cmsBytes(e);
  const kind = cmsContentType(der);
  if (kind) return { der, kind };
  return labelled ? { unreadable: `${e.contentType.mime} part is not a readable CMS object` } : null;
}

function expandCms(der: Uint8Array, kind: CmsKind, path: string, ctx: LeafCtx): void {
  switch (kind) {
    case 'enveloped':
    case 'authEnveloped':
    case 'encrypted':
      push(ctx, encryptedEntry(path));
      return;
    case 'signed':
    case 'data': {
      let content: Uint8Array | undefined;
      try {
        content = encapsulatedContent(der);
      } catch (e) {
        push(ctx, unreadableEntry(path, `the S/MIME object is corrupt (${e instanceof Error ? e.message : String(e)})`));
        return;
      }
      if (!content) return; // a detached signature or certificates only: nothing is wrapped
      const contentPath = `${path} › signed content`;
      if (ctx.nesting >= MAX_OPAQUE_NESTING) {
        push(ctx, unreadableEntry(path, `S/MIME signatures are nested more than ${MAX_OPAQUE_NESTING} deep`));
        return;
      }
      const bytes = content;
      if (!push(ctx, { path: contentPath, contentType: 'application/octet-stream', data: () => bytes })) return;
      ctx.nesting++;
      try {
        expandContent(bytes, contentPath, ctx);
      } finally {
        ctx.nesting--;
      }
      return;
    }
    default:
      push(ctx, unreadableEntry(path, `${kind} S/MIME content is not supported`));
  }
}

/** Signed content is usually MIME (its leaves are listed), may be CMS again, or plain data. */
function expandContent(content: Uint8Array, path: string, ctx: LeafCtx): void {
  if (content[0] === 0x30) {
    const kind = cmsContentType(content);
    if (kind) return expandCms(content, kind, path, ctx);
  }
  let root: MimeEntity;
  try {
    root = parseMime(content);
  } catch (e) {
    // Binary without headers is data, already listed whole; MIME past the parser's limits is not.
    if (content.subarray(0, 1024).indexOf(0) !== -1) return;
    push(ctx, unreadableEntry(path, `the signed content is not readable MIME (${e instanceof Error ? e.message : String(e)})`));
    return;
  }
  if (root.headers.length === 0) return; // plain text: listed whole already
  collectLeaves(root, `${path} › `, ctx);
}

function collectLeaves(root: MimeEntity, prefix: string, ctx: LeafCtx): void {
  const lay: Layout = { body: [], attachments: [] };
  layout(root, '', lay);
  const names = new Map<MimeEntity, string>();
  let b = 0;
  for (const item of lay.body) {
    names.set(item.entity, `body/${++b}`);
    if (item.htmlAlternative) names.set(item.htmlAlternative.entity, `body/${++b}`);
  }
  lay.attachments.forEach((a, i) => names.set(a.entity, attachmentPath(i + 1, a.entity)));

  const visit = (e: MimeEntity, partPath: string): void => {
    if (ctx.full) return;
    const named = names.get(e);
    const path = prefix + (named ?? `parts/${partPath === '' ? '0' : partPath}`);
    if (e.contentType.mime === 'multipart/encrypted') push(ctx, encryptedEntry(path));
    if (e.children.length > 0 && named === undefined) {
      e.children.forEach((c, i) => visit(c, childPath(partPath, i)));
      return;
    }
    const leaf: LeafPart = { path, contentType: e.contentType.mime, data: () => decodeBody(e) };
    if (e.filename !== undefined) leaf.filename = e.filename;
    if (!push(ctx, leaf)) return;
    if (e.message) collectLeaves(e.message, `${path} › `, ctx);
    // An attached multipart (related resources) is listed whole; its leaves are scanned as well.
    else if (e.children.length > 0) e.children.forEach((c, i) => visit(c, childPath(partPath, i)));
    else {
      const cms = leafCms(e);
      if (cms && 'unreadable' in cms) push(ctx, unreadableEntry(path, cms.unreadable));
      else if (cms) expandCms(cms.der, cms.kind, path, ctx);
    }
  };
  visit(root, '');
}
