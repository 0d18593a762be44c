/**
 * Runtime messages between the keys page and the background, which owns the key store session
 * (the unwrapped keys live only there, only while unlocked). Answered only for senders that are
 * this add-on's own pages — never for message display scripts. Runtime-neutral: types and guards.
 */
export const KEY_REQUEST_PREFIX = 'keys.';

export type KeyRequest =
  | { readonly type: 'keys.state' }
  | { readonly type: 'keys.list' }
  | { readonly type: 'keys.preview'; readonly bytes: Uint8Array; readonly password?: string; readonly filename: string }
  | { readonly type: 'keys.commit'; readonly token: string; readonly ids: readonly string[] }
  | { readonly type: 'keys.remove'; readonly id: string }
  | { readonly type: 'keys.export'; readonly id: string; readonly password: string }
  | { readonly type: 'keys.unlock'; readonly passphrase: string }
  | { readonly type: 'keys.lock' }
  | { readonly type: 'keys.setPassphrase'; readonly next: string; readonly current?: string };

export type KeyReply<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly kind: string; readonly message: string; readonly locked?: boolean };

export interface KeyPolicyView {
  readonly importAllowed: boolean;
  readonly exportAllowed: boolean;
  readonly passphraseRequired: boolean;
  /** 0 = never. */
  readonly idleLockMinutes: number;
  readonly retainRetiredKeys: boolean;
  /** 'host': the native host's organisation-managed keys are used and listed too. */
  readonly managedSource: 'none' | 'host';
}

export interface KeysState {
  readonly mode: 'device' | 'passphrase';
  readonly locked: boolean;
  readonly policy: KeyPolicyView;
}

export function isKeyRequest(u: unknown): u is { type: string } {
  return !!u && typeof u === 'object' && typeof (u as { type?: unknown }).type === 'string' && (u as { type: string }).type.startsWith(KEY_REQUEST_PREFIX);
}

const str = (u: Record<string, unknown>, k: string, max = 4096): string => {
  const v = u[k];
  if (typeof v !== 'string' || v.length > max) throw new TypeError(`${k} must be a string`);
  return v;
};

/** Validates a request from the page (shape only; the sender check is the router's). */
export function parseKeyRequest(u: unknown): KeyRequest {
  if (!isKeyRequest(u)) throw new TypeError('not a key request');
  const m = u as unknown as Record<string, unknown>;
  switch (m['type']) {
    case 'keys.state':
    case 'keys.list':
    case 'keys.lock':
      return { type: m['type'] };
    case 'keys.preview': {
      const bytes = m['bytes'];
      if (!(bytes instanceof Uint8Array) || bytes.length > 10 * 1024 * 1024) throw new TypeError('bytes must be a Uint8Array of at most 10 MiB');
      return { type: 'keys.preview', bytes, filename: str(m, 'filename', 1024), ...(m['password'] !== undefined ? { password: str(m, 'password') } : {}) };
    }
    case 'keys.commit': {
      const ids = m['ids'];
      if (!Array.isArray(ids) || ids.length > 1000 || !ids.every((x) => typeof x === 'string')) throw new TypeError('ids must be strings');
      return { type: 'keys.commit', token: str(m, 'token', 100), ids: ids as string[] };
    }
    case 'keys.remove':
      return { type: 'keys.remove', id: str(m, 'id', 200) };
    case 'keys.export':
      return { type: 'keys.export', id: str(m, 'id', 200), password: str(m, 'password') };
    case 'keys.unlock':
      return { type: 'keys.unlock', passphrase: str(m, 'passphrase') };
    case 'keys.setPassphrase':
      return { type: 'keys.setPassphrase', next: str(m, 'next'), ...(m['current'] !== undefined ? { current: str(m, 'current') } : {}) };
    default:
      throw new TypeError(`unknown key request ${String(m['type'])}`);
  }
}
