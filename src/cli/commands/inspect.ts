import { inspect } from '../../core/unwrap/inspect.js';
import { atMostOnePositional, parseArgs } from '../args.js';
import { readInput, type CliIo } from '../io.js';

const HELP = `usage: unseal inspect [INPUT|-]

Prints the S/MIME structure of INPUT and who it is encrypted for (recipient identifiers and
algorithms), as JSON. No key is needed.`;

export async function run(argv: string[], io: CliIo): Promise<number> {
  const p = parseArgs(argv, { help: {} });
  if (p.flags.has('help')) {
    io.out(`${HELP}\n`);
    return 0;
  }
  const input = await readInput(atMostOnePositional(p), io);
  io.out(`${JSON.stringify(inspect(input), null, 2)}\n`);
  return 0;
}
