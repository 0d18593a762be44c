import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { EXIT_CODES, toUnsealError } from '../core/errors.js';
import { checkMessageSize } from '../core/unwrap/input-detect.js';
import { ioMessage, type CliIo, type Command } from './io.js';

const USAGE = `usage: unseal <command> [options]

commands:
  decrypt   decrypt the outermost encryption layer and write its content octets
  open      unwrap all layers, verify signatures, parse the MIME and report
  inspect   show structure and recipients (no key needed), as JSON
  scan      scan a file or message with the configured scanner
  rescan    decrypt and re-scan a mailbox (mbox, Maildir, directory of .eml)
  host      install | uninstall | doctor the native-messaging host
  policy    check FILE: validate an admin policy (policies.json, managed-storage manifest or bare settings)

run 'unseal <command> --help' for the options of one command.
exit codes: 0 ok, 1 internal error, 2 usage (also unreadable or unwritable files), 3 no matching recipient, 4 malformed input,
5 decryption or integrity failure, 6 unsupported algorithm, 7 key file unreadable or wrong password,
10 infected, 11 not scanned.`;

/** Commands load lazily so `unseal decrypt` does not pay for the host or scanner code. */
const COMMANDS: Record<string, () => Promise<{ run: Command }>> = {
  decrypt: () => import('./commands/decrypt.js'),
  open: () => import('./commands/open.js'),
  inspect: () => import('./commands/inspect.js'),
  scan: () => import('./commands/scan.js'),
  rescan: () => import('./commands/rescan.js'),
  host: () => import('./commands/host.js'),
  policy: () => import('./commands/policy.js'),
};

async function readStdin(): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of process.stdin) {
    chunks.push(c as Buffer);
    n += (c as Buffer).length;
    // Stop reading at the bound instead of buffering an endless pipe.
    checkMessageSize(n);
  }
  return new Uint8Array(Buffer.concat(chunks));
}

export async function main(argv: string[]): Promise<number> {
  const chunks: (string | Uint8Array)[] = [];
  let report = false;
  const io: CliIo = {
    stdin: readStdin,
    env: process.env,
    out: (d) => chunks.push(d),
    err: (line) => process.stderr.write(`${line}\n`),
    reportOnAnyExit: () => {
      report = true;
    },
  };
  const [name, ...rest] = argv;
  if (name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (!name) {
    process.stderr.write(`${USAGE}\n`);
    return 2;
  }
  const load = COMMANDS[name];
  if (!load) {
    io.err(`unseal: usage: unknown command '${name}' (run 'unseal --help')`);
    return 2;
  }
  let code: number;
  try {
    code = await (await load()).run(rest, io);
  } catch (e) {
    const err = toUnsealError(e);
    io.err(`unseal: ${err.kind}: ${err.message}`);
    return EXIT_CODES[err.kind];
  }
  // Verdict exit codes (10, 11) still print their report, and so does a report whose exit code is
  // its finding (host doctor); error exits never print.
  if (code === 0 || code >= 10 || report) {
    try {
      for (const c of chunks) await writeOut(c);
    } catch (e) {
      // A closed pipe or a full disk: output that did not arrive whole must not look like success
      // to the script reading it. A verdict (infected, not scanned) keeps its own exit code, which
      // is the answer a script acts on.
      io.err(`unseal: io: ${ioMessage('cannot write to standard output', e)}`);
      return code >= 10 ? code : EXIT_CODES.io;
    }
  }
  return code;
}

function writeOut(c: string | Uint8Array): Promise<void> {
  return new Promise((resolve, reject) => process.stdout.write(c, (e) => (e ? reject(e) : resolve())));
}

/**
 * Only when run as the CLI entry point (the bundle), not when imported by tests. argv[1] may be a
 * symlink to the bundle (`npm link`, a package's `bin`), so compare real paths.
 */
function isEntryPoint(): boolean {
  const arg = process.argv[1];
  if (!arg) return false;
  try {
    return realpathSync(arg) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isEntryPoint()) {
  // The write callback reports the error; without a listener the stream would also throw it.
  process.stdout.on('error', () => {});
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (e) => {
      process.stderr.write(`unseal: internal: ${String(e)}\n`);
      process.exitCode = 1;
    },
  );
}
