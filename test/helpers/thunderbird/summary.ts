/**
 * `test-results/e2e/summary.json`: one entry per scenario `{id, passed, ms, screenshot}` (plus
 * optional metrics), merged by id so test files (possibly running in parallel) can each add theirs.
 */
import { closeSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const RESULTS_DIR = resolve('test-results', 'e2e');

export interface SummaryEntry {
  id: string;
  passed: boolean;
  ms: number;
  screenshot: string | null;
  metrics?: Record<string, number | string | boolean | null>;
  error?: string;
}

function withLock<T>(fn: () => T): T {
  const lock = join(RESULTS_DIR, '.summary.lock');
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      closeSync(openSync(lock, 'wx'));
      break;
    } catch {
      if (Date.now() > deadline) rmSync(lock, { force: true });
      const until = Date.now() + 20;
      while (Date.now() < until) {
        // spin briefly: the critical section is a few milliseconds
      }
    }
  }
  try {
    return fn();
  } finally {
    rmSync(lock, { force: true });
  }
}

export function recordSummary(entry: SummaryEntry): void {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const file = join(RESULTS_DIR, 'summary.json');
  withLock(() => {
    let list: SummaryEntry[] = [];
    try {
      list = JSON.parse(readFileSync(file, 'utf8')) as SummaryEntry[];
      if (!Array.isArray(list)) list = [];
    } catch {
      list = [];
    }
    list = list.filter((e) => e.id !== entry.id);
    list.push(entry);
    list.sort((a, b) => a.id.localeCompare(b.id));
    writeFileSync(`${file}.tmp`, JSON.stringify(list, null, 2) + '\n');
    renameSync(`${file}.tmp`, file);
  });
}

/**
 * Runs one scenario, timing it and recording pass/fail; `ctx.screenshot` / `ctx.metrics` are
 * filled by the scenario. Rethrows so vitest reports the failure too.
 */
export async function scenario(
  id: string,
  fn: (ctx: { screenshot: string | null; metrics: Record<string, number | string | boolean | null>; ms?: number }) => Promise<void>,
): Promise<void> {
  // `ms` is what the scenario measures (display event → verdict on screen) when it sets it; else its duration.
  const ctx: { screenshot: string | null; metrics: Record<string, number | string | boolean | null>; ms?: number } = { screenshot: null, metrics: {} };
  const t0 = Date.now();
  try {
    await fn(ctx);
    recordSummary({ id, passed: true, ms: ctx.ms ?? Date.now() - t0, screenshot: ctx.screenshot, metrics: ctx.metrics });
  } catch (e) {
    recordSummary({ id, passed: false, ms: ctx.ms ?? Date.now() - t0, screenshot: ctx.screenshot, metrics: ctx.metrics, error: String(e).slice(0, 2000) });
    throw e;
  }
}
