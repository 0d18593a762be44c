import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';

export const ROOT = resolve(import.meta.dirname, '../..');
export const CLI = resolve(ROOT, 'dist/cli/unseal.mjs');

export interface CliResult {
  code: number;
  stdout: Buffer;
  stderr: string;
  ms: number;
}

/** Runs the built CLI as a user would (a separate Node process). */
export function runCli(args: string[], opts: { stdin?: Uint8Array; env?: NodeJS.ProcessEnv; cwd?: string } = {}): Promise<CliResult> {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run 'npm run build' first (npm test does)`);
  const t0 = performance.now();
  return new Promise((res, rej) => {
    const p = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...opts.env }, cwd: opts.cwd ?? ROOT });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    p.stdout.on('data', (d: Buffer) => out.push(d));
    p.stderr.on('data', (d: Buffer) => err.push(d));
    p.on('error', rej);
    p.on('close', (code) => res({ code: code ?? -1, stdout: Buffer.concat(out), stderr: Buffer.concat(err).toString('utf8'), ms: performance.now() - t0 }));
    if (opts.stdin) p.stdin.end(opts.stdin);
    else p.stdin.end();
  });
}
