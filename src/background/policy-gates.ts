/**
 * The policy's decisions about one message, in one place for both paths that decrypt mail in the
 * add-on: the display pipeline (pipeline.ts) and the re-scan (rescan-runner.ts). Which key
 * material may decrypt (own keys minus retired ones unless keys.retainRetiredKeys, plus the
 * organisation's keys when keys.managedSource is 'host'), whether audit events are sent
 * (audit.enabled), whether the content encryption is allowed (algorithms.forbidden / .warn), the
 * size limit (message.maxSizeMB) and the scan time limit (scan.timeLimitSeconds).
 */
import type { DecryptionMaterial, RemoteKeySource } from '../core/cms/decrypt.js';
import type { KeyRecord } from '../core/keys/types.js';
import { algorithmToken, DEFAULT_POLICY, type EffectivePolicy, type PolicyAlgorithm } from '../core/policy/index.js';
import type { OpenedMessage } from '../core/unwrap/open.js';
import { isRetired, type RemoteKeyWithLabel } from './managed-keys.js';

/** The organisation's keys held by the native host (ManagedKeys.source). */
export type ManagedKeySource = (opts: { retired: boolean }) => Promise<RemoteKeySource & { readonly keys: readonly RemoteKeyWithLabel[] }>;

/** The effective policy; the safe defaults when there is no loader or it fails. */
export async function policyOrDefault(load: (() => Promise<EffectivePolicy>) | undefined): Promise<EffectivePolicy> {
  return load ? load().catch(() => DEFAULT_POLICY) : DEFAULT_POLICY;
}

/** audit.enabled: false ⇒ no audit events from the add-on (destination/path are the host's configuration). */
export function auditUnderPolicy<E>(policy: EffectivePolicy, sink: (event: E) => void): (event: E) => void {
  return policy.audit.enabled ? sink : () => undefined;
}

export interface PolicyKeyMaterial {
  /** What openMessage gets: the usable own keys, then the organisation's (remote) keys. */
  readonly material: DecryptionMaterial;
  /** The organisation's keys offered (their labels name the key in the security line); empty when none. */
  readonly managed: readonly RemoteKeyWithLabel[];
}

/**
 * The keys that may decrypt under the policy. keys.retainRetiredKeys: false ⇒ expired encryption
 * keys are kept in the store but never decrypt (own and managed). keys.managedSource 'host' ⇒ the
 * host's keys are tried after the user's own; the host being down only costs those.
 */
export async function keyMaterial(policy: EffectivePolicy, own: readonly KeyRecord[], managedKeys: ManagedKeySource | undefined, now: number): Promise<PolicyKeyMaterial> {
  const usable = policy.keys.retainRetiredKeys ? own : own.filter((k) => !k.certificate || !isRetired(k.certificate, now));
  const remote = policy.keys.managedSource === 'host' && managedKeys ? await managedKeys({ retired: policy.keys.retainRetiredKeys }).catch(() => undefined) : undefined;
  const managed = remote?.keys ?? [];
  return { material: { keys: usable, ...(remote && managed.length > 0 ? { remote } : {}) }, managed };
}

/** The content-encryption algorithms of every encryption layer, as policy tokens (`extra`: layers Thunderbird removed). */
export function layerAlgorithms(opened: OpenedMessage, extra: readonly { readonly algorithm?: string }[] = []): PolicyAlgorithm[] {
  const names = [...extra.map((l) => l.algorithm), ...opened.layers.map((l) => (l.type === 'signed' ? undefined : l.contentAlgorithm))];
  return names.map((n) => (n ? algorithmToken(n) : undefined)).filter((t): t is PolicyAlgorithm => t !== undefined);
}

export interface Refusal {
  /** The error kind (audit `decrypt_failed` error, the render model's errorKind, the re-scan's reason). */
  readonly kind: 'blocked_by_policy';
  readonly forbidden: readonly PolicyAlgorithm[];
  /** For the user. */
  readonly message: string;
}

/** algorithms.forbidden: a message with such a layer is refused (not shown, not scanned, not audited as decrypted). */
export function refusedByPolicy(policy: EffectivePolicy, algorithms: readonly PolicyAlgorithm[]): Refusal | undefined {
  const forbidden = [...new Set(algorithms.filter((a) => policy.algorithms.forbidden.includes(a)))];
  if (forbidden.length === 0) return undefined;
  return { kind: 'blocked_by_policy', forbidden, message: `This message is encrypted with ${forbidden.join(', ')}, which your administrator's policy does not allow.` };
}

/** algorithms.warn: the warnings a shown message carries. */
export function weakEncryptionWarnings(policy: EffectivePolicy, algorithms: readonly PolicyAlgorithm[]): string[] {
  const weak = algorithms.filter((a) => policy.algorithms.warn.includes(a));
  return weak.length > 0 ? [`Weak encryption: this message is encrypted with ${[...new Set(weak)].join(', ')}.`] : [];
}

export interface TooLargeVerdict {
  readonly verdict: 'unscanned';
  readonly reason: 'too_large';
  readonly message: string;
}

/** message.maxSizeMB (of the decrypted message): larger is never scanned, so never clean. */
export function tooLargeForPolicy(policy: EffectivePolicy, size: number): TooLargeVerdict | undefined {
  if (size <= policy.message.maxSizeMB * 1024 * 1024) return undefined;
  return { verdict: 'unscanned', reason: 'too_large', message: `the decrypted message (${size} bytes) is larger than the policy's limit of ${policy.message.maxSizeMB} MB` };
}

export interface TimeoutVerdict {
  readonly verdict: 'unscanned';
  readonly reason: 'timeout';
  readonly message: string;
}

/**
 * scan.timeLimitSeconds: the scan gets a signal that aborts at the limit (or when `signal` does);
 * an unscanned answer after the limit is a timeout, not a cancellation. The caller's own abort
 * keeps the scanner's answer (cancelled).
 */
export async function scanWithinTimeLimit<V extends { readonly verdict: string }>(policy: EffectivePolicy, signal: AbortSignal | undefined, scan: (signal: AbortSignal) => Promise<V>): Promise<V | TimeoutVerdict> {
  const limit = new AbortController();
  const onAbort = () => limit.abort();
  if (signal?.aborted) limit.abort();
  signal?.addEventListener('abort', onAbort, { once: true });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    limit.abort();
  }, policy.scan.timeLimitSeconds * 1000);
  let verdict: V;
  try {
    verdict = await scan(limit.signal);
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener('abort', onAbort);
  }
  if (timedOut && verdict.verdict === 'unscanned' && !signal?.aborted) {
    return { verdict: 'unscanned', reason: 'timeout', message: `the scan took longer than the policy's limit of ${policy.scan.timeLimitSeconds} s` };
  }
  return verdict;
}
