/**
 * Expected failures are values of one closed set of kinds, each with a message a user can act on.
 * The kind decides the CLI exit code and the add-on's banner; the message is for people.
 * Bugs are still thrown as ordinary Errors and surface as `internal`.
 */
export type ErrorKind =
  | 'usage'
  | 'internal'
  | 'no_matching_recipient'
  | 'malformed_cms'
  | 'malformed_mime'
  | 'not_smime'
  | 'too_large'
  | 'decryption_failed'
  | 'unsupported_algorithm'
  | 'key_unreadable'
  | 'wrong_password'
  | 'no_private_key'
  | 'io';

export class UnsealError extends Error {
  override readonly name = 'UnsealError';
  constructor(
    readonly kind: ErrorKind,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  /** Plain data for crossing a boundary (runtime messages, native messaging, JSON reports). */
  toJSON(): { kind: ErrorKind; message: string } {
    return { kind: this.kind, message: this.message };
  }
}

export function isUnsealError(e: unknown): e is UnsealError {
  return e instanceof UnsealError;
}

/** Wraps anything thrown into an UnsealError; unknown throwables become `internal`. */
export function toUnsealError(e: unknown): UnsealError {
  if (e instanceof UnsealError) return e;
  const msg = e instanceof Error ? e.message : String(e);
  return new UnsealError('internal', msg, { cause: e });
}

export function fail(kind: ErrorKind, message: string, cause?: unknown): never {
  throw new UnsealError(kind, message, cause === undefined ? undefined : { cause });
}

/**
 * CLI exit codes; 10 and 11 are the scan verdicts `infected` and `unscanned`. `io` (a file that
 * cannot be read or written: missing, a directory, no such output directory) is a usage problem
 * the user can fix, so it shares 2 with `usage`.
 */
export const EXIT_CODES: Readonly<Record<ErrorKind, number>> = {
  internal: 1,
  io: 2,
  usage: 2,
  no_matching_recipient: 3,
  malformed_cms: 4,
  malformed_mime: 4,
  not_smime: 4,
  too_large: 4,
  decryption_failed: 5,
  unsupported_algorithm: 6,
  key_unreadable: 7,
  wrong_password: 7,
  no_private_key: 7,
};
