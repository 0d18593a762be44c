/**
 * "Re-scan encrypted mail" in the add-on: lists the chosen folders' messages, reads each raw
 * original (still encrypted), and runs the core re-scan (src/core/rescan) with the background's
 * keys and the native host's scanner. One run at a time; pause, resume and cancel; the whole record
 * (skip store, run progress, folders) lives in storage.local, so a run that Thunderbird's restart
 * interrupted continues when the background starts again. Every dependency is passed in, so the
 * runner works the same in Node tests.
 *
 * The policy applies as in the display pipeline, through the same decisions (policy-gates.ts),
 * read once when a run starts or resumes: the same key material (own keys, retired ones only with
 * keys.retainRetiredKeys, then the organisation's keys when keys.managedSource is 'host'; not
 * Thunderbird's own keys), no audit events with audit.enabled false, a forbidden algorithm is
 * refused (could not decrypt, reason blocked_by_policy), a decrypted message over
 * message.maxSizeMB is unscanned too_large without a scan, and scan.timeLimitSeconds per message.
 */
import type { KeyRecord } from '../core/keys/types.js';
import type { EffectivePolicy } from '../core/policy/index.js';
import { emptySummary, rescan, restoreRescanState, type RescanAuditEvent, type RescanEngine, type RescanGates, type RescanItem, type RescanResult, type RescanState, type RescanVerdict } from '../core/rescan/rescan.js';
import type { RescanFolderRef, RescanRunState, RescanStatus } from '../protocol/rescan.js';
import { AUDIT_SENDER_MAX } from '../protocol/native.js';
import { auditUnderPolicy, keyMaterial, layerAlgorithms, policyOrDefault, refusedByPolicy, scanWithinTimeLimit, tooLargeForPolicy, type ManagedKeySource } from './policy-gates.js';

export interface ListedRef {
  readonly id: number;
  readonly headerMessageId: string;
  readonly key: string;
  readonly folderPath?: string;
  /** The outer From as listed, for the audit trail. */
  readonly author?: string;
}

export interface RescanRunnerDeps {
  readonly crypto: SubtleCrypto;
  loadKeys(): Promise<readonly KeyRecord[]>;
  list(folderId: string): AsyncIterable<ListedRef[]>;
  raw(messageId: number): Promise<Uint8Array>;
  engine(): Promise<RescanEngine | undefined>;
  scan(plaintext: Uint8Array, meta: { messageId?: string; folder?: string }, signal?: AbortSignal): Promise<RescanVerdict>;
  /** Sends an audit event; only called when the policy's audit.enabled is true. */
  audit(event: RescanAuditEvent): void;
  /** The effective policy (the safe defaults when it cannot be read), asked when a run starts or resumes. */
  policy(): Promise<EffectivePolicy>;
  /** The organisation's keys held by the native host; asked only when the policy's keys.managedSource is 'host'. */
  managedKeys?: ManagedKeySource;
  /** The policy's action for an infected message (block needs nothing: it is never shown anyway). */
  onInfected(messageId: number): Promise<void>;
  load(): Promise<unknown>;
  save(record: RescanRecord): Promise<void>;
  scheduleHours(): Promise<number>;
  now(): number;
  log(line: string): void;
}

interface Job {
  folders: RescanFolderRef[];
  trigger: 'menu' | 'schedule' | 'page';
  status: 'running' | 'paused';
  startedAt: number;
}

/** What storage.local holds. */
export interface RescanRecord {
  readonly version: 1;
  state: RescanState;
  job?: Job;
  /** The last finished (or cancelled) run, for the page. */
  last?: RescanStatus;
  /** Folders re-scanned by hand: what the schedule re-scans. */
  monitored: RescanFolderRef[];
}

const MAX_PROBLEMS = 500;
const SAVE_EVERY_MS = 1_000;

export class RescanRunner {
  private record: RescanRecord = { version: 1, state: restoreRescanState(undefined), monitored: [] };
  private loaded: Promise<void> | undefined;
  private abort: AbortController | undefined;
  private running: Promise<void> | undefined;
  private phase: RescanRunState = 'idle';
  private total = 0;
  private error: string | undefined;
  private lastSave = 0;
  private scheduleHoursCache = 0;

  constructor(private readonly deps: RescanRunnerDeps) {}

