/** The policy decisions shared by the display pipeline and the re-scan (src/background/policy-gates.ts). */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { auditUnderPolicy, keyMaterial, layerAlgorithms, policyOrDefault, refusedByPolicy, scanWithinTimeLimit, tooLargeForPolicy, weakEncryptionWarnings } from '../../../src/background/policy-gates.js';
import type { KeyRecord } from '../../../src/core/keys/types.js';
import { DEFAULT_POLICY, effectivePolicy } from '../../../src/core/policy/index.js';
import type { OpenedMessage } from '../../../src/core/unwrap/open.js';

const policy = (managed: unknown) => effectivePolicy({ managed });

describe('policy gates', () => {
  afterEach(() => void vi.useRealTimers());

  it('policyOrDefault: the safe defaults without a loader or when it fails', async () => {
    expect(await policyOrDefault(undefined)).toBe(DEFAULT_POLICY);
    expect(await policyOrDefault(async () => Promise.reject(new Error('storage gone')))).toBe(DEFAULT_POLICY);
    expect((await policyOrDefault(async () => policy({ audit: { enabled: false } }))).audit.enabled).toBe(false);
  });

  it('audit.enabled false drops events; true passes them on', () => {
    const got: string[] = [];
    auditUnderPolicy(policy({ audit: { enabled: false } }), (e: string) => void got.push(e))('a');
    auditUnderPolicy(DEFAULT_POLICY, (e: string) => void got.push(e))('b');
    expect(got).toEqual(['b']);
  });

  it('algorithms: forbidden refuses (each algorithm named once), warn warns', () => {
    const opened = { layers: [{ type: 'enveloped', contentAlgorithm: '3DES-CBC' }, { type: 'signed' }, { type: 'enveloped', contentAlgorithm: 'DES-EDE3-CBC' }] } as unknown as OpenedMessage;
    const algs = layerAlgorithms(opened, [{ algorithm: 'AES-128-CBC' }]);
    expect(algs).toEqual(['AES-128-CBC', '3DES', '3DES']);
    expect(refusedByPolicy(DEFAULT_POLICY, algs)).toBeUndefined();
    expect(refusedByPolicy(policy({ algorithms: { forbidden: ['3DES'] } }), algs)).toEqual({
      kind: 'blocked_by_policy',
      forbidden: ['3DES'],
      message: "This message is encrypted with 3DES, which your administrator's policy does not allow.",
    });
    expect(weakEncryptionWarnings(policy({ algorithms: { warn: ['3DES'] } }), algs)).toEqual(['Weak encryption: this message is encrypted with 3DES.']);
  });

  it('message.maxSizeMB: over the limit is unscanned too_large; at the limit is scanned', () => {
    const p = policy({ message: { maxSizeMB: 1 } });
    expect(tooLargeForPolicy(p, 1024 * 1024)).toBeUndefined();
    expect(tooLargeForPolicy(p, 1024 * 1024 + 1)).toMatchObject({ verdict: 'unscanned', reason: 'too_large' });
  });

  it('scan.timeLimitSeconds: an unscanned answer after the limit is a timeout; the caller\'s cancel stays cancelled', async () => {
    vi.useFakeTimers();
    const p = policy({ scan: { timeLimitSeconds: 5 } });
    const hang = (signal: AbortSignal) => new Promise<{ verdict: 'unscanned'; reason: string }>((resolve) => signal.addEventListener('abort', () => resolve({ verdict: 'unscanned', reason: 'cancelled' })));
    const timed = scanWithinTimeLimit(p, undefined, hang);
    await vi.advanceTimersByTimeAsync(5_000);
    expect(await timed).toMatchObject({ verdict: 'unscanned', reason: 'timeout' });

    const user = new AbortController();
    const cancelled = scanWithinTimeLimit(p, user.signal, hang);
    user.abort();
    expect(await cancelled).toEqual({ verdict: 'unscanned', reason: 'cancelled' });

    const quick = await scanWithinTimeLimit(p, undefined, async () => ({ verdict: 'clean' as const }));
    expect(quick).toEqual({ verdict: 'clean' });
    expect(vi.getTimerCount()).toBe(0);
  });

  it('keyMaterial: retired own keys only with retainRetiredKeys; managed keys only with managedSource host; a host failure costs only those', async () => {
    const now = Date.UTC(2030, 0, 1);
    const cert = (notAfter: number) => ({ notBefore: new Date(0), notAfter: new Date(notAfter), keyUsage: ['keyEncipherment'] });
    const current = { id: 'current', certificate: cert(now + 86_400_000) } as unknown as KeyRecord;
    const retired = { id: 'retired', certificate: cert(now - 86_400_000) } as unknown as KeyRecord;
    const asked: boolean[] = [];
    const managed = async (o: { retired: boolean }) => (asked.push(o.retired), { keys: [{ id: 'org', label: 'Team', certificate: cert(now + 1) as never }], unwrap: async () => new Uint8Array(16) });

    const dflt = await keyMaterial(DEFAULT_POLICY, [current, retired], managed, now);
    expect(dflt.material.keys.map((k) => k.id)).toEqual(['current', 'retired']);
    expect(dflt.material.remote).toBeUndefined();
    expect(asked).toEqual([]);

    const strict = await keyMaterial(policy({ keys: { retainRetiredKeys: false, managedSource: 'host' } }), [current, retired], managed, now);
    expect(strict.material.keys.map((k) => k.id)).toEqual(['current']);
    expect(strict.material.remote?.keys.map((k) => k.id)).toEqual(['org']);
    expect(strict.managed.map((k) => k.label)).toEqual(['Team']);
    expect(asked).toEqual([false]);

    const down = await keyMaterial(policy({ keys: { managedSource: 'host' } }), [current], async () => Promise.reject(new Error('host down')), now);
    expect(down.material).toEqual({ keys: [current] });
    expect(down.managed).toEqual([]);
  });
});
