/**
 * `{type:'policy.status'}` from an add-on page (the status page) → the effective settings with
 * their origin and lock, the policy errors, and the native host / scanner health. Types only;
 * the page checks the shape it reads.
 */
import type { EffectivePolicy } from '../core/policy/index.js';

export const POLICY_STATUS = 'policy.status';

export interface PolicyStatusRequest {
  readonly type: typeof POLICY_STATUS;
  /** Also run the host's health check (canaries through the scanner; can take seconds). */
  readonly health?: boolean;
}

export type HostStatus =
  | { readonly ok: true; readonly hostVersion: string; readonly scanner: string | null; readonly engine?: string; readonly signatures?: string; readonly problem?: string; readonly healthy?: boolean }
  | { readonly ok: false; readonly error: string };

export interface PolicyStatus {
  readonly policy: EffectivePolicy;
  readonly host: HostStatus;
}

export function isPolicyStatusRequest(u: unknown): u is PolicyStatusRequest {
  return typeof u === 'object' && u !== null && (u as { type?: unknown }).type === POLICY_STATUS;
}
