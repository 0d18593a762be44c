/**
 * Key import reports three things a user can act on: the file is not a key/certificate
 * ('key_unreadable'), the password is wrong ('wrong_password', one message whatever failed:
 * MAC, padding or the decrypted structure, so the failure mode leaks nothing), or the algorithm
 * is not supported. Low-level BER errors carry the CMS kind and are re-labelled here.
 */
import { UnsealError, isUnsealError } from '../errors.js';

export function unreadable(what: string, detail?: string, cause?: unknown): never {
  throw new UnsealError('key_unreadable', detail ? `${what} is not readable: ${detail}` : `${what} is not readable`, cause === undefined ? undefined : { cause });
}

export function wrongPassword(what: string, cause?: unknown): never {
  throw new UnsealError('wrong_password', `wrong password for ${what}`, cause === undefined ? undefined : { cause });
}

export function unsupported(message: string): never {
  throw new UnsealError('unsupported_algorithm', message);
}

/** Re-labels structural failures (BER reader, base64, range errors) as 'key_unreadable'. */
export function relabel(what: string, e: unknown): never {
  if (isUnsealError(e) && e.kind !== 'malformed_cms' && e.kind !== 'internal') throw e;
  unreadable(what, e instanceof Error ? e.message : String(e), e);
}

export function parsing<T>(what: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    relabel(what, e);
  }
}

export async function parsingAsync<T>(what: string, f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (e) {
    relabel(what, e);
  }
}
