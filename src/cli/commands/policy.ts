import { UnsealError } from '../../core/errors.js';
import { POLICY_SCHEMA, POLICY_SCHEMA_VERSION, extractPolicy, formatPolicyError, validate } from '../../core/policy/index.js';
import { parseArgs } from '../args.js';
import { readInput, type CliIo } from '../io.js';

const HELP = `usage: unseal policy check FILE|-

Validates Unseal's admin settings against the policy schema (docs/policy.schema.json, version
${POLICY_SCHEMA_VERSION}). FILE is a Thunderbird policies.json
  {"policies": {"3rdparty": {"Extensions": {"unseal@unseal.example": {…}}}}}
a per-user managed-storage manifest
  {"name": "unseal@unseal.example", "type": "storage", "data": {…}}
or the bare settings object. Prints one line per error (JSON path: expected …, got …) on standard
error. Exit 0 valid, 4 invalid (or not JSON), 2 usage.`;

export async function run(argv: string[], io: CliIo): Promise<number> {
  const p = parseArgs(argv, { help: {} });
  if (p.flags.has('help')) {
    io.out(`${HELP}\n`);
    return 0;
  }
  const [sub, file, ...extra] = p.positionals;
  if (sub !== 'check') throw new UnsealError('usage', sub === undefined ? 'policy needs a subcommand: check FILE' : `unknown policy subcommand '${sub}' (only 'check')`);
  if (file === undefined) throw new UnsealError('usage', 'policy check needs a FILE (or - for standard input)');
  if (extra.length > 0) throw new UnsealError('usage', `policy check takes one FILE, got ${extra.length + 1}`);

  const bytes = await readInput(file, io);
  let doc: unknown;
  try {
    doc = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (e) {
    io.err(`${file}: not JSON: ${e instanceof Error ? e.message : String(e)}`);
    return 4;
  }
  const ex = extractPolicy(doc);
  const errors = [...ex.errors, ...(ex.settings !== undefined ? validate(POLICY_SCHEMA, ex.settings, ex.where).errors : [])];
  for (const e of errors) io.err(formatPolicyError(e));
  if (errors.length > 0) {
    io.err(`${file}: ${errors.length} error${errors.length === 1 ? '' : 's'}: invalid Unseal policy (schema version ${POLICY_SCHEMA_VERSION})`);
    return 4;
  }
  io.out(`${file}: valid Unseal policy (${ex.form}, schema version ${POLICY_SCHEMA_VERSION})\n`);
  if (ex.form === 'policies.json' && !ex.p7mExternalLocked) {
    io.out('note: Preferences["mailnews.p7m_external"] is not locked to true: without it Thunderbird may render S/MIME itself, before Unseal scans it (see docs/admin-guide.md)\n');
  }
  return 0;
}