  /** Loads the record; continues a run that was going when the background last stopped. */
  init(): Promise<void> {
    this.loaded ??= (async () => {
      const u = (await this.deps.load().catch(() => undefined)) as Partial<RescanRecord> | undefined;
      if (u && u.version === 1) {
        this.record = {
          version: 1,
          state: restoreRescanState(u.state),
          ...(u.job ? { job: u.job } : {}),
          ...(u.last ? { last: u.last } : {}),
          monitored: Array.isArray(u.monitored) ? u.monitored : [],
        };
      }
      this.scheduleHoursCache = await this.deps.scheduleHours().catch(() => 0);
      const job = this.record.job;
      if (job?.status === 'running') {
        this.deps.log(`unseal: re-scan continues after a restart (${this.record.state.run?.done.length ?? 0} messages done)`);
        this.launch();
      } else if (job?.status === 'paused') this.phase = 'paused';
    })();
    return this.loaded;
  }

  async start(folders: RescanFolderRef[], trigger: Job['trigger']): Promise<RescanStatus> {
    await this.init();
    if (folders.length === 0) return this.status();
    if (this.record.job) return this.status(); // one run at a time; the page shows it
    this.record.job = { folders, trigger, status: 'running', startedAt: this.deps.now() };
    delete this.record.state.run;
    if (trigger !== 'schedule') {
      const ids = new Set(this.record.monitored.map((f) => f.id));
      for (const f of folders) if (!ids.has(f.id)) this.record.monitored.push(f);
    }
    this.error = undefined;
    await this.persist(true);
    this.launch();
    return this.status();
  }

  /** Reads the schedule again (a changed user setting); the status shows the new interval. */
  async refreshSchedule(): Promise<number> {
    await this.init();
    this.scheduleHoursCache = await this.deps.scheduleHours().catch(() => this.scheduleHoursCache);
    return this.scheduleHoursCache;
  }

  /** The schedule: the folders re-scanned by hand before (nothing when there are none). */
  async scheduled(): Promise<void> {
    await this.init();
    if (this.record.job || this.record.monitored.length === 0) return;
    await this.start([...this.record.monitored], 'schedule');
  }

  async pause(): Promise<RescanStatus> {
    await this.init();
    const job = this.record.job;
    if (job?.status === 'running') {
      job.status = 'paused';
      this.abort?.abort();
      await this.running;
      this.phase = 'paused';
      await this.persist(true);
    }
    return this.status();
  }

  async resume(): Promise<RescanStatus> {
    await this.init();
    const job = this.record.job;
    if (job?.status === 'paused') {
      job.status = 'running';
      await this.persist(true);
      this.launch();
    }
    return this.status();
  }

  async cancel(): Promise<RescanStatus> {
    await this.init();
    if (!this.record.job) return this.status();
    const job = this.record.job;
    job.status = 'paused'; // stops the loop from finishing the run as "done"
    this.abort?.abort();
    await this.running;
    this.finish('cancelled', job);
    await this.persist(true);
    return this.status();
  }

  /** Resolves when the current run stops (tests). */
  async idle(): Promise<void> {
    await this.init();
    while (this.running) await this.running;
  }

  status(): RescanStatus {
    const job = this.record.job;
    const run = this.record.state.run;
    if (!job && this.record.last) return { ...this.record.last, scheduleHours: this.scheduleHoursCache };
    const summary = run?.summary ?? emptySummary();
    return {
      state: job ? (job.status === 'paused' ? 'paused' : this.phase === 'listing' ? 'listing' : 'running') : this.phase === 'failed' ? 'failed' : 'idle',
      folders: job?.folders ?? [],
      ...(job ? { trigger: job.trigger, startedAt: job.startedAt } : {}),
      done: run?.done.length ?? 0,
      total: Math.max(this.total, run?.done.length ?? 0),
      summary: { ...summary },
      problems: problemsOf(run?.results ?? []),
      ...(this.error ? { error: this.error } : {}),
      scheduleHours: this.scheduleHoursCache,
    };
  }

  private launch(): void {
    if (this.running) return;
    const p = this.loop().finally(() => {
      if (this.running === p) this.running = undefined;
    });
    this.running = p;
  }

