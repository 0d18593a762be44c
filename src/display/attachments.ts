/**
 * The attachment list of a clean message: name, type, size, and Open / Save. The bytes are not in
 * the render model; a button asks the background over the render port, and the answer becomes a
 * Blob URL in the message document that a temporary `<a download>` hands to Thunderbird's download
 * handling. The document never navigates to the Blob (an HTML attachment must not run in the
 * message's origin): "Save" uses application/octet-stream, "Open" the declared type so the
 * download dialog can offer the system application for it.
 */
import type { AttachmentSummary } from '../protocol/render.js';
import type { Text } from './view.js';

export interface AttachmentBytes {
  readonly filename: string;
  readonly contentType: string;
  readonly data: Uint8Array;
}

export type RequestAttachment = (index: number) => Promise<AttachmentBytes>;

/** How long a Blob URL lives after the download was started. */
const REVOKE_AFTER_MS = 60_000;

export function formatBytes(n: number, locale?: string): string {
  const units: [number, string][] = [
    [1e9, 'GB'],
    [1e6, 'MB'],
    [1e3, 'KB'],
  ];
  const fmt = (v: number) => {
    try {
      return v.toLocaleString(locale, { maximumFractionDigits: 1, minimumFractionDigits: 1 });
    } catch {
      return v.toFixed(1);
    }
  };
  for (const [size, unit] of units) if (n >= size) return `${fmt(n / size)} ${unit}`;
  return `${n} B`;
}

/** A file name the download may use: no path, no control characters, not empty. */
export function safeFilename(name: string): string {
  // eslint-disable-next-line no-control-regex
  const cleaned = name.replace(/[\u0000-\u001f\u007f/\\]/g, '_').replace(/^\.+/, '').trim().slice(0, 200);
  return cleaned === '' ? 'attachment' : cleaned;
}

/** Starts a download of `data` from inside `parent` (which must be in the document). */
export function saveBytes(doc: Document, parent: Node, data: Uint8Array, filename: string, type: string): void {
  const win = doc.defaultView;
  if (!win) throw new Error('no window');
  const blob = new win.Blob([data as Uint8Array<ArrayBuffer>], { type });
  const url = win.URL.createObjectURL(blob);
  const a = doc.createElement('a');
  a.href = url;
  a.download = safeFilename(filename);
  a.rel = 'noopener';
  a.hidden = true;
  parent.appendChild(a);
  try {
    a.click();
  } finally {
    a.remove();
    win.setTimeout(() => win.URL.revokeObjectURL(url), REVOKE_AFTER_MS);
  }
}

/** A safe MIME type for the Blob: type/subtype only, else octet-stream. */
function blobType(contentType: string): string {
  const t = contentType.split(';')[0]?.trim().toLowerCase() ?? '';
  return /^[a-z0-9!#$&^_.+-]+\/[a-z0-9!#$&^_.+-]+$/.test(t) ? t : 'application/octet-stream';
}

export function attachmentList(doc: Document, text: Text, list: readonly AttachmentSummary[], request: RequestAttachment, locale?: string): HTMLElement {
  const section = doc.createElement('section');
  section.className = 'attachments';
  const h = doc.createElement('h2');
  h.textContent = text('attachments_title', [String(list.length)]);
  const ul = doc.createElement('ul');
  section.append(h, ul);
  for (const a of list) {
    const li = doc.createElement('li');
    li.className = 'attachment';
    const name = doc.createElement('span');
    name.className = 'name';
    name.textContent = a.filename;
    const meta = doc.createElement('span');
    meta.className = 'meta';
    meta.textContent = `${a.contentType} · ${formatBytes(a.size, locale)}`;
    const status = doc.createElement('span');
    status.className = 'status';
    status.setAttribute('role', 'status');
    const button = (label: string, mode: 'open' | 'save') => {
      const b = doc.createElement('button');
      b.type = 'button';
      b.textContent = text(label);
      b.dataset['mode'] = mode;
      b.addEventListener('click', () => {
        status.textContent = text('attachment_fetching');
        for (const x of Array.from(li.querySelectorAll('button'))) x.disabled = true;
        request(a.index)
          .then((bytes) => {
            saveBytes(doc, li, bytes.data, bytes.filename || a.filename, mode === 'save' ? 'application/octet-stream' : blobType(bytes.contentType));
            status.textContent = text('attachment_saved');
          })
          .catch((e: unknown) => {
            status.textContent = text('attachment_failed', [e instanceof Error ? e.message : String(e)]);
          })
          .finally(() => {
            for (const x of Array.from(li.querySelectorAll('button'))) x.disabled = false;
          });
      });
      return b;
    };
    li.append(name, meta, button('attachment_open', 'open'), button('attachment_save', 'save'), status);
    ul.append(li);
  }
  return section;
}
