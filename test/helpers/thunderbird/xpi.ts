import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';

/** `dist/unseal-<package version>.xpi`; `npm run build` (or `npm run test:e2e`) makes it. */
export function builtXpi(): string {
  const pkg = JSON.parse(readFileSync(resolve('package.json'), 'utf8')) as { version: string };
  const path = resolve('dist', `unseal-${pkg.version}.xpi`);
  if (!existsSync(path)) throw new Error(`${path} missing: run npm run build first`);
  return path;
}
