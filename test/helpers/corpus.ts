import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ROOT } from './cli.js';

/** The shared corpus sits beside the project (../shared/corpus); CI lays it there too. */
export const CORPUS = resolve(ROOT, '../shared/corpus');

if (!existsSync(CORPUS)) throw new Error(`shared corpus not found at ${CORPUS}`);

export const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

export interface Expected {
  outcome: 'decrypts' | 'error' | 'imports';
  plaintext_sha256?: string;
  error_kind?: string;
  plaintext_contains?: string;
  must_not_render?: string;
  max_seconds?: number;
  av_verdict?: 'clean' | 'infected';
  av_detail?: string;
  acceptable_alternative?: { outcome: string; plaintext_sha256?: string };
}

export interface DecryptCase {
  id: string;
  input: string;
  /** CLI key options, with temp files for passwords. */
  args: string[];
  expected: Expected;
}

const tmp = mkdtempSync(join(tmpdir(), 'unseal-corpus-'));
let n = 0;
export function passFile(content: string | Uint8Array): string {
  const f = join(tmp, `pass-${n++}`);
  writeFileSync(f, content);
  return f;
}

interface PublicCase {
  id: string;
  input: string;
  input_format: string;
  decrypt: { key?: string; password?: string; cert?: string; content_key_hex?: string; kek_hex?: string; kek_id_hex?: string };
  expected: Expected;
}

export function publicCases(): DecryptCase[] {
  const dir = join(CORPUS, 'public');
  const cases = (JSON.parse(readFileSync(join(dir, 'cases.json'), 'utf8')) as { cases: PublicCase[] }).cases;
  return cases.map((c) => {
    const d = c.decrypt;
    const args: string[] = [];
    if (d.key) args.push('--key', join(dir, d.key));
    if (d.cert) args.push('--cert', join(dir, d.cert));
    if (d.password !== undefined) args.push('--pass-file', passFile(d.password));
    if (d.kek_hex) args.push('--kek', `${d.kek_hex}:${d.kek_id_hex}`);
    if (d.content_key_hex) args.push('--content-key', d.content_key_hex);
    return { id: `public/${c.id}`, input: join(dir, c.input), args, expected: c.expected };
  });
}

interface ProducerCase {
  id: string;
  input: string;
  expected: Expected;
  keys?: { key: string; cert: string }[];
  kek?: { key_hex: string; kek_id: string };
  recipient_password?: string;
  password?: string;
  contents?: string;
  protection?: string;
}

function producerRaw(): ProducerCase[] {
  return (JSON.parse(readFileSync(join(CORPUS, 'producers/cases.json'), 'utf8')) as { cases: ProducerCase[] }).cases;
}

/** Each producer case once per key that alone can decrypt it. */
export function producerCases(): DecryptCase[] {
  const dir = join(CORPUS, 'producers');
  const out: DecryptCase[] = [];
  for (const c of producerRaw()) {
    if (c.expected.outcome === 'imports') continue;
    const input = join(dir, c.input);
    if (c.keys) {
      c.keys.forEach((k, i) => out.push({ id: `producers/${c.id}#${i}`, input, args: ['--key', join(dir, k.key), '--cert', join(dir, k.cert)], expected: c.expected }));
    }
    if (c.kek) out.push({ id: `producers/${c.id}`, input, args: ['--kek', `${c.kek.key_hex}:${Buffer.from(c.kek.kek_id).toString('hex')}`], expected: c.expected });
    if (c.recipient_password !== undefined) {
      out.push({ id: `producers/${c.id}`, input, args: ['--recipient-password-file', passFile(c.recipient_password)], expected: c.expected });
    }
  }
  return out;
}

export function producerPkcs12Cases(): { id: string; file: string; password?: string; contents: string; protection: string }[] {
  return producerRaw()
    .filter((c) => c.expected.outcome === 'imports')
    .map((c) => ({ id: c.id, file: join(CORPUS, 'producers', c.input), ...(c.password !== undefined ? { password: c.password } : {}), contents: c.contents ?? '', protection: c.protection ?? '' }));
}

export interface TortureCase extends DecryptCase {
  dir: string;
}

export function tortureCases(): TortureCase[] {
  const root = join(CORPUS, 'torture');
  return readdirSync(root)
    .filter((d) => existsSync(join(root, d, 'case.json')))
    .sort()
    .map((d) => {
      const dir = join(root, d);
      const c = JSON.parse(readFileSync(join(dir, 'case.json'), 'utf8')) as { input: string; key: string; expected: Expected };
      const args = ['--key', join(dir, c.key), '--pass-file', join(dir, 'password.txt')];
      return { id: `torture/${d}`, dir, input: join(dir, c.input), args, expected: c.expected };
    });
}

export const EXIT_FOR_KIND: Record<string, number> = {
  no_matching_recipient: 3,
  malformed_cms: 4,
  malformed_mime: 4,
  decryption_failed: 5,
  unsupported_algorithm: 6,
  wrong_password: 7,
};
