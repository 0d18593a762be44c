import { hexEncode } from '../bytes.js';
import { bytesEqual } from '../bytes.js';
import { UnsealError } from '../errors.js';
import type { CertInfo, KeyRecord } from '../keys/types.js';
import { decryptContent, resolveContentCipher, type ContentCipher } from './content-decrypt.js';
import { parseEnvelope, type Envelope, type RecipientId, type RecipientInfo } from './enveloped-parse.js';
import { formatName } from './name-format.js';
import { certMatches, keyMatches, normalizeSerial } from './recipient-match.js';
import { describeKariAlgorithm, describeKtriAlgorithm, unwrapKari, unwrapKekri, unwrapKtri, unwrapPwri } from './recipient-unwrap.js';
import { oidName } from './oids.js';

/** What the caller can offer to open an envelope. */
export interface DecryptionMaterial {
  readonly keys: readonly KeyRecord[];
  readonly keks?: readonly { readonly kek: Uint8Array; readonly kekId: Uint8Array }[];
  readonly passwords?: readonly Uint8Array[];
  /** For EncryptedData (RFC 5652 §8), which has no recipients. */
  readonly contentKey?: Uint8Array;
  /**
   * Keys whose private half lives elsewhere (the organisation's keys, held by the native host).
   * Recipients are still matched here by identity against their certificates, and the content is
   * still decrypted here; only the key-transport / key-agreement step of a matched recipient is
   * delegated. Tried after every key in `keys`.
   */
  readonly remote?: RemoteKeySource;
}

/** A key known only by its certificate; `id` names it to its holder (KeyRecord.id rules). */
export interface RemoteKey {
  readonly id: string;
  readonly certificate: CertInfo;
}

/** One matched recipient for the holder of a remote key: everything it needs, nothing more. */
export interface RemoteUnwrapRequest {
  readonly keyId: string;
  /** The RecipientInfo as encoded in the message (KTRI, or KARI with all its RecipientEncryptedKeys). */
  readonly recipientInfo: Uint8Array;
  /** KARI: which RecipientEncryptedKey answers to the key. */
  readonly rekIndex?: number;
  /** KTRI: the CEK lengths the content cipher takes, so RSAES-PKCS1-v1_5 implicit rejection yields one of them. */
  readonly cekLengths?: readonly number[];
}

export interface RemoteKeySource {
  readonly keys: readonly RemoteKey[];
  /** Resolves with the content-encryption key; rejects with an UnsealError of the same kinds a local unwrap throws. */
  unwrap(req: RemoteUnwrapRequest): Promise<Uint8Array>;
}

export interface RecipientReport {
  readonly index: number;
  readonly type: RecipientInfo['type'];
  /** Human identifier: "issuer=…, serial=…", "ski=…", "kekid=…", "password". */
  readonly id: string;
  readonly algorithm: string;
}

export interface DecryptedEnvelope {
  readonly kind: Envelope['kind'];
  readonly content: Uint8Array;
  /** eContentType OID of the decrypted content (normally id-data). */
  readonly contentType: string;
  readonly contentAlgorithm: string;
  readonly encoding: 'DER' | 'BER';
  readonly recipients: readonly RecipientReport[];
  /** The recipient that opened it and the stored key used (its id), for reports and the audit log. */
  readonly usedRecipient?: RecipientReport;
  readonly usedKeyId?: string;
  /** The key that opened it is a remote (organisation-managed) one. */
  readonly usedRemoteKey?: boolean;
}

/**
 * The documented bound on one CMS object. Decryption holds the input, the ciphertext (a view for
 * DER, one copy for chunked BER) and the plaintext; measured peaks are in docs/benchmarks.md.
 */
export const MAX_CMS_BYTES = 512 * 1024 * 1024;

export function describeRid(rid: RecipientId): string {
  if (rid.type === 'issuerSerial') return `issuer=${formatName(rid.issuer)}; serial=${hexEncode(normalizeSerial(rid.serial))}`;
  return `ski=${hexEncode(rid.ski)}`;
}

