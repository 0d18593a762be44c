import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { CORPUS, EXIT_FOR_KIND, publicCases, tortureCases } from '../helpers/corpus.js';
import { join } from 'node:path';

interface OpenJson {
  layers: { type: string; form?: string; contentAlgorithm?: string; usedRecipient?: { type: string }; signers?: { signatureValid: boolean; certificateStatus: string }[] }[];
  message: { text: string; attachments: { filename?: string; contentType: string; size: number; sha256: string }[] };
}

async function open(args: string[], input: string) {
  const r = await runCli(['open', '--json', ...args, input]);
  return { r, json: r.code === 0 ? (JSON.parse(r.stdout.toString('utf8')) as OpenJson) : undefined };
}

describe.concurrent('open: what the user reads (torture cases)', () => {
  for (const c of tortureCases()) {
    const e = c.expected;
    it(c.id, async () => {
      const trust = ['--trust', join(c.dir, 'ca.pem')];
      const { r, json } = await open([...c.args, ...trust], c.input);
      if (e.outcome === 'decrypts') {
        expect(r.code, r.stderr).toBe(0);
        expect(json!.layers[0]!.type).toMatch(/^(enveloped|authEnveloped)$/);
        if (e.plaintext_contains) expect(json!.message.text).toContain(e.plaintext_contains);
      } else {
        expect(r.code, r.stderr).toBe(EXIT_FOR_KIND[e.error_kind!]);
        expect(r.stdout.length).toBe(0);
      }
      if (e.must_not_render) {
        expect(r.stdout.toString('latin1')).not.toContain(e.must_not_render);
        expect(r.stderr).not.toContain(e.must_not_render);
      }
    });
  }

  it('torture 22: enveloped, then opaque signed, signer verified against the case CA', async () => {
    const c = tortureCases().find((x) => x.id.endsWith('22-signed-inside-encrypted'))!;
    const { r, json } = await open([...c.args, '--trust', join(c.dir, 'ca.pem')], c.input);
    expect(r.code, r.stderr).toBe(0);
    expect(json!.layers.map((l) => l.type + (l.form ? `/${l.form}` : ''))).toEqual(['enveloped', 'signed/opaque']);
    expect(json!.layers[1]!.signers![0]).toMatchObject({ signatureValid: true, certificateStatus: 'valid' });
  });

  it('torture 26: the EICAR attachment is listed with its real size and hash', async () => {
    const c = tortureCases().find((x) => x.id.endsWith('26-eicar-base64-attachment'))!;
    const { r, json } = await open(c.args, c.input);
    expect(r.code, r.stderr).toBe(0);
    const a = json!.message.attachments.find((x) => x.filename === 'eicar.com');
    expect(a).toMatchObject({ size: 68, sha256: '275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f' });
  });
});

describe.concurrent('open: every decryptable public case unwraps completely', () => {
  for (const c of publicCases()) {
    if (c.expected.outcome !== 'decrypts') continue;
    it(c.id, async () => {
      const { r, json } = await open([...c.args, '--trust', join(CORPUS, 'public/thunderbird-nss/TestCA.pem')], c.input);
      expect(r.code, r.stderr).toBe(0);
      expect(json!.layers.some((l) => l.type === 'enveloped' || l.type === 'authEnveloped' || l.type === 'encrypted')).toBe(true);
      expect(json!.message.text.length + json!.message.attachments.length).toBeGreaterThan(0);
    });
  }
});
