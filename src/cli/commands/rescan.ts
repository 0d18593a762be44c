/**
 * `unseal rescan`: decrypt every message of a mail store with your keys and scan the plaintext again
 * (after a signature update, or on a schedule), skipping what the same signatures already saw.
 */
import { readFile } from 'node:fs/promises';
import { UnsealError } from '../../core/errors.js';
import { newRescanState, rescan, rescanExitCode, restoreRescanState, type RescanResult, type RescanState, type RescanSummary } from '../../core/rescan/rescan.js';
import { scanMessage } from '../../host/scan-message.js';
import { createScanner } from '../../host/scanners/create.js';
import { guardWithCanaries } from '../../host/scanners/guarded.js';
import { utf8 } from '../../core/bytes.js';
import { many, one, parseArgs, timeoutOption } from '../args.js';
import { ioMessage, writeFileAtomic, type CliIo } from '../io.js';
import { KEY_OPTIONS, KEY_OPTIONS_HELP, loadMaterial, loadTrust, subtle } from '../key-options.js';
import { openMailbox } from '../mailbox.js';

const HELP = `usage: unseal rescan [key options] --scanner URL [--json] [--state FILE] MBOX|MAILDIR|DIR

Decrypts every message of an mbox file, a Maildir (cur/ and new/) or a directory tree of .eml files
with your keys and scans the plaintext with the scanner (whole message and every part). Nothing of
the plaintext is printed or stored.
${KEY_OPTIONS_HELP}
  --trust FILE     trust anchors for signature checks inside (PEM/DER; repeatable)
  --scanner URL    clamd+unix:///PATH, clamd://HOST:PORT, icap://HOST:PORT/SERVICE, command:...
                   (default: $UNSEAL_SCANNER)
  --state FILE     remember plaintext SHA-256 + signature version of every definite verdict; a later
                   run skips messages whose plaintext the same signatures already scanned, and
                   continues a run that was interrupted
  --force          scan everything again, whatever the state file says (and update it)
  --json           print {summary, results: [{id, messageId, status, findings, ...}]}
  --timeout MS     per scanner call (default 120000, at most 2147483647)
exit codes: 0 every encrypted message clean (or skipped as clean; messages that are not encrypted do
not count), 10 something infected (also when found by an earlier run and skipped now), 11 nothing
infected but something not scanned or not decrypted (a message for another key, a malformed one);
2 usage, 7 keys.`;

async function readState(path: string): Promise<RescanState> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return newRescanState();
    throw new UnsealError('io', ioMessage(`cannot read state file ${path}`, e));
  }
  try {
    return restoreRescanState(JSON.parse(text));
  } catch {
    throw new UnsealError('usage', `state file ${path} is not JSON written by unseal rescan`);
  }
}

export function formatSummary(s: RescanSummary): string {
  return (
    `messages: ${s.total}\nscanned: ${s.scanned} (clean ${s.clean}, infected ${s.infected}, unscanned ${s.unscanned})\n` +
    `could not decrypt: ${s.couldNotDecrypt}\nskipped (already scanned with these signatures): ${s.skipped}${s.skippedInfected ? ` (${s.skippedInfected} infected)` : ''}\n` +
    `not encrypted: ${s.notEncrypted}\n`
  );
}

/**
 * 10 infected, else 11 when any message was not scanned or could not be decrypted (its content was
 * never scanned either), else 0. Messages that are not encrypted are not this command's business.
 */
export function exitCodeFor(s: RescanSummary): 0 | 10 | 11 {
  const code = rescanExitCode(s);
  return code === 0 && s.couldNotDecrypt > 0 ? 11 : code;
}

function resultLine(r: RescanResult): string | undefined {
  const who = r.messageId ? `${r.id} ${r.messageId}` : r.id;
  switch (r.status) {
    case 'infected':
      return `INFECTED ${who}: ${(r.findings ?? []).map((f) => `${f.signature} in ${f.part}`).join(', ')}`;
    case 'unscanned':
      return `UNSCANNED ${who}: ${r.reason ?? ''} ${r.detail ?? ''}`.trimEnd();
    case 'could_not_decrypt':
      return `NOT DECRYPTED ${who}: ${r.reason ?? ''} ${r.detail ?? ''}`.trimEnd();
    case 'skipped':
      return r.previousVerdict === 'infected' ? `INFECTED (earlier scan) ${who}: ${(r.findings ?? []).map((f) => f.signature).join(', ')}` : undefined;
    default:
      return undefined;
  }
}

export async function run(argv: string[], io: CliIo): Promise<number> {
  const p = parseArgs(argv, { ...KEY_OPTIONS, trust: { value: true, repeat: true }, scanner: { value: true }, json: {}, force: {}, state: { value: true }, timeout: { value: true }, help: {} });
  if (p.flags.has('help')) {
    io.out(`${HELP}\n`);
    return 0;
  }
  if (p.positionals.length !== 1) throw new UnsealError('usage', 'give exactly one MBOX, MAILDIR or DIR');
  const url = one(p, 'scanner') ?? io.env['UNSEAL_SCANNER'];
  if (!url) throw new UnsealError('usage', 'no scanner: give --scanner URL or set UNSEAL_SCANNER');
  const timeoutMs = timeoutOption(p);
  if (many(p, 'key').length === 0) throw new UnsealError('usage', 'give at least one --key');

  const material = await loadMaterial(p);
  const trustAnchors = await loadTrust(many(p, 'trust'));
  const mailbox = await openMailbox(p.positionals[0]!);
  const statePath = one(p, 'state');
  const state = statePath ? await readState(statePath) : newRescanState();

  const scanner = guardWithCanaries(createScanner(url, timeoutMs === undefined ? {} : { timeoutMs }));
  const abort = new AbortController();
  const onSignal = () => abort.abort(new Error('interrupted'));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  let lastSave = Date.now();
  const save = async (force = false) => {
    if (!statePath || (!force && Date.now() - lastSave < 2_000)) return;
    lastSave = Date.now();
    await writeFileAtomic(statePath, utf8.encode(`${JSON.stringify(state)}\n`));
  };
  let outcome;
  try {
    outcome = await rescan(
      mailbox.items(),
      {
        crypto: subtle,
        material,
        unwrap: { trustAnchors },
        engine: (signal) => scanner.engineInfo(signal),
        scan: (plaintext, _meta, signal) =>
          scanMessage(plaintext, scanner, { mode: 'message', ...(signal ? { signal } : {}), ...(timeoutMs !== undefined ? { timeoutMs } : {}) }),
      },
      {
        signal: abort.signal,
        total: mailbox.count,
        force: p.flags.has('force'),
        onProgress: async (pr) => {
          if (!p.flags.has('json')) {
            const line = resultLine(pr.last);
            if (line) io.err(line);
          }
          await save();
        },
      },
      state,
    );
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await scanner.close().catch(() => {});
  }
  await save(true);
  if (!outcome.completed) throw new UnsealError('io', `interrupted after ${outcome.summary.total} of ${mailbox.count} messages${statePath ? '; run again with the same --state to continue' : ''}`);
  if (p.flags.has('json')) {
    io.out(`${JSON.stringify({ mailbox: { kind: mailbox.kind, messages: mailbox.count }, summary: outcome.summary, results: outcome.results }, null, 2)}\n`);
  } else {
    io.out(formatSummary(outcome.summary));
  }
  return exitCodeFor(outcome.summary);
}
