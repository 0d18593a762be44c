/**
 * The core re-scan on OpenSSL-made messages with a scripted scanner: summary, skip on same
 * plaintext + signatures, cancel and resume from the persisted state, never plaintext in results.
 */
import { webcrypto } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadKeyFile } from '../../../src/core/keys/load.js';
import type { KeyRecord } from '../../../src/core/keys/types.js';
import { newRescanState, rescan, rescanExitCode, restoreRescanState, type RescanItem, type RescanVerdict } from '../../../src/core/rescan/rescan.js';
import { splitMbox } from '../../../src/cli/mailbox.js';
import { makeRescanCorpus, type RescanCorpus } from '../../helpers/rescan-corpus.js';
import { ALICE } from '../../helpers/smime-samples.js';
import { toMbox } from '../../helpers/thunderbird/profile.js';

const subtle = webcrypto.subtle as SubtleCrypto;
let dir: string;
let corpus: RescanCorpus;
let keys: KeyRecord[];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'unseal-rescan-unit-'));
  corpus = makeRescanCorpus(join(dir, 'f'), { clean: 6, infected: 2, otherKey: 1 });
  keys = (await loadKeyFile(subtle, new Uint8Array(readFileSync(ALICE.p12)), { password: ALICE.pass })).keys;
}, 60_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const items = (): RescanItem[] => corpus.messages.map((m) => ({ id: m.name, meta: { messageId: m.messageId, folder: 'f' }, raw: () => new Uint8Array(readFileSync(m.file)) }));

function fakeScanner(signatures = 'v1') {
  const calls: string[] = [];
  return {
    calls,
    engine: async () => ({ engine: 'Fake 1', signatures }),
    scan: async (p: Uint8Array): Promise<RescanVerdict> => {
      const text = Buffer.from(p).toString('latin1');
      calls.push(text.slice(0, 10));
      const engine = { engine: 'Fake 1', signatures };
      return text.includes('RESCAN-INFECTED') ? { verdict: 'infected', engine, findings: [{ part: 'attachments/1', signature: 'Eicar' }] } : { verdict: 'clean', engine };
    },
  };
}

