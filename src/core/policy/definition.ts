/**
 * Unseal's settings: the one definition from which the types, the validator and the published
 * JSON Schema (`docs/policy.schema.json`) come. Admins set them in Thunderbird's enterprise
 * policies under `3rdparty.Extensions["unseal@unseal.example"]` (the add-on reads them as
 * `storage.managed`); users may change the ones marked `userSettable` unless an admin set them.
 * Every default is the safe choice.
 */
import { boolean, enumItem, integer, list, object, oneOf, string, stringItem, type Infer, type LeafPath, type PartialSettings } from './schema.js';

/** Bumped when a setting changes meaning or is removed (adding one keeps the version). */
export const POLICY_SCHEMA_VERSION = 1;
export const ADDON_ID = 'unseal@unseal.example';

/** Content-encryption algorithms a policy can name (what `layers[].algorithm` maps to, see algorithmToken). */
export const POLICY_ALGORITHMS = ['RC2-40', 'RC2-64', 'RC2-128', 'DES', '3DES', 'AES-128-CBC', 'AES-192-CBC', 'AES-256-CBC', 'AES-128-GCM', 'AES-192-GCM', 'AES-256-GCM', 'ChaCha20-Poly1305'] as const;
export type PolicyAlgorithm = (typeof POLICY_ALGORITHMS)[number];

/** Folder names Thunderbird accepts for a local folder (no path separators or control characters). */
const FOLDER_NAME = { minLength: 1, maxLength: 100, pattern: '^[^/\\\\\\u0000-\\u001f]+$' };