  private async loop(): Promise<void> {
    const job = this.record.job;
    if (!job) return;
    const abort = new AbortController();
    this.abort = abort;
    this.phase = 'listing';
    try {
      const refs = new Map<string, number>();
      const items: RescanItem[] = [];
      for (const folder of job.folders) {
        for await (const page of this.deps.list(folder.id)) {
          for (const m of page) {
            if (refs.has(m.key)) continue;
            refs.set(m.key, m.id);
            items.push({
              id: m.key,
              meta: {
                ...(m.headerMessageId ? { messageId: m.headerMessageId } : {}),
                folder: m.folderPath ?? folder.path ?? folder.name,
                ...(m.author ? { sender: m.author.slice(0, AUDIT_SENDER_MAX) } : {}),
              },
              raw: () => this.deps.raw(m.id),
            });
          }
          this.total = items.length;
          if (abort.signal.aborted) return;
        }
      }
      this.phase = 'running';
      // The same policy decisions as the display pipeline (policy-gates.ts), for this run.
      const policy = await policyOrDefault(() => this.deps.policy());
      const keys = await this.deps.loadKeys();
      const { material } = await keyMaterial(policy, keys, this.deps.managedKeys, this.deps.now());
      const outcome = await rescan(
        items,
        {
          crypto: this.deps.crypto,
          material,
          engine: () => this.deps.engine(),
          scan: (plaintext, meta, signal) => scanWithinTimeLimit(policy, signal, (s) => this.deps.scan(plaintext, meta, s)),
          audit: auditUnderPolicy(policy, (e: RescanAuditEvent) => this.deps.audit(e)),
          gates: policyGates(policy),
        },
        {
          signal: abort.signal,
          total: items.length,
          onProgress: async (p) => {
            if (p.last.status === 'infected') {
              const id = refs.get(p.last.id);
              if (id !== undefined) await this.deps.onInfected(id).catch((e: unknown) => this.deps.log(`unseal: re-scan: policy action failed: ${String(e)}`));
            }
            await this.persist(false);
          },
        },
        this.record.state,
      );
      if (outcome.completed && this.record.job === job && job.status === 'running') {
        this.finish('done', job, outcome.summary, outcome.results);
        this.deps.log(`unseal: re-scan done ${JSON.stringify(outcome.summary)}`);
      }
    } catch (e) {
      this.error = e instanceof Error ? e.message : String(e);
      this.deps.log(`unseal: re-scan failed: ${this.error}`);
      // Keep the job (paused) so the user can resume once the cause is fixed.
      job.status = 'paused';
      this.phase = 'failed';
    } finally {
      if (this.phase === 'listing' || this.phase === 'running') this.phase = job.status === 'paused' ? 'paused' : 'idle';
      await this.persist(true).catch(() => undefined);
    }
  }

  private finish(state: 'done' | 'cancelled', job: Job, summary = this.record.state.run?.summary ?? emptySummary(), results: readonly RescanResult[] = this.record.state.run?.results ?? []): void {
    this.record.last = {
      state,
      folders: job.folders,
      trigger: job.trigger,
      startedAt: job.startedAt,
      finishedAt: this.deps.now(),
      done: summary.total,
      total: Math.max(this.total, summary.total),
      summary: { ...summary },
      problems: problemsOf(results),
      scheduleHours: this.scheduleHoursCache,
    };
    delete this.record.job;
    delete this.record.state.run;
    this.phase = 'idle';
  }

  private async persist(force: boolean): Promise<void> {
    const now = this.deps.now();
    if (!force && now - this.lastSave < SAVE_EVERY_MS) return;
    this.lastSave = now;
    // A structured clone of plain JSON; storage.local keeps it across restarts.
    await this.deps.save(JSON.parse(JSON.stringify(this.record)) as RescanRecord);
  }
}

/** algorithms.forbidden and message.maxSizeMB as the core re-scan's gates. */
function policyGates(policy: EffectivePolicy): RescanGates {
  return {
    refuse: (opened) => {
      const r = refusedByPolicy(policy, layerAlgorithms(opened));
      return r ? { reason: r.kind, detail: `forbidden algorithm ${r.forbidden.join(', ')}: ${r.message}` } : undefined;
    },
    unscannable: (plaintext) => {
      const v = tooLargeForPolicy(policy, plaintext.length);
      return v ? { reason: v.reason, detail: v.message } : undefined;
    },
  };
}

function problemsOf(results: readonly RescanResult[]): RescanResult[] {
  return results.filter((r) => r.status === 'infected' || r.status === 'unscanned' || r.status === 'could_not_decrypt' || (r.status === 'skipped' && r.previousVerdict === 'infected')).slice(-MAX_PROBLEMS);
}
