/**
 * Key lifecycle in a real Thunderbird 153, driven through the keys page like a user: the import
 * dialog (legacy and modern .p12, wrong password), an EXPIRED key that still decrypts mail
 * addressed to it (listed "retired — decrypt only"), a passphrase (set, lock: mail shows the
 * locked banner; unlock: it renders), a restart (keys still there, still locked, unlockable), no
 * key bytes in Gecko's IndexedDB, and delete with confirmation. Mail goes through the real native
 * host and a real clamd as in pipeline.test.ts.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { webcrypto } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadKeyFile } from '../../src/core/keys/load.js';
import { startClamd, type ClamdHandle } from '../helpers/scanners/clamd.js';
import { ALICE } from '../helpers/smime-samples.js';
import { RESULTS_DIR, Thunderbird, builtXpi, scenario, installHost } from '../helpers/thunderbird/index.js';
import { KeysPage, type PageState } from '../helpers/thunderbird/keys-page.js';

const LEGACY_P12 = resolve('test/fixtures/keys/lifecycle/legacy-rc2-40.p12');
const LEGACY_PASS = readFileSync(resolve('test/fixtures/keys/lifecycle/legacy-rc2-40.pass'), 'utf8').replace(/\r?\n$/, '');
const PASSPHRASE = 'lifecycle passphrase 1';
const CRLF = (s: string) => s.replace(/\r?\n/g, '\r\n');

interface Mail {
  file: string;
  subject: string;
  messageId: string;
}

/** A key whose certificate expired in 2021 (openssl ca with -startdate/-enddate), as a .p12. */
function makeExpiredKey(dir: string): { p12: string; pass: string; cert: string } {
  const d = join(dir, 'expired');
  mkdirSync(d, { recursive: true });
  const run = (args: string[]) => execFileSync('openssl', args, { cwd: d, stdio: ['ignore', 'pipe', 'pipe'] });
  run(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-subj', '/CN=Old Demo CA', '-days', '7300']);
  run(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'old.key', '-out', 'old.csr', '-subj', '/CN=Alice Demo (2020)/emailAddress=alice@demo.example']);
  writeFileSync(join(d, 'index.txt'), '');
  writeFileSync(join(d, 'serial'), '1001\n');
  writeFileSync(
    join(d, 'ca.cnf'),
    `[ca]\ndefault_ca = c\n[c]\ndir = ${d}\ndatabase = $dir/index.txt\nnew_certs_dir = $dir\nserial = $dir/serial\ndefault_md = sha256\npolicy = p\nx509_extensions = e\nunique_subject = no\n[p]\ncommonName = supplied\nemailAddress = optional\n[e]\nkeyUsage = critical, keyEncipherment\nextendedKeyUsage = emailProtection\nsubjectAltName = email:alice@demo.example\n`,
  );
  run(['ca', '-batch', '-config', 'ca.cnf', '-cert', 'ca.pem', '-keyfile', 'ca.key', '-in', 'old.csr', '-out', 'old.pem', '-notext', '-startdate', '20200101000000Z', '-enddate', '20210101000000Z']);
  run(['pkcs12', '-export', '-inkey', 'old.key', '-in', 'old.pem', '-certfile', 'ca.pem', '-name', 'Alice 2020 (expired)', '-passout', 'pass:old2020', '-out', 'old.p12']);
  return { p12: join(d, 'alice-2020.p12'), pass: 'old2020', cert: join(d, 'old.pem') };
}

function encryptedMail(dir: string, name: string, subject: string, text: string, cert: string): Mail {
  const inner = join(dir, `${name}.inner`);
  const out = join(dir, `${name}.p7m`);
  writeFileSync(inner, CRLF(`Content-Type: text/plain; charset=utf-8\n\n${text}\n`));
  execFileSync('openssl', ['cms', '-encrypt', '-binary', '-aes256', '-in', inner, '-out', out, cert]);
  const messageId = `${name}@lifecycle.example`;
  const head = CRLF(`From: Bob Sender <bob@demo.example>\nTo: Alice Demo <alice@demo.example>\nSubject: ${subject}\nDate: Thu, 03 Dec 2026 10:00:00 +0000\nMessage-ID: <${messageId}>\n`);
  const file = join(dir, `${name}.eml`);
  writeFileSync(file, head + readFileSync(out, 'latin1'), 'latin1');
  return { file, subject, messageId };
}

