/**
 * The keys page in a real Thunderbird 153: open moz-extension://<uuid>/pages/keys.html in a tab,
 * drive it like a user through Marionette's content context (WebDriver file upload on the real
 * <input type=file>, typing the password, clicking Import), and check the stored key is listed,
 * that Gecko's IndexedDB holds it wrapped (non-extractable wrapping CryptoKey, no PKCS#8 bytes),
 * and that it survives a restart.
 */
import { readFileSync } from 'node:fs';
import { webcrypto } from 'node:crypto';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadKeyFile } from '../../src/core/keys/load.js';
import type { PrivateKeyMaterial } from '../../src/core/keys/types.js';
import { RESULTS_DIR, Thunderbird, builtXpi, scenario } from '../helpers/thunderbird/index.js';
import { KeysPage } from '../helpers/thunderbird/keys-page.js';

const DEMO = resolve('test/fixtures/demo');
const ALICE_P12 = join(DEMO, 'alice.p12');
const ALICE_PASS = readFileSync(join(DEMO, 'alice.pass'), 'utf8').trim();


/** Hex of the whole PKCS#8 and of 32-byte pieces of the RSA private exponent and primes. */
function secretPieces(k: PrivateKeyMaterial): string[] {
  if (k.type !== 'rsa') throw new Error('the demo key is RSA');
  const hex = (v: bigint) => v.toString(16).padStart(Math.ceil(v.toString(16).length / 2) * 2, '0');
  return [Buffer.from(k.pkcs8).toString('hex'), ...[k.rsa.d, k.rsa.p, k.rsa.q].flatMap((v) => [hex(v).slice(0, 64), hex(v).slice(-64)])];
}

