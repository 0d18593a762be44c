/**
 * `unseal rescan` against a real clamd: a folder of 50+ messages encrypted with OpenSSL (clean,
 * EICAR inside the encryption, for another key, one malformed, one plain) as a directory, an mbox
 * and a Maildir; the state file skips what the same signatures saw, and a signature update
 * (recorded version differs) scans everything again. Plaintext never reaches output or state.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../helpers/cli.js';
import { makeRescanCorpus, type RescanCorpus } from '../../helpers/rescan-corpus.js';
import { startClamd, type ClamdHandle } from '../../helpers/scanners/clamd.js';
import { ALICE } from '../../helpers/smime-samples.js';
import { toMbox } from '../../helpers/thunderbird/profile.js';

interface Out {
  mailbox: { kind: string; messages: number };
  summary: Record<string, number>;
  results: { id: string; messageId?: string; status: string; findings?: { signature: string }[]; reason?: string; previousVerdict?: string }[];
}

let clamd: ClamdHandle;
let dir: string;
let corpus: RescanCorpus;
let pass: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'unseal-rescan-'));
  corpus = makeRescanCorpus(join(dir, 'folder'));
  pass = join(dir, 'pass.txt');
  writeFileSync(pass, ALICE.pass);
  clamd = await startClamd({ alertExceedsMax: true });
}, 120_000);

afterAll(async () => {
  await clamd?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const keyArgs = () => ['--key', ALICE.p12, '--pass-file', pass, '--scanner', clamd.url];

async function rescan(target: string, extra: string[] = []): Promise<{ code: number; out: Out; stderr: string; raw: string }> {
  const r = await runCli(['rescan', ...keyArgs(), '--json', ...extra, target]);
  const raw = r.stdout.toString('utf8');
  expect(raw, r.stderr).not.toBe('');
  return { code: r.code, out: JSON.parse(raw) as Out, stderr: r.stderr, raw };
}

function expectNoPlaintext(text: string): void {
  for (const m of corpus.messages) expect(text).not.toContain(m.marker);
}

function expectFullSummary(out: Out): void {
  const c = corpus.count;
  expect(out.summary).toMatchObject({
    total: corpus.messages.length,
    scanned: c.clean + c.infected,
    clean: c.clean,
    infected: c.infected,
    unscanned: 0,
    couldNotDecrypt: c.otherKey + c.malformed,
    skipped: 0,
    notEncrypted: c.plain,
  });
  const byMsgId = new Map(out.results.map((r) => [r.messageId?.replace(/^<|>$/g, ''), r]));
  for (const m of corpus.messages) {
    const r = byMsgId.get(m.messageId);
    expect(r, m.name).toBeDefined();
    const want = { clean: 'clean', infected: 'infected', 'other-key': 'could_not_decrypt', malformed: 'could_not_decrypt', plain: 'not_encrypted' }[m.kind];
    expect(r!.status, m.name).toBe(want);
    if (m.kind === 'infected') expect(r!.findings?.map((f) => f.signature).join(' ')).toMatch(/Unseal\.Test\.EICAR/);
    if (m.kind === 'other-key') expect(r!.reason).toBe('no_matching_recipient');
    if (m.kind === 'malformed') expect(r!.reason).toMatch(/^malformed/);
  }
}

describe('unseal rescan with a real clamd', () => {
  it('a directory of 54 .eml files: correct summary, exit 10 (infected), no plaintext in the output', async () => {
    expect(corpus.messages.length).toBeGreaterThanOrEqual(50);
    const r = await rescan(corpus.dir);
    expect(r.code).toBe(10);
    expect(r.out.mailbox).toEqual({ kind: 'dir', messages: corpus.messages.length });
    expectFullSummary(r.out);
    expectNoPlaintext(r.raw + r.stderr);
  }, 180_000);

  it('the state file: a second run skips everything; a signature update scans everything again', async () => {
    const state = join(dir, 'state.json');
    const first = await rescan(corpus.dir, ['--state', state]);
    expectFullSummary(first.out);
    const saved = readFileSync(state, 'utf8');
    expectNoPlaintext(saved);
    const seen = JSON.parse(saved) as { version: number; seen: Record<string, { signatures: string; verdict: string }>; run?: unknown };
    expect(seen.run).toBeUndefined();
    expect(Object.keys(seen.seen)).toHaveLength(corpus.count.clean + corpus.count.infected);

    const second = await rescan(corpus.dir, ['--state', state]);
    expect(second.out.summary).toMatchObject({ scanned: 0, skipped: corpus.count.clean + corpus.count.infected, skippedInfected: corpus.count.infected, couldNotDecrypt: 5 });
    // Still infected in the mailbox: a skipped infected message keeps exit 10.
    expect(second.code).toBe(10);
    expect(second.out.results.filter((x) => x.previousVerdict === 'infected')).toHaveLength(corpus.count.infected);

    // "Signatures update": the recorded version no longer matches what clamd reports.
    for (const v of Object.values(seen.seen)) v.signatures = `${v.signatures}-before-update`;
    writeFileSync(state, JSON.stringify(seen));
    const third = await rescan(corpus.dir, ['--state', state]);
    expectFullSummary(third.out);
  }, 300_000);

  it('a real signature update: clamd restarted with a second .ndb; the re-scan (with --force when the clamd version string cannot show a private .ndb) finds the new signature', async () => {
    const state = join(dir, 'state-restart.json');
    const cleanOnly = join(dir, 'clean-only');
    mkdirSync(cleanOnly);
    const few = corpus.messages.filter((m) => m.kind === 'clean').slice(0, 3);
    for (const m of few) copyFileSync(m.file, join(cleanOnly, basename(m.file)));
    const a = await rescan(cleanOnly, ['--state', state]);
    expect(a.code).toBe(0);
    expect(a.out.summary).toMatchObject({ clean: 3, scanned: 3 });
    const b = await rescan(cleanOnly, ['--state', state]);
    expect(b.out.summary).toMatchObject({ skipped: 3, scanned: 0 });
    expect(b.code).toBe(0);

    // The update: clamd restarted with a second database holding a signature for one message's text.
    const hex = Buffer.from(few[0]!.marker, 'latin1').toString('hex');
    const updated = await startClamd({ alertExceedsMax: true, extraSignatures: [`Unseal.Test.Update:0:*:${hex}`] });
    const run = async (extra: string[]) => {
      const r = await runCli(['rescan', '--key', ALICE.p12, '--pass-file', pass, '--scanner', updated.url, '--json', '--state', state, ...extra, cleanOnly]);
      return { code: r.code, out: JSON.parse(r.stdout.toString('utf8')) as Out };
    };
    try {
      const before = Object.values((JSON.parse(readFileSync(state, 'utf8')) as { seen: Record<string, { signatures: string }> }).seen)[0]!.signatures;
      const c = await run([]);
      if (c.out.summary['skipped'] === 3) {
        // clamd reports the same version for a private database directory (only official .cvd/.cld
        // files carry a version), so a hand-made .ndb is not an "update" it can see: --force.
        expect(before).not.toMatch(/\/\d{5,}\//);
        const d = await run(['--force']);
        expect(d.out.summary).toMatchObject({ scanned: 3, infected: 1, clean: 2, skipped: 0 });
        expect(d.code).toBe(10);
      } else {
        expect(c.out.summary).toMatchObject({ scanned: 3, infected: 1, clean: 2 });
        expect(c.code).toBe(10);
      }
    } finally {
      await updated.stop();
    }
  }, 180_000);

  it('the same messages as an mbox and as a Maildir give the same summary', async () => {
    const mbox = join(dir, 'Inbox');
    writeFileSync(mbox, toMbox(corpus.messages.map((m) => readFileSync(m.file))));
    const a = await rescan(mbox);
    expect(a.out.mailbox).toEqual({ kind: 'mbox', messages: corpus.messages.length });
    expectFullSummary(a.out);
    expect(a.code).toBe(10);

    const md = join(dir, 'Maildir');
    for (const sub of ['cur', 'new', 'tmp']) mkdirSync(join(md, sub), { recursive: true });
    corpus.messages.forEach((m, i) => copyFileSync(m.file, join(md, i % 2 ? 'cur' : 'new', `${1700000000 + i}.M${i}P1.host:2,S`)));
    const b = await rescan(md);
    expect(b.out.mailbox).toEqual({ kind: 'maildir', messages: corpus.messages.length });
    expectFullSummary(b.out);
  }, 300_000);

  it('messages that could not be decrypted and nothing infected: exit 11 (text summary too); clean plus not encrypted: exit 0', async () => {
    const pick = (name: string, kinds: string[]) => {
      const d = join(dir, name);
      mkdirSync(d);
      for (const kind of kinds) {
        const m = corpus.messages.find((x) => x.kind === kind)!;
        copyFileSync(m.file, join(d, basename(m.file)));
      }
      return d;
    };
    const undecryptable = pick('undecryptable', ['clean', 'other-key', 'malformed', 'plain']);
    const r = await rescan(undecryptable);
    expect(r.out.summary).toMatchObject({ clean: 1, infected: 0, unscanned: 0, couldNotDecrypt: 2, notEncrypted: 1 });
    expect(r.code).toBe(11);
    const text = await runCli(['rescan', ...keyArgs(), undecryptable]);
    expect(text.stdout.toString()).toContain('could not decrypt: 2\n');
    expect(text.code).toBe(11);

    const fine = pick('clean-and-plain', ['clean', 'plain']);
    const ok = await rescan(fine);
    expect(ok.out.summary).toMatchObject({ clean: 1, couldNotDecrypt: 0, notEncrypted: 1 });
    expect(ok.code).toBe(0);
  }, 60_000);

  it('scanner down: exit 11 and every decrypted message unscanned', async () => {
    const only = join(dir, 'two');
    mkdirSync(only);
    for (const m of corpus.messages.filter((x) => x.kind === 'clean').slice(0, 2)) copyFileSync(m.file, join(only, basename(m.file)));
    const r = await runCli(['rescan', '--key', ALICE.p12, '--pass-file', pass, '--scanner', `clamd+unix://${join(dir, 'nothing.ctl')}`, '--json', only]);
    expect(r.code).toBe(11);
    const out = JSON.parse(r.stdout.toString('utf8')) as Out;
    expect(out.summary).toMatchObject({ unscanned: 2, clean: 0 });
  }, 60_000);
});