describe('key lifecycle in Thunderbird', () => {
  let tb: Thunderbird;
  let clamd: ClamdHandle;
  let dir: string;
  let page: KeysPage;
  let expired: { p12: string; pass: string; cert: string };
  let toAlice: Mail;
  let toAlice2: Mail;
  let toExpired: Mail;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'unseal-e2e-keys-'));
    expired = makeExpiredKey(dir);
    copyFileSync(join(dir, 'expired/old.p12'), expired.p12);
    toAlice = encryptedMail(dir, 'to-alice', 'Lifecycle: for Alice', 'Hello Alice, this is for your current key.', ALICE.cert);
    toAlice2 = encryptedMail(dir, 'to-alice-2', 'Lifecycle: for Alice again', 'A second message for the current key.', ALICE.cert);
    toExpired = encryptedMail(dir, 'to-expired', 'Lifecycle: for the 2020 key', 'Sent to the certificate that has expired since.', expired.cert);
    clamd = await startClamd({ alertExceedsMax: true });
    tb = await Thunderbird.start({
      xpi: builtXpi(),
      p7mExternal: true,
      messages: [toAlice.file, toAlice2.file, toExpired.file],
      beforeLaunch: (p) => {
        installHost(p.home, clamd.url);
      },
    });
    await tb.waitForBackground(60_000);
    page = new KeysPage(tb, `moz-extension://${await KeysPage.uuid(tb)}/pages/keys.html`);
    await page.open();
    await page.waitIdle((x) => x.keys === '0', 'empty keys page');
  }, 180_000);

  afterAll(async () => {
    await tb?.stop();
    await clamd?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  /** Choose → (password) → preview; returns the preview state. */
  async function readFile(file: string, password: string | undefined): Promise<PageState> {
    await page.chooseFile(file);
    await page.click('#import');
    let s = await page.waitIdle((x) => x.preview !== null || x.statusKind === 'error', 'preview or error', 30_000);
    if (s.preview === null && s.passwordShown && password !== undefined) {
      await page.type('#password', password);
      await page.click('#import');
      s = await page.waitIdle((x) => x.preview !== null || (x.statusKind === 'error' && /wrong/i.test(x.status)), 'preview after the password', 30_000);
    }
    return s;
  }

  async function showKeysTab(): Promise<void> {
    await tb.chrome(
      `const win = Services.wm.getMostRecentWindow("mail:3pane");
       const tabmail = win.document.getElementById("tabmail");
       const tab = tabmail.tabInfo.find(t => t.browser && t.browser.currentURI && t.browser.currentURI.spec === arguments[0]);
       if (tab) tabmail.switchToTab(tab);`,
      [page.url],
    );
  }

  async function showMail(): Promise<void> {
    await tb.chrome(`Services.wm.getMostRecentWindow("mail:3pane").document.getElementById("tabmail").switchToTab(0);`);
  }

  it('import-legacy-p12: a legacy RC2-40 .p12 is previewed (protection named) and imported', async () => {
    await scenario('import-legacy-p12', async (ctx) => {
      const s = await readFile(LEGACY_P12, LEGACY_PASS);
      expect(s.preview).toHaveLength(1);
      expect(s.previewProtection).toMatch(/Legacy RC2-40 protection/);
      expect(s.items).toEqual([]); // nothing stored before the user confirms
      await page.click('#commit');
      const done = await page.waitIdle((x) => x.keys === '1', 'legacy key listed', 30_000);
      expect(done.status).toMatch(/Imported 1 key/);
      expect(done.status).toMatch(/Legacy RC2-40 protection: imported/);
      ctx.metrics['keys'] = done.items.length;
    });
  }, 120_000);

  it('import-modern-p12: alice.p12 — the dialog shows identity, issuer, serial, validity, usage, algorithm before saving', async () => {
    await scenario('import-modern-p12', async (ctx) => {
      const expected = (await loadKeyFile(webcrypto.subtle as SubtleCrypto, new Uint8Array(readFileSync(ALICE.p12)), { password: ALICE.pass })).keys[0]!;
      const s = await readFile(ALICE.p12, ALICE.pass);
      expect(s.preview).toHaveLength(1);
      const p = s.preview![0]!;
      expect(p.id).toBe(expected.id);
      expect(p.checked).toBe(true);
      for (const part of [expected.certificate!.subject, expected.certificate!.serialHex, expected.certificate!.issuer, 'RSA 2048 bit', ...expected.certificate!.emails]) expect(p.text).toContain(part);
      expect(p.text).toMatch(/decryption/);
      ctx.screenshot = await tb.screenshot(join(RESULTS_DIR, 'import-modern-p12.png'));
      // The README's picture of the dialog: refreshed on request only (keeps the tree clean in CI).
      if (process.env['UNSEAL_UPDATE_DOCS_IMG'] === '1') copyFileSync(ctx.screenshot, resolve('docs/img/keys-dialog.png'));
      await page.click('#commit');
      const done = await page.waitIdle((x) => x.keys === '2', 'alice listed', 30_000);
      expect(done.items.map((i) => i.id)).toContain(expected.id);
    });
  }, 120_000);

  it('import-wrong-password: a specific message, nothing stored', async () => {
    await scenario('import-wrong-password', async () => {
      const s = await readFile(ALICE.p12, 'not the password');
      expect(s.statusKind).toBe('error');
      expect(s.status).toMatch(/password for alice\.p12 is wrong/);
      expect(s.preview).toBeNull();
      expect(s.keys).toBe('2');
    });
  }, 60_000);

  it('retired-key-decrypt: an expired key is listed "retired — decrypt only" and still opens mail addressed to it', async () => {
    await scenario('retired-key-decrypt', async (ctx) => {
      let s = await readFile(expired.p12, expired.pass);
      expect(s.preview).toHaveLength(1);
      await page.click('#commit');
      s = await page.waitIdle((x) => x.keys === '3', 'expired key listed', 30_000);
      const old = s.items.find((i) => /2020/.test(i.text))!;
      expect(old.badge).toBe('retired');
      expect(old.text).toMatch(/Retired — decrypt only/);
      await showMail();
      const sel = await tb.selectMessage(toExpired.subject);
      const r = await tb.waitForRendered(toExpired.messageId, sel.selectedAt, 30_000);
      ctx.ms = r.at - sel.selectedAt;
      ctx.screenshot = await tb.screenshot(join(RESULTS_DIR, 'retired-key-decrypt.png'));
      expect(r.rendered).toBe('clean');
      await showKeysTab();
    });
  }, 120_000);

  it('lock-unlock: with a passphrase set and Unseal locked, mail shows the locked banner; after unlocking it renders', async () => {
    await scenario('lock-unlock', async (ctx) => {
      await showKeysTab();
      await page.run(`(content) => { content.document.getElementById("passphrase-details").open = true; }`);
      await page.type('#new-passphrase', PASSPHRASE);
      await page.type('#new-passphrase2', PASSPHRASE);
      await page.click('#set-passphrase');
      let s = await page.waitIdle((x) => x.protection === 'passphrase' && x.locked === 'false', 'passphrase set', 120_000);
      expect(s.status).toMatch(/Passphrase set/);
      expect(s.problemsShown).toBe(false);
      await page.click('#lock');
      s = await page.waitIdle((x) => x.locked === 'true', 'locked');

      await showMail();
      let sel = await tb.selectMessage(toAlice.subject);
      let r = await tb.waitForRendered(toAlice.messageId, sel.selectedAt, 30_000);
      ctx.screenshot = await tb.screenshot(join(RESULTS_DIR, 'lock-unlock-locked.png'));
      expect(r.rendered).toBe('locked');
      expect(r.renderedTextLength ?? 0).toBe(0);

      await showKeysTab();
      await page.type('#unlock-passphrase', 'wrong passphrase');
      await page.click('#unlock');
      s = await page.waitIdle((x) => x.statusKind === 'error', 'wrong passphrase', 60_000);
      expect(s.status).toMatch(/Wrong passphrase/);
      expect(s.locked).toBe('true');
      const t0 = Date.now();
      await page.type('#unlock-passphrase', PASSPHRASE);
      await page.click('#unlock');
      s = await page.waitIdle((x) => x.locked === 'false', 'unlocked', 60_000);
      ctx.metrics['unlockMs'] = Date.now() - t0;

      await showMail();
      sel = await tb.selectMessage(toAlice2.subject);
      r = await tb.waitForRendered(toAlice2.messageId, sel.selectedAt, 30_000);
      expect(r.rendered).toBe('clean');
      sel = await tb.selectMessage(toAlice.subject);
      r = await tb.waitForRendered(toAlice.messageId, sel.selectedAt, 30_000);
      ctx.ms = r.at - sel.selectedAt;
      expect(r.rendered).toBe('clean');
      await showKeysTab();
    });
  }, 240_000);

  it('keys-at-rest-encrypted: Gecko IndexedDB holds no key bytes and no wrapping key, only the KDF description', async () => {
    await scenario('keys-at-rest-encrypted', async (ctx) => {
      const alice = (await loadKeyFile(webcrypto.subtle as SubtleCrypto, new Uint8Array(readFileSync(ALICE.p12)), { password: ALICE.pass })).keys[0]!;
      if (alice.privateKey.type !== 'rsa') throw new Error('alice is RSA');
      const hex = (v: bigint) => v.toString(16).padStart(Math.ceil(v.toString(16).length / 2) * 2, '0');
      const secrets = [Buffer.from(alice.privateKey.pkcs8).toString('hex'), ...[alice.privateKey.rsa.d, alice.privateKey.rsa.p, alice.privateKey.rsa.q].flatMap((v) => [hex(v).slice(0, 64), hex(v).slice(-64)])];
      const raw = await page.run<{ leaks: number; records: number; kinds: string[]; protections: string[]; keyFields: number; controlHits: number }>(
        `async (content, [secretHexes, certHex]) => {
           const hexBytes = (h) => new Uint8Array(h.match(/../g).map(x => parseInt(x, 16)));
           const secrets = secretHexes.map(hexBytes);
           const control = hexBytes(certHex).subarray(100, 132);
           const has = (hay, needle) => { outer: for (let i = 0; i + needle.length <= hay.length; i++) { for (let j = 0; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer; return true; } return false; };
           const bytesOf = (v, out, seen) => {
             if (v === null || v === undefined) return out;
             if (typeof v === "string") { out.push(new TextEncoder().encode(v)); return out; }
             if (typeof v !== "object" || seen.has(v)) return out;
             seen.add(v);
             const tag = Object.prototype.toString.call(v);
             if (/Array\\]$/.test(tag) && tag !== "[object Array]") { const c = Cu.cloneInto(v, {}); out.push(new Uint8Array(c.buffer, c.byteOffset, c.byteLength)); }
             else if (tag === "[object ArrayBuffer]") out.push(new Uint8Array(Cu.cloneInto(v, {})));
             else for (const k of Object.keys(v)) bytesOf(v[k], out, seen);
             return out;
           };
           const req = (r) => new Promise((res, rej) => { r.onsuccess = () => res(r.result); r.onerror = () => rej(r.error); });
           const db = await req(content.indexedDB.open("unseal-keys"));
           const keys = await req(db.transaction("keys").objectStore("keys").getAll());
           const wks = await req(db.transaction("wrappingKeys").objectStore("wrappingKeys").getAll());
           db.close();
           let leaks = 0, controlHits = 0;
           for (const v of [...keys, ...wks]) for (const b of bytesOf(v, [], new Set())) { for (const x of secrets) if (has(b, x)) leaks++; if (has(b, control)) controlHits++; }
           return { leaks, controlHits, records: keys.length, kinds: Array.from(wks).map(w => w.kind), protections: Array.from(keys).map(k => k.protection), keyFields: Array.from(wks).filter(w => "key" in w).length };
         }`,
        [secrets, Buffer.from(alice.certificate!.der).toString('hex')],
      );
      ctx.metrics['records'] = raw.records;
      expect(raw.controlHits).toBeGreaterThan(0);
      expect(raw.leaks).toBe(0);
      expect(raw.records).toBe(3);
      expect(raw.kinds).toEqual(['passphrase']);
      expect(raw.keyFields).toBe(0);
      expect(raw.protections).toEqual(['passphrase', 'passphrase', 'passphrase']);
    });
  }, 60_000);

  it('restart-persist: after a Thunderbird restart the keys are there, locked, and unlock', async () => {
    await scenario('restart-persist', async (ctx) => {
      await tb.restart();
      await tb.waitForBackground(60_000).catch(() => undefined);
      page = new KeysPage(tb, page.url);
      await page.open();
      let s = await page.waitIdle((x) => x.keys === '3', 'keys after restart', 30_000);
      expect(s.locked).toBe('true');
      expect(s.protection).toBe('passphrase');
      await page.type('#unlock-passphrase', PASSPHRASE);
      await page.click('#unlock');
      s = await page.waitIdle((x) => x.locked === 'false', 'unlocked after restart', 60_000);
      expect(s.problemsShown).toBe(false);
      ctx.metrics['keysAfterRestart'] = s.items.length;
      await showMail();
      const sel = await tb.selectMessage(toAlice.subject);
      const r = await tb.waitForRendered(toAlice.messageId, sel.selectedAt, 30_000);
      expect(r.rendered).toBe('clean');
      await showKeysTab();
    });
  }, 240_000);

  it('delete-key: delete with confirmation removes the key', async () => {
    await scenario('delete-key', async () => {
      const before = await page.waitIdle((x) => x.keys === '3', 'three keys');
      const legacy = before.items.find((i) => !/Alice/.test(i.text)) ?? before.items[0]!;
      await page.click(`#key-list li.key[data-key-id="${legacy.id}"] .delete`);
      await page.click(`#key-list li.key[data-key-id="${legacy.id}"] .confirm-delete`);
      const s = await page.waitIdle((x) => x.keys === '2', 'key deleted');
      expect(s.items.map((i) => i.id)).not.toContain(legacy.id);
      expect(s.status).toMatch(/deleted/);
    });
  }, 60_000);
});
