/**
 * What the policy does after a verdict, and the decrypted copy. The mail operations are passed in
 * (src/platform/mail-actions.ts in the add-on), so this runs in Node tests too.
 */
import type { EffectivePolicy } from '../core/policy/index.js';
import type { RenderModel } from '../protocol/render.js';

export interface MailOps {
  ensureLocalFolder(name: string): Promise<{ id: string }>;
  moveMessage(messageId: number, folderId: string): Promise<void>;
  tagMessage(messageId: number, label: string): Promise<void>;
  importMessage(bytes: Uint8Array, folderId: string): Promise<number>;
}

export class InfectedActions {
  /** Each message is acted on once per session (re-opening it must not move or tag it again). */
  private readonly done = new Set<number>();

  constructor(
    private readonly ops: MailOps,
    private readonly log: (line: string) => void = () => undefined,
  ) {}

  async after(messageId: number, model: RenderModel, policy: EffectivePolicy): Promise<void> {
    if (model.kind !== 'infected') return;
    await this.infected(messageId, policy);
  }

  /** The policy's action for a message found infected (also by a re-scan, which has no render model). */
  async infected(messageId: number, policy: EffectivePolicy): Promise<void> {
    if (this.done.has(messageId)) return;
    const action = policy.onInfected.action;
    if (action === 'block') return;
    this.done.add(messageId);
    try {
      if (action === 'quarantine') {
        const folder = await this.ops.ensureLocalFolder(policy.onInfected.quarantineFolder);
        await this.ops.moveMessage(messageId, folder.id);
        this.log(`unseal: infected message ${messageId} moved to "${policy.onInfected.quarantineFolder}"`);
      } else {
        await this.ops.tagMessage(messageId, policy.onInfected.tag);
        this.log(`unseal: infected message ${messageId} tagged "${policy.onInfected.tag}"`);
      }
    } catch (e) {
      this.done.delete(messageId);
      this.log(`unseal: onInfected ${action} failed for message ${messageId}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
}

const enc = new TextEncoder();

function indexOfBytes(h: Uint8Array, n: Uint8Array, from = 0): number {
  outer: for (let i = from; i <= h.length - n.length; i++) {
    for (let j = 0; j < n.length; j++) if (h[i + j] !== n[j]) continue outer;
    return i;
  }
  return -1;
}

/**
 * A message made of the original's transport headers (From, To, Subject, Date, Message-ID …;
 * not its Content-* and MIME-Version, which describe the ciphertext), an `X-Unseal-Decrypted`
 * header with the time of saving, and the decrypted, scanned entity (which brings its own
 * Content-* headers). Line ends follow the original.
 */
export function decryptedCopy(raw: Uint8Array, plaintext: Uint8Array, savedAt: Date): Uint8Array {
  const crlf = indexOfBytes(raw, enc.encode('\r\n\r\n'));
  const lf = indexOfBytes(raw, enc.encode('\n\n'));
  const end = crlf !== -1 && (lf === -1 || crlf < lf) ? crlf : lf;
  const eol = end === crlf && crlf !== -1 ? '\r\n' : '\n';
  const head = new TextDecoder('latin1').decode(end === -1 ? raw : raw.subarray(0, end));
  const fields: string[] = [];
  for (const line of head.split(/\r?\n/)) {
    if (/^[ \t]/.test(line) && fields.length > 0) fields[fields.length - 1] += `${eol}${line}`;
    else if (line !== '') fields.push(line);
  }
  const kept = fields.filter((f) => !/^(content-[^:]*|mime-version|x-unseal-decrypted)\s*:/i.test(f));
  const header = [...kept, `X-Unseal-Decrypted: ${savedAt.toUTCString()}`, 'MIME-Version: 1.0'].join(eol) + eol;
  const latin1 = new Uint8Array(header.length);
  for (let i = 0; i < header.length; i++) latin1[i] = header.charCodeAt(i) & 0xff;
  const out = new Uint8Array(latin1.length + plaintext.length);
  out.set(latin1, 0);
  out.set(plaintext, latin1.length);
  return out;
}
