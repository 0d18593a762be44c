/** The admin policy in the background pipeline (real core; the scanner is a scripted verdict). */
import { webcrypto } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openForDisplay, type PipelineDeps } from '../../../src/background/pipeline.js';
import { InfectedActions, decryptedCopy } from '../../../src/background/policy-actions.js';
import { loadKeyFile } from '../../../src/core/keys/load.js';
import { effectivePolicy } from '../../../src/core/policy/index.js';
import type { ScanVerdict } from '../../../src/protocol/scan.js';
import { ROOT } from '../../helpers/cli.js';

const subtle = webcrypto.subtle as SubtleCrypto;
const DEMO = join(ROOT, 'test/fixtures/demo');
const raw = () => new Uint8Array(readFileSync(join(DEMO, 'encrypted-signed.eml')));
const CLEAN: ScanVerdict = { verdict: 'clean', engine: { engine: 'Fake 1' }, scannedParts: 1 };
const DOWN: ScanVerdict = { verdict: 'unscanned', reason: 'unavailable', message: 'scanner down' };

async function deps(policy: unknown, scan: PipelineDeps['scan'], audits: unknown[] = []): Promise<PipelineDeps> {
  const keys = (await loadKeyFile(subtle, new Uint8Array(readFileSync(join(DEMO, 'alice.p12'))), { password: 'demo' })).keys;
  return {
    crypto: subtle,
    loadKeys: async () => keys,
    rawMessage: async () => raw(),
    thunderbirdDecrypted: async () => undefined,
    scan,
    audit: (e) => void audits.push(e),
    policy: async () => effectivePolicy({ managed: policy }),
  };
}

describe('pipeline under the admin policy', () => {
  it('fail closed by default: unscanned ⇒ nothing shown', async () => {
    const r = await openForDisplay({ id: 1 }, await deps(undefined, async () => DOWN));
    expect(r.model.kind).toBe('unscanned');
    expect(r.plaintext).toBeUndefined();
  });

  it('warn mode: unscanned ⇒ content with the reason, never "clean", no saved copies', async () => {
    const r = await openForDisplay({ id: 1 }, await deps({ scanner: { required: false }, decryptedCopies: { mode: 'folder' } }, async () => DOWN));
    expect(r.model.kind).toBe('unscanned-allowed');
    if (r.model.kind !== 'unscanned-allowed') return;
    expect(r.model.unscanned).toEqual({ reason: 'unavailable', message: 'scanner down' });
    expect(r.model.body.text).toContain('Grüße, Bob');
    expect(r.plaintext).toBeUndefined();
  });

  it('an invalid scanner.required does not turn on warn mode', async () => {
    const r = await openForDisplay({ id: 1 }, await deps({ scanner: { required: 'no' } }, async () => DOWN));
    expect(r.model.kind).toBe('unscanned');
  });

  it('forbidden algorithm ⇒ blocked by policy, nothing scanned', async () => {
    let scanned = false;
    const audits: { event: string; error?: string }[] = [];
    const r = await openForDisplay({ id: 1 }, await deps({ algorithms: { forbidden: ['AES-256-CBC'] } }, async () => ((scanned = true), CLEAN), audits));
    expect(r.model).toMatchObject({ kind: 'error', errorKind: 'blocked_by_policy' });
    expect(scanned).toBe(false);
    expect(audits.some((a) => a.error === 'blocked_by_policy')).toBe(true);
  });

  it('warned algorithm ⇒ clean with a warning', async () => {
    const r = await openForDisplay({ id: 1 }, await deps({ algorithms: { warn: ['AES-256-CBC'] } }, async () => CLEAN));
    expect(r.model.kind).toBe('clean');
    if (r.model.kind === 'clean') expect(r.model.warnings.join(' ')).toContain('AES-256-CBC');
  });

  it('decryptedCopies folder ⇒ saveCopy offered on clean only, plaintext kept', async () => {
    const r = await openForDisplay({ id: 1 }, await deps({ decryptedCopies: { mode: 'folder', folder: 'Copies' } }, async () => CLEAN));
    expect(r.model).toMatchObject({ kind: 'clean', saveCopy: { folder: 'Copies' } });
    expect(r.plaintext?.length).toBeGreaterThan(0);
    const none = await openForDisplay({ id: 1 }, await deps(undefined, async () => CLEAN));
    expect(none.model.kind === 'clean' && none.model.saveCopy).toBe(undefined);
  });

  it('scan.timeLimitSeconds ⇒ the scan is aborted and the result is unscanned timeout', async () => {
    const hang: PipelineDeps['scan'] = (_p, _m, opts) =>
      new Promise((resolve) => opts.signal?.addEventListener('abort', () => resolve({ verdict: 'unscanned', reason: 'cancelled', message: 'cancelled' })));
    const r = await openForDisplay({ id: 1 }, await deps({ scan: { timeLimitSeconds: 5 } }, hang));
    expect(r.model).toMatchObject({ kind: 'unscanned', reason: 'timeout' });
  }, 20_000);

  it('audit.enabled false ⇒ no audit events', async () => {
    const audits: unknown[] = [];
    await openForDisplay({ id: 1 }, await deps({ audit: { enabled: false } }, async () => CLEAN, audits));
    expect(audits).toEqual([]);
  });
});

describe('policy actions', () => {
  it('quarantine moves once; tag tags; block does nothing', async () => {
    const calls: string[] = [];
    const ops = {
      ensureLocalFolder: async (n: string) => (calls.push(`folder ${n}`), { id: `f-${n}` }),
      moveMessage: async (id: number, f: string) => void calls.push(`move ${id} ${f}`),
      tagMessage: async (id: number, t: string) => void calls.push(`tag ${id} ${t}`),
      importMessage: async () => 0,
    };
    const a = new InfectedActions(ops);
    const infected = { kind: 'infected', findings: [], engine: 'x' } as const;
    const q = effectivePolicy({ managed: { onInfected: { action: 'quarantine', quarantineFolder: 'Q' } } });
    await a.after(7, infected, q);
    await a.after(7, infected, q);
    await a.after(8, infected, effectivePolicy({ managed: { onInfected: { action: 'tag', tag: 'Bad' } } }));
    await a.after(9, infected, effectivePolicy({}));
    await a.after(10, { kind: 'plain' }, q);
    expect(calls).toEqual(['folder Q', 'move 7 f-Q', 'tag 8 Bad']);
  });

  it('decrypted copy: transport headers kept, Content-* replaced by the plaintext entity, X-Unseal-Decrypted added', () => {
    const original = new TextEncoder().encode('From: a@x\r\nSubject: Hi\r\n  folded\r\nContent-Type: application/pkcs7-mime;\r\n smime-type=enveloped-data\r\nMIME-Version: 1.0\r\n\r\nMIAGCSqG');
    const plain = new TextEncoder().encode('Content-Type: text/plain\r\n\r\nhello\r\n');
    const out = new TextDecoder().decode(decryptedCopy(original, plain, new Date(Date.UTC(2026, 11, 3, 10))));
    expect(out).toBe('From: a@x\r\nSubject: Hi\r\n  folded\r\nX-Unseal-Decrypted: Thu, 03 Dec 2026 10:00:00 GMT\r\nMIME-Version: 1.0\r\nContent-Type: text/plain\r\n\r\nhello\r\n');
  });
});
