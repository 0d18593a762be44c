import { UnsealError } from '../../core/errors.js';
import { unwrapLayers } from '../../core/unwrap/layers.js';
import { atMostOnePositional, one, parseArgs } from '../args.js';
import { readInput, writeFileAtomic, type CliIo } from '../io.js';
import { KEY_OPTIONS, KEY_OPTIONS_HELP, loadMaterial, noKeyGiven, subtle, withKeyHints } from '../key-options.js';

const HELP = `usage: unseal decrypt [key options] [-o FILE] [INPUT|-]

Decrypts the outermost encryption layer of INPUT (an RFC 822 message — also with the encrypted
part attached —, DER/BER CMS, PEM, or bare base64) and writes exactly its content octets.
${KEY_OPTIONS_HELP}
  -o FILE                        write to FILE instead of stdout, only on success (a regular file is
                                 replaced atomically, through a symlink if FILE is one; a FIFO or
                                 device such as /dev/stdout is written to directly)`;

export async function run(argv: string[], io: CliIo): Promise<number> {
  const p = parseArgs(argv, { ...KEY_OPTIONS, o: { value: true }, output: { value: true }, help: {} });
  if (p.flags.has('help')) {
    io.out(`${HELP}\n`);
    return 0;
  }
  const input = await readInput(atMostOnePositional(p), io);
  const material = await loadMaterial(p);
  if (noKeyGiven(material)) throw new UnsealError('usage', 'no key given: use --key, --kek, --recipient-password-file or --content-key');
  const r = await withKeyHints(material, () => unwrapLayers(subtle, input, material, { stopAfterFirstDecryption: true }));
  const out = r.firstDecrypted!;
  const target = one(p, 'o') ?? one(p, 'output');
  if (target !== undefined && target !== '-') await writeFileAtomic(target, out);
  else io.out(out);
  return 0;
}
