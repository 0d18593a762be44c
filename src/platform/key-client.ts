/**
 * The keys page's channel to the background's KeyService (src/background/key-service.ts), so the
 * page never touches `browser.*` itself. Every call resolves to a KeyReply; nothing throws for a
 * refused request.
 */
import type { KeyReply, KeyRequest } from '../protocol/keys.js';
import { webext } from './webext.js';

export async function keyRequest<T>(req: KeyRequest): Promise<KeyReply<T>> {
  try {
    const r = (await webext.runtime.sendMessage(req)) as KeyReply<T> | undefined;
    return r ?? { ok: false, kind: 'internal', message: 'the background did not answer' };
  } catch (e) {
    return { ok: false, kind: 'internal', message: e instanceof Error ? e.message : String(e) };
  }
}

/** Offers `bytes` as a file download (the exported PKCS#12) from the page. */
export function saveFile(bytes: Uint8Array, filename: string, type = 'application/x-pkcs12'): void {
  const url = URL.createObjectURL(new Blob([bytes as Uint8Array<ArrayBuffer>], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  a.hidden = true;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}
