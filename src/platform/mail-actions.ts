/**
 * What the admin policy does to messages, through Thunderbird's APIs: move an infected message
 * into a quarantine folder, tag it, import a decrypted copy. Folders are looked up (and created
 * when missing) directly under Local Folders. Permissions: accountsRead (find Local Folders),
 * accountsFolders (folders.create), messagesMove, messagesTags + messagesUpdate, messagesImport.
 * MV3 shapes (Thunderbird 121+): folders and accounts are addressed by id.
 */
import { deadline, webext } from './webext.js';

interface FolderLike {
  readonly id: string;
  readonly name?: string;
  readonly path?: string;
}
interface AccountLike {
  readonly id: string;
  readonly type?: string;
  readonly rootFolder?: FolderLike;
}

/** The loose slice of `messenger.*` used here; @types describes MV2 shapes (docs/thunderbird.md pitfall 5). */
interface MailApi {
  accounts: { list(includeSubFolders?: boolean): Promise<AccountLike[]> };
  folders: { getSubFolders(folderId: string, includeSubFolders?: boolean): Promise<FolderLike[]>; create(parentId: string, name: string): Promise<FolderLike> };
  messages: {
    move(ids: number[], folderId: string): Promise<void>;
    update(id: number, props: { tags?: string[] }): Promise<void>;
    get(id: number): Promise<{ tags?: string[] }>;
    import(file: File, folderId: string, props?: Record<string, unknown>): Promise<{ id: number }>;
    tags: { list(): Promise<{ key: string; tag: string }[]>; create(key: string, tag: string, color: string): Promise<void> };
  };
}
const mail = (): MailApi => webext as unknown as MailApi;

async function localFoldersRoot(): Promise<FolderLike> {
  const accounts = await deadline(mail().accounts.list(false), 5_000, 'accounts.list');
  const local = accounts.find((a) => a.type === 'none') ?? accounts[0];
  if (!local?.rootFolder) throw new Error('no Local Folders account');
  return local.rootFolder;
}

/** The folder `name` directly under Local Folders; created when missing. */
export async function ensureLocalFolder(name: string): Promise<FolderLike> {
  const root = await localFoldersRoot();
  const subs = await deadline(mail().folders.getSubFolders(root.id, false), 5_000, 'folders.getSubFolders');
  const found = subs.find((f) => f.name === name);
  if (found) return found;
  return deadline(mail().folders.create(root.id, name), 10_000, 'folders.create');
}

export async function moveMessage(messageId: number, folderId: string): Promise<void> {
  await deadline(mail().messages.move([messageId], folderId), 30_000, 'messages.move');
}

/** Tag keys may hold letters and digits only; the label is the policy's name. */
function tagKey(label: string): string {
  return `unseal${label.toLowerCase().replace(/[^a-z0-9]/g, '')}`.slice(0, 40);
}

/** Adds the tag `label` (created if missing) to the message, keeping its other tags. */
export async function tagMessage(messageId: number, label: string): Promise<void> {
  const api = mail().messages;
  const existing = await deadline(api.tags.list(), 5_000, 'messages.tags.list');
  let key = existing.find((t) => t.tag === label)?.key;
  if (!key) {
    key = tagKey(label);
    await deadline(api.tags.create(key, label, '#A4000F'), 5_000, 'messages.tags.create');
  }
  const current = (await deadline(api.get(messageId), 5_000, 'messages.get')).tags ?? [];
  if (!current.includes(key)) await deadline(api.update(messageId, { tags: [...current, key] }), 5_000, 'messages.update');
}

/** Imports an RFC 822 message into the folder; returns the new message's id. */
export async function importMessage(bytes: Uint8Array, folderId: string, fileName = 'unseal-decrypted.eml'): Promise<number> {
  const file = new File([bytes as Uint8Array<ArrayBuffer>], fileName, { type: 'message/rfc822' });
  const header = await deadline(mail().messages.import(file, folderId, {}), 30_000, 'messages.import');
  return header.id;
}
