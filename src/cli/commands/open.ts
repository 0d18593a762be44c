import { openMessage, type OpenedMessage } from '../../core/unwrap/open.js';
import type { Layer } from '../../core/unwrap/layers.js';
import { atMostOnePositional, many, parseArgs } from '../args.js';
import { readInput, type CliIo } from '../io.js';
import { KEY_OPTIONS, KEY_OPTIONS_HELP, loadMaterial, loadTrust, subtle } from '../key-options.js';

const HELP = `usage: unseal open [key options] [--trust FILE]... [--json] [INPUT|-]

Unwraps every S/MIME layer (encryption, signatures, triple wraps), verifies signatures, parses the
MIME inside and reports what the user would read: layers, text, attachments.
${KEY_OPTIONS_HELP}
  --trust FILE                   trust anchor certificates for signature checks (PEM/DER; repeatable)
  --json                         print a JSON report`;

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
      ...(m.message.html !== undefined ? { hasHtml: true } : {}),
      ...(m.message.subject !== undefined ? { subject: m.message.subject } : {}),
      attachments: m.message.attachments.map((a) => ({ path: a.path, filename: a.filename, contentType: a.contentType, size: a.size, sha256: a.sha256 })),
      charsetWarnings: m.message.charsetWarnings,
    },
  };
}

function describeLayer(l: Layer): string {
  if (l.type === 'signed') {
    const s = l.signers.map((x) => `${x.subject ?? x.email ?? 'unknown signer'}: signature ${x.signatureValid ? 'valid' : 'INVALID'}, certificate ${x.certificateStatus}${x.weakDigest ? ', weak digest' : ''}`);
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
  const p = parseArgs(argv, { ...KEY_OPTIONS, trust: { value: true, repeat: true }, json: {}, help: {} });
  if (p.flags.has('help')) {
    io.out(`${HELP}\n`);
    return 0;
  }
  const input = await readInput(atMostOnePositional(p), io);
  const material = await loadMaterial(p);
  const trustAnchors = await loadTrust(many(p, 'trust'));
  const m = await openMessage(subtle, input, material, { trustAnchors });
  io.out(p.flags.has('json') ? `${JSON.stringify(reportJson(m), null, 2)}\n` : reportText(m));
  return 0;
}

