import { lstat, readFile, readlink, realpath, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, basename, join, resolve } from 'node:path';
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
  /**
   * Marks the buffered stdout as a report that is printed whatever the exit code, for a command
   * whose non-zero exit is its finding (`host doctor`: exit 1 when a check failed). An exception
   * still discards it.
   */
  reportOnAnyExit(): void;
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
  ELOOP: 'too many levels of symbolic links',
  ENXIO: 'no reader on the other side (a socket or device without one)',
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

/** Symbolic links followed before giving up, as the kernel does (ELOOP). */
const MAX_SYMLINKS = 40;

/**
 * Where a write to `path` really lands, as open(2) would see it: an existing file through any
 * symlinks (`direct` when it is not a regular file: a FIFO, a character device such as /dev/null or
 * /dev/stdout), or the path a dangling symlink points to, or `path` itself when nothing is there.
 */
async function writeTarget(path: string, depth = 0): Promise<{ path: string; direct: boolean }> {
  try {
    // stat, not realpath: /dev/stdout → /proc/self/fd/1 → "pipe:[…]" has no real path, but is a FIFO.
    const st = await stat(path);
    if (!st.isFile()) return { path, direct: true };
    return { path: await realpath(path), direct: false };
  } catch (e) {
    // A symlink loop, a path through a non-directory or an unsearchable one: no write gets through
    // either (and a rename would replace a looping link).
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  let link: string;
  try {
    if (!(await lstat(path)).isSymbolicLink()) return { path, direct: false };
    link = await readlink(path);
  } catch {
    return { path, direct: false }; // nothing there: a new file at path
  }
  if (depth >= MAX_SYMLINKS) throw Object.assign(new Error('too many levels of symbolic links'), { code: 'ELOOP' });
  // A dangling symlink: create what it names, relative to the link's real directory.
  let dir = dirname(path);
  try {
    dir = await realpath(dir);
  } catch {
    /* the write below reports it */
  }
  return writeTarget(resolve(dir, link), depth + 1);
}

/**
 * Writes `data` to `path` the way `openssl -out` does, but without ever leaving a partial regular
 * file: a symlink is followed and the real file is replaced via a temporary file next to it and a
 * rename (the link stays); an existing FIFO or device (a pipe, /dev/null, /dev/stdout) is written
 * to directly, since renaming over it would replace the special file with a regular one.
 */
export async function writeFileAtomic(path: string, data: Uint8Array): Promise<void> {
  let target: { path: string; direct: boolean };
  try {
    target = await writeTarget(path);
  } catch (e) {
    throw new UnsealError('io', ioMessage(`cannot write ${path}`, e));
  }
  if (target.direct) {
    try {
      await writeFile(target.path, data);
    } catch (e) {
      throw new UnsealError('io', ioMessage(`cannot write ${path}`, e));
    }
    return;
  }
  const tmp = join(dirname(target.path), `.${basename(target.path)}.unseal-${process.pid}.tmp`);
  try {
    await writeFile(tmp, data, { mode: 0o600 });
    await rename(tmp, target.path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw new UnsealError('io', ioMessage(`cannot write ${path}`, e));
  }
}
