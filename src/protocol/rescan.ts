/**
 * Runtime messages between the add-on's monitoring pages (src/pages/rescan, src/pages/audit) and
 * the background's re-scan runner. Facts only: ids, counts, verdicts, finding names — never content.
 */
import type { RescanResult, RescanSummary } from '../core/rescan/rescan.js';
import type { AuditLogRecord } from './native.js';
import { GuardError, isRecord, onlyKeys, optInt, optStr, oneOf, str } from './validate.js';

export interface RescanFolderRef {
  readonly id: string;
  readonly name: string;
  readonly path?: string;
}

export type RescanRunState = 'idle' | 'listing' | 'running' | 'paused' | 'done' | 'cancelled' | 'failed';

export interface RescanStatus {
  readonly state: RescanRunState;
  readonly folders: readonly RescanFolderRef[];
  /** `menu`, `schedule` or `page`. */
  readonly trigger?: 'menu' | 'schedule' | 'page';
  readonly startedAt?: number;
  readonly finishedAt?: number;
  readonly done: number;
  /** Messages listed so far (grows while listing continues). */
  readonly total: number;
  readonly summary: RescanSummary;
  /** Non-clean results only (infected, unscanned, could not decrypt), newest last; capped. */
  readonly problems: readonly RescanResult[];
  readonly error?: string;
  /** Scheduled re-scan interval from the policy (hours; 0 = off). */
  readonly scheduleHours: number;
}

export type RescanRequest =
  | { readonly type: 'rescan.status' }
  | { readonly type: 'rescan.folders' }
  | { readonly type: 'rescan.start'; readonly folderId: string }
  | { readonly type: 'rescan.pause' }
  | { readonly type: 'rescan.resume' }
  | { readonly type: 'rescan.cancel' }
  | { readonly type: 'audit.page'; readonly cursor?: number; readonly since?: string; readonly limit?: number };

export type RescanReply =
  | { readonly ok: true; readonly status: RescanStatus }
  | { readonly ok: true; readonly folders: readonly RescanFolderRef[] }
  | { readonly ok: true; readonly events: readonly AuditLogRecord[]; readonly next: number | null }
  | { readonly ok: false; readonly message: string };

const TYPES = ['rescan.status', 'rescan.folders', 'rescan.start', 'rescan.pause', 'rescan.resume', 'rescan.cancel', 'audit.page'] as const;

export function isRescanRequest(u: unknown): boolean {
  return isRecord(u) && typeof u['type'] === 'string' && (TYPES as readonly string[]).includes(u['type']);
}

export function parseRescanRequest(u: unknown): RescanRequest {
  if (!isRecord(u)) throw new GuardError('request must be an object');
  const type = oneOf(u, 'type', TYPES);
  switch (type) {
    case 'rescan.start':
      onlyKeys(u, ['type', 'folderId'], type);
      return { type, folderId: str(u, 'folderId', { min: 1, max: 2048 }) };
    case 'audit.page': {
      onlyKeys(u, ['type', 'cursor', 'since', 'limit'], type);
      const cursor = optInt(u, 'cursor', 0, Number.MAX_SAFE_INTEGER);
      const since = optStr(u, 'since', { max: 40 });
      const limit = optInt(u, 'limit', 1, 1000);
      return { type, ...(cursor !== undefined ? { cursor } : {}), ...(since !== undefined ? { since } : {}), ...(limit !== undefined ? { limit } : {}) };
    }
    default:
      onlyKeys(u, ['type'], type);
      return { type };
  }
}
