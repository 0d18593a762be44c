import { readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, basename, join } from 'node:path';
import { UnsealError } from '../core/errors.js';
import { checkMessageSize } from '../core/unwrap/input-detect.js';

/**
 * What a command may touch. Output is collected and only flushed when the command succeeds (or
 * returns a verdict exit code), so an error exit never leaves partial plaintext on stdout.
 */
export interface CliIo {
  readonly stdin: () => Promise<Uint8Array>;
  readonly env: NodeJS.ProcessEnv;
  /** Appends to the buffered stdout. */
  out(data: string | Uint8Array): void;
  /** Writes a line to stderr at once (diagnostics only, never plaintext). */
  err(line: string): void;
}

export type Command = (argv: string[], io: CliIo) => Promise<number>;

const IO_REASONS: Record<string, string> = {
  ENOENT: 'no such file',
  EISDIR: 'it is a directory',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  ENOTDIR: 'a part of the path is not a directory',
  EPIPE: 'the reader closed the pipe',
  ENOSPC: 'no space left on the device',
};

/** "cannot read x: no such file (ENOENT)" */
export function ioMessage(what: string, e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  return `${what}: ${code ? `${IO_REASONS[code] ?? 'failed'} (${code})` : String(e)}`;
}

/**
 * The input file (or stdin for undefined / "-"), refused with `too_large` before it is read when it
 * is over MAX_MESSAGE_BYTES.
 */
export async function readInput(path: string | undefined, io: CliIo): Promise<Uint8Array> {
  if (path === undefined || path === '-') {
    const bytes = await io.stdin();
    checkMessageSize(bytes.length);
    return bytes;
  }
  let size: number;
  try {
    const st = await stat(path);
    if (st.isDirectory()) throw Object.assign(new Error('directory'), { code: 'EISDIR' });
    size = st.size;
  } catch (e) {
    throw new UnsealError('io', ioMessage(`cannot read ${path}`, e));
  }
  checkMessageSize(size);
  try {
    return new Uint8Array(await readFile(path));
  } catch (e) {
    throw new UnsealError('io', ioMessage(`cannot read ${path}`, e));
  }
}

export async function readKeyFile(path: string): Promise<Uint8Array> {
  try {
    return new Uint8Array(await readFile(path));
  } catch (e) {
    throw new UnsealError('key_unreadable', `cannot read key file ${path}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
}

/** First line of a password file, without its line ending; an empty file is the empty password. */
export async function readPasswordFile(path: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new UnsealError('key_unreadable', `cannot read password file ${path}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
  const nl = text.search(/\r?\n/);
  return nl === -1 ? text : text.slice(0, nl);
}

/** Writes via a temporary file in the same directory and renames, so no partial file is left. */
export async function writeFileAtomic(path: string, data: Uint8Array): Promise<void> {
  const tmp = join(dirname(path), `.${basename(path)}.unseal-${process.pid}.tmp`);
  try {
    await writeFile(tmp, data, { mode: 0o600 });
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw new UnsealError('io', ioMessage(`cannot write ${path}`, e));
  }
}
