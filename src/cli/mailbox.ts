/**
 * Mail stores on disk for `unseal rescan`: an mbox file (split at `From ` lines, mboxrd `>From `
 * unquoting), a Maildir (`cur/` and `new/`), or a directory tree of `.eml` files. Messages are
 * read lazily, one at a time.
 */
import { readFile, readdir, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { UnsealError } from '../core/errors.js';
import type { RescanItem } from '../core/rescan/rescan.js';
import { ioMessage } from './io.js';

export type MailboxKind = 'mbox' | 'maildir' | 'dir';

export interface Mailbox {
  readonly kind: MailboxKind;
  /** Known up front (the mbox is split and the directories listed before the first message). */
  readonly count: number;
  items(): Iterable<RescanItem>;
}

/** Splits an mbox: every line starting with `From ` begins a message; `>From ` (any depth) loses one `>`. */
export function splitMbox(data: Uint8Array): Uint8Array[] {
  const text = Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('latin1');
  const starts: number[] = [];
  const re = /(^|\n)From /g;
  for (let m; (m = re.exec(text)); ) starts.push(m.index + m[1]!.length);
  const out: Uint8Array[] = [];
  for (let i = 0; i < starts.length; i++) {
    const from = starts[i]!;
    const end = i + 1 < starts.length ? starts[i + 1]! : text.length;
    const nl = text.indexOf('\n', from);
    if (nl === -1 || nl >= end) continue; // a separator line with no message
    let body = text.slice(nl + 1, end);
    // The blank line mbox writers put before the next separator belongs to the format, not the message.
    if (body.endsWith('\r\n\r\n')) body = body.slice(0, -2);
    else if (body.endsWith('\n\n')) body = body.slice(0, -1);
    body = body.replace(/^>(>*From )/gm, '$1');
    out.push(new Uint8Array(Buffer.from(body, 'latin1')));
  }
  return out;
}

/** The transport Message-ID, from the header block only. */
export function outerMessageId(raw: Uint8Array): string | undefined {
  const head = Buffer.from(raw.buffer, raw.byteOffset, Math.min(raw.byteLength, 65_536)).toString('latin1');
  const end = head.search(/\r?\n\r?\n/);
  const block = (end === -1 ? head : head.slice(0, end)).replace(/\r?\n[ \t]+/g, ' ');
  const m = /^message-id:[ \t]*(.*)$/im.exec(block);
  const v = m?.[1]?.trim();
  return v ? v.slice(0, 998) : undefined;
}

async function isDir(p: string): Promise<boolean> {
  return (await stat(p).catch(() => undefined))?.isDirectory() ?? false;
}

async function walkEml(root: string, dir: string, out: string[]): Promise<void> {
  const entries = await readdir(dir, { withFileTypes: true });
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of entries) {
    const p = join(dir, e.name);
    if (e.isDirectory()) await walkEml(root, p, out);
    else if (e.isFile() && /\.eml$/i.test(e.name)) out.push(p);
  }
}

async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  return entries
    .filter((e) => e.isFile() && !e.name.startsWith('.'))
    .map((e) => join(dir, e.name))
    .sort();
}

function fileItem(root: string, path: string, folder: string | undefined): RescanItem {
  let messageId: string | undefined;
  return {
    id: relative(root, path) || path,
    get meta() {
      return { ...(messageId ? { messageId } : {}), ...(folder ? { folder } : {}) };
    },
    async raw() {
      try {
        const b = new Uint8Array(await readFile(path));
        messageId = outerMessageId(b);
        return b;
      } catch (e) {
        throw new UnsealError('io', ioMessage(`cannot read ${path}`, e));
      }
    },
  };
}

/** Opens PATH as a Maildir (has cur/ or new/), a directory of .eml files (recursive), or an mbox file. */
export async function openMailbox(path: string): Promise<Mailbox> {
  const st = await stat(path).catch((e: NodeJS.ErrnoException) => {
    throw new UnsealError('io', ioMessage(`cannot read ${path}`, e));
  });
  if (st.isDirectory()) {
    if ((await isDir(join(path, 'cur'))) || (await isDir(join(path, 'new')))) {
      const files = [...(await listFiles(join(path, 'cur'))), ...(await listFiles(join(path, 'new')))];
      return { kind: 'maildir', count: files.length, items: () => files.map((f) => fileItem(path, f, path)) };
    }
    const files: string[] = [];
    await walkEml(path, path, files);
    return { kind: 'dir', count: files.length, items: () => files.map((f) => fileItem(path, f, undefined)) };
  }
  let data: Uint8Array;
  try {
    data = new Uint8Array(await readFile(path));
  } catch (e) {
    throw new UnsealError('io', ioMessage(`cannot read ${path}`, e));
  }
  const messages = splitMbox(data);
  if (messages.length === 0 && data.length > 0) throw new UnsealError('usage', `${path} is not an mbox (no "From " line), a Maildir or a directory`);
  return {
    kind: 'mbox',
    count: messages.length,
    *items() {
      for (let i = 0; i < messages.length; i++) {
        const m = messages[i]!;
        const messageId = outerMessageId(m);
        yield { id: `${path}#${i + 1}`, meta: { ...(messageId ? { messageId } : {}), folder: path }, raw: () => m };
      }
    },
  };
}