describe('core rescan', () => {
  it('summarises, audits each decryption, and carries no plaintext', async () => {
    const s = fakeScanner();
    const audit: { event: string }[] = [];
    const out = await rescan(items(), { crypto: subtle, material: { keys }, ...s, audit: (e) => audit.push(e) });
    expect(out.completed).toBe(true);
    expect(out.summary).toMatchObject({ total: 11, scanned: 8, clean: 6, infected: 2, couldNotDecrypt: 2, notEncrypted: 1, skipped: 0, unscanned: 0 });
    expect(rescanExitCode(out.summary)).toBe(10);
    expect(audit.filter((e) => e.event === 'decrypted')).toHaveLength(8);
    expect(audit.filter((e) => e.event === 'decrypt_failed')).toHaveLength(2);
    const json = JSON.stringify(out) + JSON.stringify(audit);
    for (const m of corpus.messages) expect(json).not.toContain(m.marker);
  });

  it('skips the same plaintext under the same signatures; scans again after an update', async () => {
    const state = newRescanState();
    await rescan(items(), { crypto: subtle, material: { keys }, ...fakeScanner() }, {}, state);
    const again = fakeScanner();
    const second = await rescan(items(), { crypto: subtle, material: { keys }, ...again }, {}, restoreRescanState(JSON.parse(JSON.stringify(state))));
    expect(again.calls).toHaveLength(0);
    expect(second.summary).toMatchObject({ skipped: 8, skippedInfected: 2, scanned: 0 });
    const updated = fakeScanner('v2');
    const third = await rescan(items(), { crypto: subtle, material: { keys }, ...updated }, {}, state);
    expect(updated.calls).toHaveLength(8);
    expect(third.summary).toMatchObject({ skipped: 0, scanned: 8 });
  });

  it('unscanned results are not remembered', async () => {
    const state = newRescanState();
    await rescan(items(), { crypto: subtle, material: { keys }, scan: async () => ({ verdict: 'unscanned', reason: 'unavailable', message: 'down' }) }, {}, state);
    expect(Object.keys(state.seen)).toHaveLength(0);
  });

  it('cancel keeps the run in the state; resuming finishes it without redoing or double counting', async () => {
    const state = newRescanState();
    const ac = new AbortController();
    const first = await rescan(items(), { crypto: subtle, material: { keys }, ...fakeScanner() }, {
      signal: ac.signal,
      onProgress: (p) => {
        if (p.done === 4) ac.abort();
      },
    }, state);
    expect(first.completed).toBe(false);
    expect(state.run?.done).toHaveLength(4);
    const persisted = restoreRescanState(JSON.parse(JSON.stringify(state)));
    const s = fakeScanner();
    const rest = await rescan(items(), { crypto: subtle, material: { keys }, ...s }, {}, persisted);
    expect(rest.completed).toBe(true);
    expect(persisted.run).toBeUndefined();
    expect(rest.summary).toMatchObject({ total: 11, clean: 6, infected: 2, couldNotDecrypt: 2, notEncrypted: 1, skipped: 0 });
    expect(s.calls).toHaveLength(4);
  });

  it('gates: a refusal is could_not_decrypt (audited as decrypt_failed, never decrypted, never scanned); an unscannable plaintext is unscanned without a scan', async () => {
    const s = fakeScanner();
    const audit: { event: string; error?: string }[] = [];
    const refused = await rescan(items(), {
      crypto: subtle,
      material: { keys },
      ...s,
      audit: (e) => audit.push(e),
      gates: { refuse: (o) => (o.layers.some((l) => l.type !== 'signed' && l.contentAlgorithm.startsWith('AES-256')) ? { reason: 'blocked_by_policy', detail: 'forbidden algorithm AES-256-CBC' } : undefined) },
    });
    // The 8 decryptable messages are refused; the 2 for another key / malformed fail as before.
    expect(refused.summary).toMatchObject({ total: 11, scanned: 0, clean: 0, infected: 0, couldNotDecrypt: 10, notEncrypted: 1 });
    expect(s.calls).toHaveLength(0);
    expect(audit.filter((e) => e.event === 'decrypted')).toHaveLength(0);
    expect(audit.filter((e) => e.error === 'blocked_by_policy')).toHaveLength(8);
    expect(refused.results.filter((r) => r.reason === 'blocked_by_policy').every((r) => r.detail === 'forbidden algorithm AES-256-CBC' && r.plaintextSha256 === undefined)).toBe(true);
    expect(Object.keys(refused.state.seen)).toHaveLength(0);

    const big = fakeScanner();
    const state = newRescanState();
    const large = await rescan(items(), { crypto: subtle, material: { keys }, ...big, gates: { unscannable: (p) => (p.length > 10 ? { reason: 'too_large', detail: `${p.length} bytes` } : undefined) } }, {}, state);
    expect(large.summary).toMatchObject({ total: 11, scanned: 0, unscanned: 8, couldNotDecrypt: 2, notEncrypted: 1 });
    expect(big.calls).toHaveLength(0);
    expect(large.results.filter((r) => r.status === 'unscanned').every((r) => r.reason === 'too_large' && /^\d+ bytes$/.test(r.detail ?? ''))).toBe(true);
    expect(Object.keys(state.seen)).toHaveLength(0);
    expect(rescanExitCode(large.summary)).toBe(11);
  });

  it('mbox: From-line splitting and >From unquoting give back the original messages', () => {
    const originals = corpus.messages.map((m) => readFileSync(m.file));
    const split = splitMbox(toMbox(originals));
    expect(split).toHaveLength(originals.length);
    split.forEach((b, i) => expect(Buffer.from(b).toString('latin1')).toBe(originals[i]!.toString('latin1').replace(/\r\n/g, '\n')));
  });
});
