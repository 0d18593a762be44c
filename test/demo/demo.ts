/**
 * `npm run demo`: Thunderbird with Unseal, a private clamd and a folder of sample S/MIME mail.
 *
 * On a desktop (DISPLAY set) Thunderbird opens on your screen and stays until you close it. On a
 * server it runs under Xvfb, walks through every sample, saves a screenshot of each into
 * test-results/demo/ and prints what was shown. Everything lives in a throw-away profile and HOME;
 * nothing of yours is touched.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { startClamd } from '../helpers/scanners/clamd.js';
import { ALICE, makeSamples, type Sample } from '../helpers/smime-samples.js';
import { Thunderbird, builtXpi, installHost } from '../helpers/thunderbird/index.js';
import { importKeyThroughPage } from '../helpers/thunderbird/keys-page.js';

// The demo runs bundled from dist/demo/, with the project root as its working directory.
const ROOT = process.cwd();
const OUT = join(ROOT, 'test-results/demo');

function say(s: string): void {
  process.stdout.write(`${s}\n`);
}

async function main(): Promise<void> {
  mkdirSync(OUT, { recursive: true });
  const work = mkdtempSync(join(tmpdir(), 'unseal-demo-'));
  say('Unseal demo');
  say('  starting a private clamd (test signature database, no internet needed)…');
  const clamd = await startClamd({ alertExceedsMax: true });
  say('  writing sample messages with OpenSSL…');
  const s = makeSamples(join(work, 'samples'));
  const samples: [string, Sample][] = [
    ['clean HTML + attachment', s.clean],
    ['signed (by Alice; From says Bob), then encrypted', s.signedEncrypted],
    ['EICAR attachment inside the encryption', s.infected],
    ['legacy 3DES, 10 MB', s.large3des],
    ['encrypted for someone else (no key)', s.noKey],
    ['opaque signed only', s.opaque],
    ['plain, not encrypted', s.plain],
  ];
  const display = process.env['DISPLAY'];
  say(display ? `  starting Thunderbird on your display ${display}…` : '  starting Thunderbird under Xvfb (no DISPLAY)…');
  const tb = await Thunderbird.start({
    xpi: builtXpi(),
    p7mExternal: true,
    messages: samples.map(([, m]) => m.file),
    ...(display ? { display } : {}),
    keepProfile: false,
    beforeLaunch: (p) => {
      installHost(p.home, clamd.url);
    },
  });
  const stop = async () => {
    await tb.stop().catch(() => undefined);
    await clamd.stop().catch(() => undefined);
    rmSync(work, { recursive: true, force: true });
  };
  try {
    await tb.waitForBackground(60_000);
    say('  importing the demo key (test/fixtures/demo/alice.p12) through the add-on’s keys page…');
    await importKeyThroughPage(tb, ALICE.p12, ALICE.pass);
    say('');
    say('Local Folders › "Unseal Tests" holds:');
    for (const [what, m] of samples) say(`  - ${m.subject}  (${what})`);
    say('');
    if (display) {
      await tb.selectMessage(s.clean.subject);
      say('Thunderbird is open. Select the messages to see them decrypted, scanned and rendered (or blocked).');
      say('The toolbar button "Unseal keys" opens the key page. Close Thunderbird to end the demo.');
      await tb.waitForExit();
      return;
    }
    say('What Unseal showed for each message (screenshots in test-results/demo/):');
    for (const [i, [what, m]] of samples.entries()) {
      const sel = await tb.selectMessage(m.subject);
      const r = await (m === s.plain ? tb.waitForReport(m.messageId, sel.selectedAt) : tb.waitForRendered(m.messageId, sel.selectedAt, 60_000));
      const shot = join(OUT, `${String(i + 1).padStart(2, '0')}-${m.messageId.split('@')[0]}.png`);
      await tb.screenshot(shot);
      const shown = r.rendered ?? r.state;
      const extra = r.findingSignatures?.length ? ` — found ${r.findingSignatures.join(', ')}` : r.signatureStates?.length ? ` — signature ${r.signatureStates.join(', ')}` : '';
      say(`  ${shown.padEnd(9)} ${String(r.at - sel.selectedAt).padStart(5)} ms  ${what}${extra}`);
    }
  } finally {
    await stop();
  }
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    process.stderr.write(`demo failed: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  },
);