export function describeRecipients(env: Envelope): RecipientReport[] {
  const out: RecipientReport[] = [];
  for (const r of env.recipients) {
    switch (r.type) {
      case 'ktri':
        out.push({ index: r.index, type: r.type, id: describeRid(r.rid), algorithm: safe(() => describeKtriAlgorithm(r.keyEncryptionAlgorithm)) });
        break;
      case 'kari':
        for (const k of r.recipientEncryptedKeys) {
          out.push({ index: r.index, type: r.type, id: describeRid(k.rid), algorithm: safe(() => describeKariAlgorithm(r.keyEncryptionAlgorithm)) });
        }
        break;
      case 'kekri':
        out.push({ index: r.index, type: r.type, id: `kekid=${hexEncode(r.kekId)}`, algorithm: oidName(r.keyEncryptionAlgorithm.oid) });
        break;
      case 'pwri':
        out.push({ index: r.index, type: r.type, id: 'password', algorithm: `${r.keyDerivationAlgorithm ? oidName(r.keyDerivationAlgorithm.oid) : '?'} + PWRI-KEK` });
        break;
      case 'ori':
        out.push({ index: r.index, type: r.type, id: `ori=${r.oriType}`, algorithm: r.oriType });
        break;
    }
  }
  return out;
}

function safe(f: () => string): string {
  try {
    return f();
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
}

type Attempt = { report: RecipientReport; keyId?: string; remote?: true; unwrap: () => Promise<Uint8Array> };

function candidates(crypto: SubtleCrypto, env: Envelope, m: DecryptionMaterial, cipher: ContentCipher, reports: RecipientReport[]): Attempt[] {
  const out: Attempt[] = [];
  // The user's own keys first (no round trip to the host), the organisation's after them.
  const remoteOut: Attempt[] = [];
  const remote = m.remote;
  let ri = 0;
  const cekLengths = cipher.keyLengths;
  for (const r of env.recipients) {
    if (r.type === 'kari') {
      r.recipientEncryptedKeys.forEach((rek, rekIndex) => {
        const report = reports[ri++]!;
        for (const k of m.keys) {
          if (k.privateKey.type === 'rsa' || !keyMatches(k, rek.rid)) continue;
          out.push({ report, keyId: k.id, unwrap: () => unwrapKari(crypto, r, rek.encryptedKey, k.privateKey) });
        }
        for (const k of remote?.keys ?? []) {
          if (k.certificate.publicKeyAlgorithm === 'rsa' || !certMatches(k.certificate, rek.rid)) continue;
          remoteOut.push({ report, keyId: k.id, remote: true, unwrap: () => remote!.unwrap({ keyId: k.id, recipientInfo: r.der, rekIndex }) });
        }
      });
      continue;
    }
    const report = reports[ri++]!;
    if (r.type === 'ktri') {
      for (const k of m.keys) {
        if (k.privateKey.type !== 'rsa' || !keyMatches(k, r.rid)) continue;
        out.push({ report, keyId: k.id, unwrap: async () => unwrapKtri(r, k.privateKey, cekLengths) });
      }
      for (const k of remote?.keys ?? []) {
        if (k.certificate.publicKeyAlgorithm !== 'rsa' || !certMatches(k.certificate, r.rid)) continue;
        remoteOut.push({ report, keyId: k.id, remote: true, unwrap: () => remote!.unwrap({ keyId: k.id, recipientInfo: r.der, ...(cekLengths ? { cekLengths } : {}) }) });
      }
    } else if (r.type === 'kekri') {
      for (const x of m.keks ?? []) {
        if (bytesEqual(x.kekId, r.kekId)) out.push({ report, unwrap: () => unwrapKekri(crypto, r, x.kek) });
      }
    } else if (r.type === 'pwri') {
      for (const pw of m.passwords ?? []) out.push({ report, unwrap: () => unwrapPwri(crypto, r, pw) });
    }
  }
  return [...out, ...remoteOut];
}

/**
 * Opens an EnvelopedData / AuthEnvelopedData / EncryptedData. Recipients are chosen by identity
 * (issuer+serial, SKI, KEK id) — never by "decryption produced something" — in message order,
 * and every stored key (current and retired) is a candidate. All or nothing: the plaintext is
 * returned only after padding and tag checks passed.
 */
export async function decryptEnvelope(
  crypto: SubtleCrypto,
  der: Uint8Array,
  material: DecryptionMaterial,
  opts: { maxBytes?: number } = {},
): Promise<DecryptedEnvelope> {
  const max = opts.maxBytes ?? MAX_CMS_BYTES;
  if (der.length > max) throw new UnsealError('too_large', `the encrypted object is ${der.length} bytes; the limit is ${max} bytes`);
  const env = parseEnvelope(der);
  const cipher = resolveContentCipher(env.contentEncryptionAlgorithm, env.kind === 'authEnveloped');
  const reports = describeRecipients(env);
  const base = {
    kind: env.kind,
    contentType: env.contentType,
    contentAlgorithm: cipher.name,
    encoding: env.ber ? ('BER' as const) : ('DER' as const),
    recipients: reports,
  };
  const ciphertext = env.encryptedContent;
  if (!ciphertext) throw new UnsealError('malformed_cms', 'the encrypted content is detached (not in the message)');
  const auth = env.kind === 'authEnveloped' ? { mac: env.mac!, ...(env.authAttrsAad ? { aad: env.authAttrsAad } : {}) } : undefined;

  if (env.kind === 'encrypted') {
    if (!material.contentKey) throw new UnsealError('no_matching_recipient', 'this is EncryptedData (no recipients): it needs the content-encryption key (--content-key)');
    // A key of the wrong length is a mistake the user can fix, not a decryption failure (RC2 keys
    // may have any length, so they are left to the cipher).
    const lengths = cipher.mode === 'cbc' && cipher.rc2EffectiveBits !== undefined ? undefined : cipher.keyLengths;
    if (lengths && !lengths.includes(material.contentKey.length)) {
      throw new UnsealError(
        'usage',
        `the content-encryption key (--content-key) has ${material.contentKey.length} bytes; this message's ${cipher.name} needs ${lengths.map((n) => `${n} bytes (${n * 2} hex digits)`).join(' or ')}`,
      );
    }
    const content = await decryptContent(crypto, cipher, material.contentKey, ciphertext);
    return { ...base, content };
  }

  const attempts = candidates(crypto, env, material, cipher, reports);
  if (attempts.length === 0) {
    const list = reports.map((r) => `${r.type} ${r.id}`).join('; ');
    const have = material.keys.length + (material.remote?.keys.length ?? 0);
    let msg = `none of the ${have} loaded key${have === 1 ? '' : 's'} is a recipient of this message; it is encrypted for: ${list || '(no recipients)'}`;
    const keks = material.keks ?? [];
    if (keks.length > 0) {
      const wanted = env.recipients.flatMap((r) => (r.type === 'kekri' ? [hexEncode(r.kekId)] : []));
      msg +=
        wanted.length > 0
          ? `; the KEK id${keks.length === 1 ? '' : 's'} given (${keks.map((k) => hexEncode(k.kekId)).join(', ')}) ${keks.length === 1 ? 'is' : 'are'} not the one it wants: KEK id ${wanted.join(' or ')}`
          : `; it has no KEK recipient, so a KEK cannot open it`;
    }
    throw new UnsealError('no_matching_recipient', msg);
  }
  let last: unknown;
  for (const a of attempts) {
    let cek: Uint8Array;
    try {
      cek = await a.unwrap();
    } catch (e) {
      if (e instanceof UnsealError && (e.kind === 'unsupported_algorithm' || e.kind === 'usage' || e.kind === 'malformed_cms')) throw e;
      last = e;
      continue;
    }
    try {
      const content = await decryptContent(crypto, cipher, cek, ciphertext, auth);
      return { ...base, content, usedRecipient: a.report, ...(a.keyId ? { usedKeyId: a.keyId } : {}), ...(a.remote ? { usedRemoteKey: true } : {}) };
    } catch (e) {
      if (e instanceof UnsealError && e.kind === 'malformed_cms') throw e;
      last = e;
    }
  }
  if (last instanceof UnsealError && last.kind === 'decryption_failed') throw last;
  throw new UnsealError('decryption_failed', 'could not decrypt the message content (wrong key, or the message was altered)', { cause: last });
}
