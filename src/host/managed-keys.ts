/**
 * Keys managed by the organisation (draft-kadobayashi-smime-secureops §3.1): a directory of
 * PKCS#12 files whose passwords sit in a JSON file only the host's user can read. The host
 * serves their public parts (`keys.list`) and recovers content-encryption keys for recipients
 * addressed to them (`keys.unwrap`); the private keys never leave this process.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { webcrypto } from 'node:crypto';
import { base64Decode, base64Encode } from '../core/bytes.js';
import { unwrapRecipientWithKey } from '../core/cms/remote-unwrap.js';
import { isUnsealError, UnsealError } from '../core/errors.js';
import { loadKeyFile } from '../core/keys/load.js';
import type { KeyRecord } from '../core/keys/types.js';
import { MANAGED_CERT_MAX_B64, MANAGED_KEYS_MAX, type ManagedKeyInfo, type UnwrapFailureKind } from '../protocol/native.js';

export interface ManagedKeysConfig {
  /** Directory of .p12 / .pfx files. */
  readonly dir: string;
  /** JSON object `{ "<file name>": "<password>" }`; mode 0600, owned by the host's user. */
  readonly passwords: string;
}

export interface ManagedKeyList {
  readonly keys: readonly ManagedKeyInfo[];
  readonly problems: readonly string[];
}

export type UnwrapOutcome = { ok: true; cek: Uint8Array } | { ok: false; kind: UnwrapFailureKind; message: string };

const KEY_FILE = /\.(p12|pfx)$/i;
const MAX_FILE_BYTES = 1024 * 1024;

/**
 * Why the passwords file or the directory must not be used, or undefined when they are fine.
 * POSIX only: on Windows the ACLs are the admin's business (documented), so nothing is checked.
 */
export function permissionProblem(cfg: ManagedKeysConfig, platform: NodeJS.Platform = process.platform, uid: number | undefined = process.getuid?.()): string | undefined {
  if (platform === 'win32') return undefined;
  let st;
  try {
    st = statSync(cfg.passwords);
  } catch (e) {
    return `managed-key passwords file ${cfg.passwords} is not readable: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`;
  }
  if (!st.isFile()) return `managed-key passwords file ${cfg.passwords} is not a regular file`;
  if ((st.mode & 0o077) !== 0) {
    return `managed-key passwords file ${cfg.passwords} has mode ${(st.mode & 0o777).toString(8)}: others can read or change it; run \`chmod 600 ${cfg.passwords}\``;
  }
  if (uid !== undefined && st.uid !== uid) return `managed-key passwords file ${cfg.passwords} belongs to uid ${st.uid}, not to the host's user (uid ${uid})`;
  let dst;
  try {
    dst = statSync(cfg.dir);
  } catch (e) {
    return `managed-key directory ${cfg.dir} is not readable: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`;
  }
  if (!dst.isDirectory()) return `managed-key directory ${cfg.dir} is not a directory`;
  // Whoever can add files there could slip in a key shown as "managed by your organisation".
  if ((dst.mode & 0o022) !== 0) return `managed-key directory ${cfg.dir} has mode ${(dst.mode & 0o777).toString(8)}: others can add files; run \`chmod go-w ${cfg.dir}\``;
  return undefined;
}

