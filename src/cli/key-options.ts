import { webcrypto } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { hexDecode, utf8 } from '../core/bytes.js';
import type { DecryptionMaterial } from '../core/cms/decrypt.js';
import { UnsealError } from '../core/errors.js';
import { loadCertificates, loadKeyFile } from '../core/keys/load.js';
import type { CertInfo, KeyRecord } from '../core/keys/types.js';
import { many, one, type OptionSpec, type ParsedArgs } from './args.js';
import { ioMessage, readKeyFile, readPasswordFile } from './io.js';

export const subtle = webcrypto.subtle as SubtleCrypto;

export const KEY_OPTIONS: Record<string, OptionSpec> = {
  key: { value: true, repeat: true },
  cert: { value: true, repeat: true },
  'pass-file': { value: true },
  kek: { value: true, repeat: true },
  'recipient-password-file': { value: true, repeat: true },
  'content-key': { value: true },
};

export const KEY_OPTIONS_HELP = `  --key FILE                     private key: PKCS#12 (.p12/.pfx, PEM-armoured), PEM or DER key (repeatable)
  --cert FILE                    certificate(s) for keys given without one (PEM bundle or DER; repeatable)
  --pass-file FILE               password of the key files: its first line (an empty file is the empty password)
  --kek KEYHEX:KEKIDHEX          key-encryption key and its KEK identifier, in hex (repeatable)
  --recipient-password-file FILE password for a password recipient (RFC 3211): its first line (repeatable)
  --content-key HEX              content-encryption key for EncryptedData (RFC 5652 §8)`;

function parseKek(spec: string): { kek: Uint8Array; kekId: Uint8Array } {
  const m = /^([0-9a-fA-F]+):([0-9a-fA-F]+)$/.exec(spec.trim());
  if (!m) throw new UnsealError('usage', `--kek wants KEYHEX:KEKIDHEX, got '${spec}'`);
  try {
    return { kek: hexDecode(m[1]!), kekId: hexDecode(m[2]!) };
  } catch {
    throw new UnsealError('usage', `--kek wants KEYHEX:KEKIDHEX with an even number of hex digits in each, got '${spec}'`);
  }
}

/** DecryptionMaterial plus what to tell the user if none of it fits the message. */
export interface LoadedMaterial extends DecryptionMaterial {
  /** Hints for a `no_matching_recipient` failure, e.g. a key without its certificate. */
  readonly hints: readonly string[];
}

/** True when no key option at all was given. */
export function noKeyGiven(m: DecryptionMaterial): boolean {
  return m.keys.length === 0 && !m.keks?.length && !m.passwords?.length && !m.contentKey;
}

/**
 * Runs a decryption and, when no recipient matched, adds what the key options themselves explain
 * (the core matches recipients by certificate, so a key without one never matches).
 */
export async function withKeyHints<T>(m: LoadedMaterial, f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (e) {
    if (e instanceof UnsealError && e.kind === 'no_matching_recipient' && m.hints.length > 0) {
      throw new UnsealError(e.kind, `${e.message}; ${m.hints.join('; ')}`, { cause: e });
    }
    throw e;
  }
}

/** Loads everything the key options name into the core's DecryptionMaterial. */
export async function loadMaterial(p: ParsedArgs): Promise<LoadedMaterial> {
  const passFile = one(p, 'pass-file');
  const password = passFile !== undefined ? await readPasswordFile(passFile) : undefined;
  const extraCerts: CertInfo[] = [];
  for (const c of many(p, 'cert')) {
    const bytes = await readKeyFile(c);
    try {
      extraCerts.push(...(await loadCertificates(bytes)));
    } catch (e) {
      if (e instanceof UnsealError) throw new UnsealError(e.kind, `${c}: ${e.message}`);
      throw e;
    }
  }
  const keys: KeyRecord[] = [];
  const hints: string[] = [];
  for (const k of many(p, 'key')) {
    const bytes = await readKeyFile(k);
    let bundle;
    try {
      bundle = await loadKeyFile(subtle, bytes, { ...(password !== undefined ? { password } : {}), extraCerts });
    } catch (e) {
      if (e instanceof UnsealError) throw new UnsealError(e.kind, `${k}: ${e.message}`);
      throw e;
    }
    if (bundle.keys.length === 0) throw new UnsealError('no_private_key', `${k} holds no private key (only certificates?)`);
    // Keys are paired with certificates by public key; recipients are matched by certificate.
    if (bundle.keys.some((r) => !r.certificate)) {
      hints.push(
        extraCerts.length > 0
          ? `the certificate given with --cert (${many(p, 'cert').join(', ')}) does not belong to the key in ${k} (their public keys differ)`
          : `the key file ${k} has no certificate: add --cert with the certificate of this key`,
      );
    }
    keys.push(...bundle.keys);
  }
  const passwords: Uint8Array[] = [];
  for (const f of many(p, 'recipient-password-file')) passwords.push(utf8.encode(await readPasswordFile(f)));
  const keks = many(p, 'kek').map(parseKek);
  const ck = one(p, 'content-key');
  let contentKey: Uint8Array | undefined;
  if (ck !== undefined) {
    try {
      contentKey = hexDecode(ck);
    } catch {
      throw new UnsealError('usage', '--content-key wants hex');
    }
    if (contentKey.length === 0) throw new UnsealError('usage', '--content-key is empty');
  }
  return { keys, keks, passwords, ...(contentKey ? { contentKey } : {}), hints };
}

export async function loadTrust(files: string[]): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  for (const f of files) {
    let bytes: Uint8Array;
    try {
      bytes = new Uint8Array(await readFile(f));
    } catch (e) {
      throw new UnsealError('io', ioMessage(`cannot read trust file ${f}`, e));
    }
    out.push(...(await loadCertificates(bytes)).map((c) => c.der));
  }
  return out;
}
