import { execFileSync } from 'node:child_process';
import { CLI } from '../cli.js';

/**
 * Installs the native host the way an admin does — the real `unseal host install` — into one run's
 * HOME (where that Thunderbird looks for native-messaging manifests). Use in `beforeLaunch`.
 */
export function installHost(home: string, scannerUrl: string, ...extra: string[]): void {
  execFileSync(process.execPath, [CLI, 'host', 'install', '--scanner', scannerUrl, ...extra], { env: { ...process.env, HOME: home }, stdio: ['ignore', 'ignore', 'pipe'] });
}