export const POLICY_SCHEMA = object('Unseal settings (Thunderbird add-on unseal@unseal.example). Unknown keys are errors.', {
  scanner: object('The anti-virus scan of every decrypted message before it is shown.', {
    required: boolean(true, {
      description: 'true: a message that could not be scanned (scanner down, timeout, too large) is not shown (fail closed). false: warn mode — it is shown with a warning banner that it was NOT scanned.',
      userSettable: true,
    }),
  }),
  scan: object('Scan limits.', {
    timeLimitSeconds: integer(180, { min: 5, max: 3600 }, { description: 'Longest a scan may take before the message counts as not scanned (reason timeout).', userSettable: true }),
  }),
  message: object('Message limits.', {
    maxSizeMB: integer(100, { min: 1, max: 2048 }, { description: 'Decrypted messages larger than this are not scanned (reason too_large) and therefore never shown as clean.', userSettable: true }),
  }),
  onInfected: object('What happens to a message the scanner finds infected. It is always blocked (never shown).', {
    action: oneOf(['block', 'quarantine', 'tag'], 'block', {
      description: 'block: only blocked. quarantine: blocked and moved to quarantineFolder (created in Local Folders if missing). tag: blocked and tagged with tag.',
      userSettable: true,
    }),
    quarantineFolder: string('Unseal Quarantine', FOLDER_NAME, { description: 'Folder name under Local Folders for action "quarantine" (created if missing).', userSettable: true }),
    tag: string('Infected (Unseal)', { minLength: 1, maxLength: 60 }, { description: 'Tag name for action "tag" (created if missing).', userSettable: true }),
  }),
  algorithms: object('Content-encryption algorithms of the message (outermost and inner encryption layers).', {
    forbidden: list(enumItem(POLICY_ALGORITHMS), [], { maxItems: POLICY_ALGORITHMS.length }, {
      description: 'Messages encrypted with one of these are refused ("blocked by policy"): not decrypted further, not shown.',
    }),
    warn: list(enumItem(POLICY_ALGORITHMS), ['RC2-40', 'RC2-64', 'DES'], { maxItems: POLICY_ALGORITHMS.length }, {
      description: 'Messages encrypted with one of these are shown with a warning that the encryption is weak.',
      userSettable: true,
    }),
  }),
  signatures: object('Signature verification.', {
    sha1: oneOf(['accept', 'warn', 'reject'], 'warn', {
      description: 'Signatures made with SHA-1 (or MD5): accept silently, warn (shown as weak), or reject (shown as invalid).',
      userSettable: true,
    }),
    trustAnchors: list(stringItem({ minLength: 1, maxLength: 20_000, pattern: '-----BEGIN CERTIFICATE-----' }), [], { maxItems: 100 }, {
      description: 'Additional trusted root certificates (PEM, one certificate per string) for verifying signers, besides the CA certificates that came with the user\'s own keys.',
    }),
  }),
  keys: object('The user\'s private keys in Unseal\'s key store.', {
    importAllowed: boolean(true, { description: 'Users may import private keys (PKCS#12, PEM, DER).' }),
    exportAllowed: boolean(true, { description: 'Users may export a stored private key (as password-protected PKCS#12).' }),
    passphraseRequired: boolean(false, { description: 'The key store is locked with a passphrase the user enters once per session.' }),
    idleLockMinutes: integer(0, { min: 0, max: 10_080 }, { description: 'Lock the key store after this many idle minutes (0 = never; only with a passphrase).', userSettable: true }),
    retainRetiredKeys: boolean(true, {
      description: 'true: expired encryption keys ("retired") still decrypt mail addressed to them, so old mail stays readable. false: they are not used to decrypt (the user\'s own and the organisation\'s); the keys page marks them "not used (policy)" and users may delete their own.',
    }),
    managedSource: oneOf(['none', 'host'], 'none', {
      description: 'none: only the user\'s own keys. host: also the organisation\'s keys that the native host serves (host-config.json managedKeys); they decrypt like the user\'s own, are shown as "managed by your organisation", and cannot be exported or deleted by the user.',
    }),
  }),
  audit: object('The audit log of decryptions and verdicts (never message content).', {
    enabled: boolean(true, { description: 'Write audit events through the native host.' }),
    destination: oneOf(['file', 'syslog'], 'file', { description: 'file: JSON lines in path (the host\'s default when empty). syslog: the system log.' }),
    path: string('', { maxLength: 1024 }, { description: 'Audit file for destination "file"; empty = the host\'s default (~/.local/state/unseal/audit.jsonl).' }),
  }),
  decryptedCopies: object('Whether a decrypted, scanned copy of a message may be saved.', {
    mode: oneOf(['never', 'folder'], 'never', { description: 'never: no decrypted copies. folder: the user may save a decrypted copy of a clean message into folder.', userSettable: true }),
    folder: string('Unseal Decrypted', FOLDER_NAME, { description: 'Folder name for mode "folder" (created in Local Folders if missing).', userSettable: true }),
  }),
  rescan: object('Re-scanning stored encrypted mail (new signatures may find what an old scan missed).', {
    everyHours: integer(0, { min: 0, max: 8760 }, { description: 'Every this many hours, re-scan the folders that were re-scanned by hand before ("Re-scan encrypted mail" on a folder); 0 = off.', userSettable: true }),
  }),
});

export type PolicySchema = typeof POLICY_SCHEMA;
/** The settings as values (every one present). */
export type PolicySettings = Infer<PolicySchema>;
/** A policy or user-settings document: any subset of the settings. */
export type PolicyDocument = PartialSettings<PolicySchema>;
/** `"onInfected.action"`, … */
export type SettingPath = LeafPath<PolicySchema>;

/** `layers[].algorithm` names ("RC2-40-CBC", "3DES-CBC", …) to policy tokens; undefined when not a known one. */
export function algorithmToken(name: string): PolicyAlgorithm | undefined {
  const n = name.toUpperCase();
  const rc2 = /^RC2-(\d+)(-CBC)?$/.exec(n);
  if (rc2) return rc2[1] === '40' ? 'RC2-40' : rc2[1] === '64' ? 'RC2-64' : 'RC2-128';
  if (n === 'DES-CBC' || n === 'DES') return 'DES';
  if (n === '3DES-CBC' || n === '3DES' || n === 'DES-EDE3-CBC') return '3DES';
  if (n === 'CHACHA20-POLY1305') return 'ChaCha20-Poly1305';
  return (POLICY_ALGORITHMS as readonly string[]).find((a) => a.toUpperCase() === n) as PolicyAlgorithm | undefined;
}
