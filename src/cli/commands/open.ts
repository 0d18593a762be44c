import { openMessage, type OpenedMessage } from '../../core/unwrap/open.js';
import type { Layer } from '../../core/unwrap/layers.js';
import { VERDICT_EXIT_CODES } from '../../protocol/scan.js';
import { atMostOnePositional, many, one, parseArgs, timeoutOption } from '../args.js';
import { formatVerdict, scanPlaintext, scanReport } from './scan.js';
import { readInput, type CliIo } from '../io.js';
import { UnsealError } from '../../core/errors.js';
import { KEY_OPTIONS, KEY_OPTIONS_HELP, loadMaterial, loadTrust, noKeyGiven, subtle, withKeyHints } from '../key-options.js';

const HELP = `usage: unseal open [key options] [--trust FILE]... [--json] [INPUT|-]

Unwraps every S/MIME layer (encryption, signatures, triple wraps), verifies signatures, parses the
MIME inside and reports what the user would read: layers, text, attachments.
${KEY_OPTIONS_HELP}
  --trust FILE                   trust anchor certificates for signature checks (PEM/DER; repeatable)
  --json                         print a JSON report
  --scanner URL                  scan the decrypted content (whole and part by part) before showing it:
                                 clamd+unix:///PATH, clamd://HOST:PORT, icap://HOST:PORT/SERVICE, command:...
                                 (default: $UNSEAL_SCANNER). Content is printed only for a clean verdict;
                                 exit 10 infected, 11 not scanned.
  --timeout MS                   per scanner call, in milliseconds (default 120000, at most 2147483647)`;

/** JSON-safe layer: byte fields become hex, nothing of the plaintext. */
export function layerJson(l: Layer): unknown {
  if (l.type !== 'signed') return l;
  return {
    ...l,
    signers: l.signers.map(({ certificateDer: _der, ...s }) => s),
  };
}

export function reportJson(m: OpenedMessage): Record<string, unknown> {
  return {
    layers: m.layers.map(layerJson),
    ...(m.outerHeaders ? { outerHeaders: m.outerHeaders } : {}),
    ...(m.protectedHeaders ? { protectedHeaders: m.protectedHeaders } : {}),
    unprotectedSiblings: m.unprotectedSiblings,
    message: {
      text: m.message.text,
      ...(m.message.htmlParts !== undefined ? { hasHtml: true } : {}),
      ...(m.message.subject !== undefined ? { subject: m.message.subject } : {}),
      attachments: m.message.attachments.map((a) => ({ path: a.path, filename: a.filename, contentType: a.contentType, size: a.size, sha256: a.sha256 })),
      charsetWarnings: m.message.charsetWarnings,
    },
  };
}

function describeLayer(l: Layer): string {
  if (l.type === 'signed') {
    const s = l.signers.map((x) => `${x.subject ?? x.email ?? 'unknown signer'}: signature ${x.signatureValid ? 'valid' : 'INVALID'}, certificate ${x.certificateStatus}${x.weakDigest ? ', weak digest' : ''}${x.senderMatches === false ? ', NOT the sender (From)' : ''}`);
    return `signed (${l.form}) — ${s.join('; ') || 'no signers'}`;
  }
  const used = l.usedRecipient ? ` — opened via ${l.usedRecipient.type} ${l.usedRecipient.id} (${l.usedRecipient.algorithm})` : '';
  return `${l.type} ${l.contentAlgorithm} ${l.encoding}${used}`;
}

export function reportText(m: OpenedMessage): string {
  const lines: string[] = [];
  m.layers.forEach((l, i) => lines.push(`layer ${i + 1}: ${describeLayer(l)}`));
  const h = m.protectedHeaders ?? m.outerHeaders ?? {};
  if (h.subject) lines.push(`subject: ${h.subject}`);
  if (h.from) lines.push(`from: ${h.from}`);
  for (const a of m.message.attachments) lines.push(`attachment: ${a.path} (${a.contentType}, ${a.size} bytes, sha256 ${a.sha256})`);
  lines.push('', m.message.text);
  return `${lines.join('\n')}\n`;
}

export async function run(argv: string[], io: CliIo): Promise<number> {
  const p = parseArgs(argv, { ...KEY_OPTIONS, trust: { value: true, repeat: true }, json: {}, help: {}, scanner: { value: true }, timeout: { value: true } });
  if (p.flags.has('help')) {
    io.out(`${HELP}\n`);
    return 0;
  }
  const input = await readInput(atMostOnePositional(p), io);
  const material = await loadMaterial(p);
  const trustAnchors = await loadTrust(many(p, 'trust'));
  const timeoutMs = timeoutOption(p);
  let m: OpenedMessage;
  try {
    m = await withKeyHints(material, () => openMessage(subtle, input, material, { trustAnchors }));
  } catch (e) {
    // A signed-only message opens without keys; an encrypted one without any key option is the
    // same usage error as in `decrypt`.
    if (e instanceof UnsealError && e.kind === 'no_matching_recipient' && noKeyGiven(material)) {
      throw new UnsealError('usage', 'the message is encrypted and no key was given: use --key, --kek, --recipient-password-file or --content-key');
    }
    throw e;
  }
  const scannerUrl = one(p, 'scanner') ?? io.env.UNSEAL_SCANNER;
  if (scannerUrl === undefined) {
    io.out(p.flags.has('json') ? `${JSON.stringify(reportJson(m), null, 2)}\n` : reportText(m));
    return 0;
  }
  // The innermost content is known to be MIME or not; no need to guess from its first lines.
  const verdict = await scanPlaintext(m.innermost, scannerUrl, { mode: m.innermostIsMime ? 'message' : 'object', ...(timeoutMs !== undefined ? { timeoutMs } : {}) });
  // Only a scanner's positive "clean" lets content out; otherwise the report keeps layers and verdict.
  const clean = verdict.verdict === 'clean';
  if (p.flags.has('json')) {
    const full = reportJson(m);
    const { message: _m, ...withoutContent } = full;
    io.out(`${JSON.stringify({ ...(clean ? full : withoutContent), ...scanReport(verdict) }, null, 2)}\n`);
  } else {
    io.out(clean ? reportText(m) : `${m.layers.map((l, i) => `layer ${i + 1}: ${describeLayer(l)}`).join('\n')}\n`);
    io.out(formatVerdict(verdict));
  }
  return VERDICT_EXIT_CODES[verdict.verdict];
}

