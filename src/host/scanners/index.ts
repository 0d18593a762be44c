export type { PartVerdict, ScanOptions, Scanner, ScannerKind } from './types.js';
export { createScanner, parseScannerUrl, redact, type CreateScannerOptions, type ScannerTarget } from './create.js';
export { checkCanaries, buildCanaries, type CanaryReport, type CanaryResult } from './canary.js';
export { guardWithCanaries, type GuardedScanner } from './guarded.js';
export { eicarBytes } from './eicar.js';
