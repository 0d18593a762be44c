import { readFileSync } from 'node:fs';
import { webcrypto } from 'node:crypto';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
export const CORPUS = resolve(HERE, '../../../../shared/corpus');
export const FIXTURES = resolve(HERE, '../../fixtures/keys');
export const subtle = webcrypto.subtle as SubtleCrypto;

export const corpusFile = (rel: string): Uint8Array => new Uint8Array(readFileSync(resolve(CORPUS, rel)));
export const fixture = (rel: string): Uint8Array => new Uint8Array(readFileSync(resolve(FIXTURES, rel)));
export const json = <T>(rel: string): T => JSON.parse(readFileSync(resolve(CORPUS, rel), 'utf8')) as T;

export async function rejectionKind(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    return (e as { kind?: string }).kind ?? `non-Unseal ${String(e)}`;
  }
  return 'resolved';
}
