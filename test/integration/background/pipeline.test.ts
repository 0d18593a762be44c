import { execFileSync } from 'node:child_process';
import { webcrypto } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openForDisplay, type PipelineDeps } from '../../../src/background/pipeline.js';
import { loadKeyFile } from '../../../src/core/keys/load.js';
import type { KeyRecord } from '../../../src/core/keys/types.js';
import { scanMessage } from '../../../src/host/scan-message.js';
import { createScanner } from '../../../src/host/scanners/create.js';
import { guardWithCanaries } from '../../../src/host/scanners/guarded.js';
import { isProtocolError, parseAuditEvent, type AuditEvent } from '../../../src/protocol/native.js';
import { ROOT } from '../../helpers/cli.js';
import { tortureCases } from '../../helpers/corpus.js';
import { startClamd, type ClamdHandle } from '../../helpers/scanners/clamd.js';

/**
 * The background's pipeline in Node with the real core and a real clamd behind the host's scan
 * logic: only the Thunderbird calls (getRaw, the key store) are replaced by the bytes they return.
 */
const subtle = webcrypto.subtle as SubtleCrypto;
const DEMO = join(ROOT, 'test/fixtures/demo');
let clamd: ClamdHandle;

beforeAll(async () => {
  clamd = await startClamd({ alertExceedsMax: true });
});
afterAll(async () => clamd?.stop());

async function keysFrom(file: string, password: string): Promise<KeyRecord[]> {
  return (await loadKeyFile(subtle, new Uint8Array(readFileSync(file)), { password })).keys;
}

function deps(raw: Uint8Array, keys: readonly KeyRecord[], over: Partial<PipelineDeps> = {}): PipelineDeps & { audits: AuditEvent[] } {
  const audits: AuditEvent[] = [];
  return {
    crypto: subtle,
    loadKeys: async () => keys,
    rawMessage: async () => raw,
    thunderbirdDecrypted: async () => undefined,
    scan: async (plaintext, _meta, opts) => {
      const scanner = guardWithCanaries(createScanner(clamd.url));
      try {
        return await scanMessage(plaintext, scanner, { ...(opts.signal ? { signal: opts.signal } : {}) });
      } finally {
        await scanner.close();
      }
    },
    audit: (e) => void audits.push(e),
    ...over,
    audits,
  };
}

const demoRaw = () => new Uint8Array(readFileSync(join(DEMO, 'encrypted-signed.eml')));

