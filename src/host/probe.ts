import type { Check } from './install.js';
import { checkCanaries } from './scanners/canary.js';
import { createScanner } from './scanners/create.js';

/** doctor's scanner checks: reachable, engine known, and it finds the canary test viruses. */
export async function probeScanner(url: string, timeoutMs = 15_000): Promise<Check[]> {
  const checks: Check[] = [];
  let scanner;
  try {
    scanner = createScanner(url, { timeoutMs });
  } catch (e) {
    return [{ status: 'fail', what: 'scanner URL', fix: `${url}: ${(e as Error).message}` }];
  }
  try {
    try {
      await scanner.ping(AbortSignal.timeout(timeoutMs));
      const info = await scanner.engineInfo(AbortSignal.timeout(timeoutMs));
      checks.push({ status: 'ok', what: 'scanner reachable', fix: `${scanner.url}: ${info.engine}${info.signatures ? ` (signatures ${info.signatures})` : ''}` });
    } catch (e) {
      checks.push({ status: 'fail', what: 'scanner reachable', fix: `${scanner.url}: ${(e as Error).message}` });
      return checks;
    }
    const report = await checkCanaries(scanner, { signal: AbortSignal.timeout(timeoutMs * 4) });
    if (report.ok) {
      checks.push({ status: 'ok', what: 'canary check', fix: `all ${report.results.length} canaries answered as expected (${report.results.map((r) => r.canary).join(', ')})` });
    } else {
      const missed = report.results.filter((r) => !r.pass);
      const got = missed.map((r) => `${r.canary} (expected ${r.expected}) → ${r.got.verdict}${r.got.verdict === 'unscanned' ? ` (${r.got.message})` : ''}`).join('; ');
      checks.push({ status: 'fail', what: 'canary check', fix: `missed: ${got}. ${report.advice.join(' ') || 'Fix the scanner configuration so it detects the EICAR test file.'}` });
    }
    for (const a of report.ok ? report.advice : []) checks.push({ status: 'warn', what: 'scanner advice', fix: a });
  } finally {
    await scanner.close().catch(() => {});
  }
  return checks;
}