function readPasswords(path: string): Map<string, string> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new UnsealError('usage', `managed-key passwords file ${path} is not valid JSON (expected {"file.p12": "password", …}): ${(e as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new UnsealError('usage', `managed-key passwords file ${path} must be a JSON object {"file.p12": "password", …}`);
  const out = new Map<string, string>();
  for (const [k, v] of Object.entries(parsed)) {
    if (typeof v !== 'string') throw new UnsealError('usage', `managed-key passwords file ${path}: the value for ${JSON.stringify(k)} must be a string`);
    out.set(k, v);
  }
  return out;
}

interface Loaded {
  readonly byId: Map<string, KeyRecord>;
  readonly list: ManagedKeyList;
}

/** Loads once per host process (Thunderbird starts one per connection, so a change applies to the next one). */
export class ManagedKeyStore {
  private loaded: Promise<Loaded> | undefined;

  constructor(
    private readonly cfg: ManagedKeysConfig,
    private readonly log: (line: string) => void = () => undefined,
    private readonly crypto: SubtleCrypto = webcrypto.subtle as SubtleCrypto,
  ) {}

  list(): Promise<ManagedKeyList> {
    return this.load().then((l) => l.list);
  }

  /** The CEK of one recipient, or why not; never throws for what the request or the keys contain. */
  async unwrap(req: { keyId: string; recipientInfo: string; rekIndex?: number; cekLengths?: readonly number[] }): Promise<UnwrapOutcome> {
    const { byId } = await this.load();
    const key = byId.get(req.keyId);
    if (!key) return { ok: false, kind: 'no_matching_recipient', message: `this host holds no managed key ${req.keyId.slice(0, 16)}…` };
    try {
      const cek = await unwrapRecipientWithKey(this.crypto, key, {
        recipientInfo: base64Decode(req.recipientInfo),
        ...(req.rekIndex !== undefined ? { rekIndex: req.rekIndex } : {}),
        ...(req.cekLengths !== undefined ? { cekLengths: req.cekLengths } : {}),
      });
      return { ok: true, cek };
    } catch (e) {
      const kind = isUnsealError(e) && (['no_matching_recipient', 'unsupported_algorithm', 'malformed_cms'] as const).includes(e.kind as 'malformed_cms') ? (e.kind as UnwrapFailureKind) : 'decryption_failed';
      return { ok: false, kind, message: e instanceof Error ? e.message : String(e) };
    }
  }

  private load(): Promise<Loaded> {
    return (this.loaded ??= loadManagedKeys(this.cfg, this.crypto).then((l) => {
      this.log(`managed keys: ${l.list.keys.length} from ${this.cfg.dir}${l.list.problems.length ? `; problems: ${l.list.problems.join('; ')}` : ''}`);
      return l;
    }));
  }
}

async function loadManagedKeys(cfg: ManagedKeysConfig, crypto: SubtleCrypto): Promise<Loaded> {
  const byId = new Map<string, KeyRecord>();
  const keys: ManagedKeyInfo[] = [];
  const problems: string[] = [];
  const refused = permissionProblem(cfg);
  if (refused) return { byId, list: { keys, problems: [`no managed keys served: ${refused}`] } };
  let passwords: Map<string, string>;
  let files: string[];
  try {
    passwords = readPasswords(cfg.passwords);
    files = readdirSync(cfg.dir).filter((n) => KEY_FILE.test(n)).sort();
  } catch (e) {
    return { byId, list: { keys, problems: [`no managed keys served: ${(e as Error).message}`] } };
  }
  for (const name of files) {
    const path = join(cfg.dir, name);
    try {
      const st = statSync(path);
      if (!st.isFile() || st.size > MAX_FILE_BYTES) throw new UnsealError('key_unreadable', 'not a regular file of at most 1 MiB');
      const pw = passwords.get(name);
      const bundle = await loadKeyFile(crypto, new Uint8Array(readFileSync(path)), pw === undefined ? {} : { password: pw });
      for (const k of bundle.keys) {
        if (!k.certificate) {
          problems.push(`${name}: a key without its certificate cannot be matched to recipients; skipped`);
          continue;
        }
        if (byId.has(k.id)) continue;
        const certificate = base64Encode(k.certificate.der);
        if (certificate.length > MANAGED_CERT_MAX_B64) {
          problems.push(`${name}: the certificate is larger than ${MANAGED_CERT_MAX_B64} base64 characters; skipped`);
          continue;
        }
        if (keys.length >= MANAGED_KEYS_MAX) {
          problems.push(`more than ${MANAGED_KEYS_MAX} managed keys: ${name} and later files skipped`);
          return { byId, list: { keys, problems } };
        }
        byId.set(k.id, k);
        keys.push({ id: k.id, label: (k.friendlyName?.trim() || basename(name).replace(KEY_FILE, '')).slice(0, 256), certificate });
      }
    } catch (e) {
      const why = isUnsealError(e) && e.kind === 'wrong_password' ? (passwords.has(name) ? 'wrong password in the passwords file' : 'no password for it in the passwords file') : (e as Error).message;
      problems.push(`${name}: ${why}`);
    }
  }
  if (problems.length > 100) problems.splice(99, problems.length - 99, `${problems.length - 99} more problems`);
  return { byId, list: { keys, problems: problems.map((p) => p.slice(0, 1024)) } };
}
