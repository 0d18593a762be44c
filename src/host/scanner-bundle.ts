import type { HostConfig } from './config.js';
import type { ScannerBundle } from './server.js';
import { createScanner } from './scanners/create.js';
import { guardWithCanaries } from './scanners/guarded.js';

/**
 * Every scan goes through the canary guard: a scanner that cannot find the test viruses (wrong
 * database, fail-open ICAP profile) must turn verdicts into `unscanned: misconfigured`, not `clean`.
 */
export function buildScanners(config: HostConfig): ScannerBundle | null {
  if (!config.scanner) return null;
  const raw = createScanner(config.scanner, { timeoutMs: config.limits.scannerTimeoutMs });
  const guarded = guardWithCanaries(raw, { ttlMs: config.limits.canaryTtlMs });
  return {
    scanner: guarded,
    displayUrl: raw.url,
    lastCanaryReport: () => guarded.lastCanaryReport(),
    // Through the guard, so the report health gets is the one every scan relies on: a fresh host
    // runs the self-test once, not once for health and again for the first scan.
    runCanaries: (signal) => guarded.check(signal),
  };
}