describe('background pipeline (real core, real clamd)', () => {
  it('clean: decrypted, signature valid against the CA from the key file, content and attachment', async () => {
    const d = deps(demoRaw(), await keysFrom(join(DEMO, 'alice.p12'), 'demo'));
    const stages: string[] = [];
    const r = await openForDisplay({ id: 1, headerMessageId: 'demo-1@demo.example' }, d, { onProgress: (s) => stages.push(s) });
    expect(stages).toEqual(['reading', 'decrypting', 'scanning']);
    expect(r.model.kind).toBe('clean');
    if (r.model.kind !== 'clean') return;
    expect(r.model.body.text).toContain('Grüße, Bob');
    expect(r.model.layers).toEqual([{ type: 'enveloped', algorithm: 'AES-256-CBC' }, { type: 'signed' }]);
    expect(r.model.signatures[0]).toMatchObject({ signatureValid: true, certificateStatus: 'valid' });
    expect(r.model.keySource).toBe('unseal');
    expect(r.model.attachments).toEqual([{ index: 0, filename: 'figures.csv', contentType: 'text/csv', size: 40 }]);
    expect(new TextDecoder().decode(r.attachment(0)!.data)).toMatch(/^quarter,revenue/);
    expect(r.model.scan.engine).toMatch(/ClamAV/);
    // The audit event names the message and the key, never content.
    const ev = d.audits.find((a) => a.event === "decrypted")!;
    expect(ev).toMatchObject({ messageId: 'demo-1@demo.example', algorithm: 'AES-256-CBC', keyFingerprint: expect.stringMatching(/^[0-9a-f]{64}$/) });
    // Every event passes the host's audit guard (no unknown fields, nothing secret-looking).
    for (const a of d.audits) expect(isProtocolError(parseAuditEvent(a)), JSON.stringify(a)).toBe(false);
    expect(JSON.stringify(d.audits)).not.toContain('Bob');
  });

  it('infected: EICAR attachment inside the encryption ⇒ blocked, no content, no attachment bytes', async () => {
    const c = tortureCases().find((x) => x.id.endsWith('26-eicar-base64-attachment'))!;
    const pw = readFileSync(join(c.dir, 'password.txt'), 'utf8');
    const r = await openForDisplay({ id: 2 }, deps(new Uint8Array(readFileSync(c.input)), await keysFrom(join(c.dir, 'key.p12'), pw)));
    expect(r.model.kind).toBe('infected');
    if (r.model.kind === 'infected') expect(r.model.findings.some((f) => /eicar\.com/.test(f.part))).toBe(true);
    expect(r.attachment(0)).toBeUndefined();
    expect(JSON.stringify(r.model)).not.toContain(c.expected.plaintext_contains ?? 'never');
  });

  it('scanner down ⇒ unscanned, nothing shown', async () => {
    const d = deps(demoRaw(), await keysFrom(join(DEMO, 'alice.p12'), 'demo'));
    const scanner = guardWithCanaries(createScanner('clamd+unix:///nonexistent/unseal.ctl'));
    d.scan = (p) => scanMessage(p, scanner);
    const r = await openForDisplay({ id: 3 }, d);
    expect(r.model).toMatchObject({ kind: 'unscanned', reason: 'unavailable' });
    expect(JSON.stringify(r.model)).not.toContain('Grüße');
  });

  it('no key ⇒ says for whom it is encrypted', async () => {
    const r = await openForDisplay({ id: 4 }, deps(demoRaw(), []));
    expect(r.model.kind).toBe('no-key');
    if (r.model.kind === 'no-key') expect(r.model.recipients[0]).toMatch(/^ktri issuer=CN=Unseal Demo CA, O=Unseal Demo; serial=/);
  });

  it('Thunderbird holds the key: its decryption is used and scanned the same way', async () => {
    const tbPlain = new Uint8Array(execFileSync('openssl', ['cms', '-decrypt', '-in', join(DEMO, 'encrypted-signed.eml'), '-inkey', join(DEMO, 'alice.key')]));
    const d = deps(demoRaw(), [], { thunderbirdDecrypted: async () => tbPlain });
    const r = await openForDisplay({ id: 5 }, d);
    expect(r.model.kind).toBe('clean');
    if (r.model.kind !== 'clean') return;
    expect(r.model.keySource).toBe('thunderbird');
    expect(r.model.layers[0]).toEqual({ type: 'enveloped', algorithm: 'AES-256-CBC' });
    expect(r.model.body.text).toContain('Grüße, Bob');
  });

  it('a getRaw(decrypt:true) that is still encrypted does not count as decrypted', async () => {
    const r = await openForDisplay({ id: 6 }, deps(demoRaw(), [], { thunderbirdDecrypted: async () => demoRaw() }));
    expect(r.model.kind).toBe('no-key');
  });

  it('plain and clear-signed mail is plain', async () => {
    const plain = new TextEncoder().encode('From: a@b\r\nSubject: hi\r\n\r\nhello\r\n');
    expect((await openForDisplay({ id: 7 }, deps(plain, []))).model).toEqual({ kind: 'plain' });
  });

  it('malformed S/MIME ⇒ error model with the kind, no partial content', async () => {
    const c = tortureCases().find((x) => x.id.endsWith('30-truncated-cms'))!;
    const pw = readFileSync(join(c.dir, 'password.txt'), 'utf8');
    const r = await openForDisplay({ id: 8 }, deps(new Uint8Array(readFileSync(c.input)), await keysFrom(join(c.dir, 'key.p12'), pw)));
    expect(r.model).toMatchObject({ kind: 'error', errorKind: 'malformed_cms' });
    expect(JSON.stringify(r.model)).not.toContain(c.expected.must_not_render!);
  });
});