describe('keys page in Thunderbird', () => {
  let tb: Thunderbird;

  beforeAll(async () => {
    tb = await Thunderbird.start({ xpi: builtXpi(), messages: [] });
    await tb.waitForBackground(60_000);
    const addon = await tb.addonState();
    expect(addon?.isActive, `add-on not active: ${JSON.stringify(addon)}`).toBe(true);
  }, 120_000);

  afterAll(async () => {
    await tb?.stop();
  }, 60_000);

  it('import-demo-key: the demo .p12 is imported through the page, listed, stored wrapped, survives a restart, and can be deleted', async () => {
    await scenario('import-demo-key', async (ctx) => {
      const expected = (await loadKeyFile(webcrypto.subtle as SubtleCrypto, new Uint8Array(readFileSync(ALICE_P12)), { password: ALICE_PASS })).keys[0]!;
      const uuid = await KeysPage.uuid(tb);
      expect(uuid, 'extensions.webextensions.uuids has the add-on').toMatch(/^[0-9a-f-]{36}$/);
      const url = `moz-extension://${uuid}/pages/keys.html`;
      const page = new KeysPage(tb, url);
      const t0 = Date.now();
      await page.open();
      let s = await page.waitIdle((x) => x.keys === '0', 'empty keys page');
      ctx.metrics['openToReadyMs'] = Date.now() - t0;
      expect(s.url).toBe(url);
      expect(s.title).toBe('Unseal keys'); // localized through browser.i18n (en)

      // 1. Choose the file and import without a password: the page asks for one.
      await page.chooseFile(ALICE_P12);
      await page.click('#import');
      s = await page.waitIdle((x) => x.statusKind === 'error', 'password request');
      expect(s.passwordShown).toBe(true);
      expect(s.status).toMatch(/protected by a password/);
      expect(s.items).toEqual([]);

      // 2. A wrong password: a specific message, nothing stored.
      await page.type('#password', 'wrong');
      await page.click('#import');
      s = await page.waitIdle((x) => x.statusKind === 'error' && /wrong/.test(x.status), 'wrong password message');
      expect(s.status).toContain('alice.p12');
      expect(s.items).toEqual([]);

      // 3. The right password: the dialog shows what the file holds, then the key is imported and listed.
      await page.type('#password', ALICE_PASS);
      const tImport = Date.now();
      await page.click('#import');
      s = await page.waitIdle((x) => x.preview !== null, 'preview', 30_000);
      expect(s.preview).toHaveLength(1);
      expect(s.preview![0]!.text).toContain(expected.certificate!.serialHex);
      expect(s.items).toEqual([]);
      await page.click('#commit');
      s = await page.waitIdle((x) => x.keys === '1', 'key listed', 30_000);
      ctx.metrics['importToListedMs'] = Date.now() - tImport;
      expect(s.statusKind).toBe('ok');
      expect(s.status).toMatch(/Imported 1 key from alice\.p12/);
      expect(s.passwordShown).toBe(false);
      expect(s.problemsShown, 'loadKeys() unwrapped every stored key in Gecko').toBe(false);
      expect(s.items).toHaveLength(1);
      const item = s.items[0]!;
      expect(item.id).toBe(expected.id);
      expect(item.badge).toBe('valid');
      expect(item.text).toContain(expected.certificate!.subject);
      for (const e of expected.certificate!.emails) expect(item.text).toContain(e);
      expect(item.text).toContain(expected.certificate!.serialHex);
      ctx.screenshot = await tb.screenshot(join(RESULTS_DIR, 'import-demo-key.png'));

      // 4. The same file again (the page asks for the password again): reported as already stored, not added twice.
      await page.click('#import');
      await page.waitIdle((x) => x.passwordShown && x.statusKind === 'error', 'password request for the second import');
      await page.type('#password', ALICE_PASS);
      await page.click('#import');
      s = await page.waitIdle((x) => /already stored/.test(x.status), 'duplicate report');
      expect(s.preview?.[0]?.duplicate).toBe(true);
      expect(s.items).toHaveLength(1);

      // 5. Gecko's IndexedDB: a non-extractable wrapping key that still works, no PKCS#8 bytes in any record.
      const raw = await page.run<{ wrapping: { extractable: boolean; alg: string; exportFails: boolean }[]; records: number; byteFields: number; leaks: number; controlHits: number; wrappedLen: number[] }>(
        `async (content, [secretHexes, certHex]) => {
           const hexBytes = (h) => new Uint8Array(h.match(/../g).map(x => parseInt(x, 16)));
           const secrets = secretHexes.map(hexBytes); // the whole PKCS#8, and 32-byte pieces of d, p, q
           const control = hexBytes(certHex).subarray(100, 132); // 32 bytes that ARE stored (certificate)
           const has = (hay, needle) => { outer: for (let i = 0; i + needle.length <= hay.length; i++) { for (let j = 0; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer; return true; } return false; };
           const bytesOf = (v, out, seen) => {
             if (v === null || v === undefined) return out;
             if (typeof v === "string") { out.push(new TextEncoder().encode(v)); return out; }
             if (typeof v !== "object" || seen.has(v)) return out;
             seen.add(v);
             const tag = Object.prototype.toString.call(v);
             // Typed arrays cannot be read over Xrays: clone them into this scope first.
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
           let leaks = 0, controlHits = 0, byteFields = 0;
           for (const v of [...keys, ...wks]) for (const b of bytesOf(v, [], new Set())) { byteFields++; for (const x of secrets) if (has(b, x)) leaks++; if (has(b, control)) controlHits++; }
           const wrapping = [];
           for (const w of wks) {
             let exportFails = false;
             try { await content.crypto.subtle.exportKey("raw", w.key); } catch (e) { exportFails = true; }
             wrapping.push({ extractable: w.key.extractable, alg: w.key.algorithm.name + "-" + w.key.algorithm.length, exportFails });
           }
           return { wrapping, records: keys.length, byteFields, leaks, controlHits, wrappedLen: Array.from(keys).map(k => Cu.cloneInto(k.wrapped.ciphertext, {}).length) };
         }`,
        [secretPieces(expected.privateKey), Buffer.from(expected.certificate!.der).toString('hex')],
      );
      ctx.metrics['idbByteFields'] = raw.byteFields;
      expect(raw.controlHits, 'the search finds bytes that are stored (the certificate)').toBeGreaterThan(0);
      expect(raw.records).toBe(1);
      expect(raw.leaks).toBe(0);
      expect(raw.wrappedLen).toEqual([expected.privateKey.pkcs8.length + 16]);
      expect(raw.wrapping).toEqual([{ extractable: false, alg: 'AES-GCM-256', exportFails: true }]);

      // 6. Restart Thunderbird: the key is still there and still unwraps.
      await tb.restart();
      await tb.waitForBackground(60_000).catch(() => undefined);
      expect(await KeysPage.uuid(tb)).toBe(uuid);
      const again = new KeysPage(tb, url);
      await again.open();
      s = await again.waitIdle((x) => x.keys === '1', 'key listed after restart', 30_000);
      expect(s.items[0]!.id).toBe(expected.id);
      expect(s.problemsShown).toBe(false);
      ctx.metrics['keysAfterRestart'] = s.items.length;

      // 7. Delete with the inline confirmation: gone from the list and from the store.
      await again.click('#key-list li.key .delete');
      await again.click('#key-list li.key .confirm-delete');
      s = await again.waitIdle((x) => x.keys === '0', 'key deleted');
      expect(s.status).toMatch(/deleted/);
    });
  }, 180_000);
});
