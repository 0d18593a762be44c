/**
 * Composition root of the background (MV3 event page). Every listener is registered synchronously
 * at the top level, before any await: Thunderbird only wakes the page for events it saw listeners
 * for, and does not start it on a relaunch without `runtime.onStartup`.
 *
 * The gate's first answer (`held` for S/MIME) comes from classify; the display script then opens a
 * render port and the pipeline (pipeline.ts) decrypts with the key store, scans through the native
 * host and answers with a render model. Decrypted results live in memory only (opened-cache.ts).
 */
import { GuardError } from '../protocol/validate.js';
import { parseDisplayRequest, type GateDecision, type DisplayRequest } from '../protocol/display.js';
import { markBackgroundStarted, recordCondition, recordDisplayReport, recordNotification } from '../platform/diagnostics.js';
import { onMessagesDisplayed, onRuntimeMessage, onSelectionChanged, onStartup, type MessageSenderInfo } from '../platform/events.js';
import { displayedMessages, messageHeader, rawMessage, rawMessageDecryptedByThunderbird, type DisplayedMessage } from '../platform/messages.js';
import { openKeyStore, type KeyStore } from '../platform/key-store.js';
import { loadEffectivePolicy } from '../platform/policy.js';
import { isKeyRequest } from '../protocol/keys.js';
import { KeyService } from './key-service.js';
import { ManagedKeys } from './managed-keys.js';
import { NativeHostClient, connectUnsealHost } from '../platform/native-host.js';
import { onRenderConnect } from '../platform/render-port.js';
import { firstTimeThisSession, notifyWithViewer, onActionClicked, onViewerNotificationClicked, openInDefaultBrowser, openKeysPage, openViewer, registerViewerMenu, uiText } from '../platform/ui.js';
import { webext } from '../platform/webext.js';
import { OpenedCache } from './opened-cache.js';
import { registerRescan } from './rescan-wiring.js';
import { isRescanRequest } from '../protocol/rescan.js';
import { openForDisplay, type MessageRef, type PipelineDeps } from './pipeline.js';
import { serveRenderPort } from './render-session.js';
import { classifyRaw, type Classification } from './classify.js';
import { PrefWatch } from './pref-watch.js';
import { InfectedActions, decryptedCopy } from './policy-actions.js';
import { ensureLocalFolder, importMessage, moveMessage, tagMessage } from '../platform/mail-actions.js';
import { loadEffectivePolicy as effectivePolicyNow, onUserSettingsChanged } from '../platform/policy.js';
import { auditUnderPolicy } from './policy-gates.js';
import { isPolicyStatusRequest, type HostStatus, type PolicyStatus } from '../protocol/policy-status.js';

const startedAt = Date.now();

/** Classifications by message id; the raw original does not change for a given id. */
const cache = new Map<number, Promise<Classification>>();
const CACHE_MAX = 200;

/**
 * The raw original of the message being shown, kept for a moment so classify and the pipeline read
 * it once (getRaw of a 14 MB message costs about a second in Thunderbird). Ciphertext only.
 */
let recentRaw: { id: number; bytes: Promise<Uint8Array>; at: number } | undefined;
function rawOnce(messageId: number): Promise<Uint8Array> {
  if (recentRaw && recentRaw.id === messageId && Date.now() - recentRaw.at < 60_000) return recentRaw.bytes;
  const bytes = rawMessage(messageId);
  recentRaw = { id: messageId, bytes, at: Date.now() };
  bytes.catch(() => {
    if (recentRaw?.bytes === bytes) recentRaw = undefined;
  });
  return bytes;
}

function classifyMessage(messageId: number): Promise<Classification> {
  let c = cache.get(messageId);
  if (!c) {
    c = rawOnce(messageId).then(classifyRaw);
    c.catch(() => cache.delete(messageId));
    cache.set(messageId, c);
    if (cache.size > CACHE_MAX) cache.delete(cache.keys().next().value!);
  }
  return c;
}

async function displayedIn(tabId: number | undefined): Promise<DisplayedMessage | undefined> {
  if (tabId === undefined) return undefined;
  const list = await displayedMessages(tabId);
  return list.length === 1 ? list[0] : undefined;
}

async function decide(sender: MessageSenderInfo): Promise<GateDecision> {
  let message: DisplayedMessage | undefined;
  try {
    message = await displayedIn(sender.tabId);
  } catch {
    return { state: 'held', reason: 'no-displayed-message' };
  }
  if (!message) return { state: 'held', reason: 'no-displayed-message' };
  prefWatch.displayed(message.id);
  let c: Classification;
  try {
    c = await classifyMessage(message.id);
  } catch {
    return { state: 'held', reason: 'raw-unavailable', messageId: message.id };
  }
  if (c.state === 'plain') return { state: 'plain', messageId: message.id };
  // Held until the render port's pipeline answers.
  return { state: 'held', reason: c.reason, messageId: message.id };
}

async function route(raw: unknown, sender: MessageSenderInfo): Promise<unknown> {
  if (isRescanRequest(raw)) return rescanWiring.handle(raw, sender.fromExtensionPage);
  if (isPolicyStatusRequest(raw)) return sender.fromExtensionPage ? policyStatus(raw.health === true) : { error: 'PROTOCOL', message: 'not from an add-on page' };
  let msg: DisplayRequest;
  try {
    msg = parseDisplayRequest(raw);
  } catch (e) {
    if (e instanceof GuardError) return { error: 'PROTOCOL', message: e.message };
    throw e;
  }
  switch (msg.type) {
    case 'display.classify':
      return decide(sender);
    case 'display.report': {
      const message = await (msg.forMessageId !== undefined ? messageHeader(msg.forMessageId) : displayedIn(sender.tabId)).catch(() => undefined);
      const { type: _type, ...body } = msg;
      await recordDisplayReport({
        ...body,
        ...(sender.tabId !== undefined ? { tabId: sender.tabId } : {}),
        ...(message ? { messageId: message.id, headerMessageId: message.headerMessageId, subject: message.subject } : {}),
      });
      if (message) prefWatch.displayed(message.id);
      return { ok: true };
    }
    case 'display.openLink':
      // Only from a display script's deliberate click; the guard allowed http(s)/mailto only.
      await openInDefaultBrowser(msg.url);
      return { ok: true };
    case 'display.openKeys':
      await openKeysPage();
      return { ok: true };
    case 'display.saveCopy':
      return saveCopy(msg.forMessageId !== undefined && sender.fromExtensionPage ? msg.forMessageId : (await displayedIn(sender.tabId).catch(() => undefined))?.id);
  }
}

const prefWatch = new PrefWatch({
  setTimer: (fn, ms) => setTimeout(fn, ms),
  clearTimer: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
  isSmime: async (id) => (await classifyMessage(id)).state === 'held',
  onSuspected: (m) => {
    void recordCondition({
      code: 'P7M_EXTERNAL_OFF_SUSPECTED',
      messageId: m.id,
      headerMessageId: m.headerMessageId,
      detail: 'An S/MIME message was selected but no message display script ran: mailnews.p7m_external is probably false, so Thunderbird shows its own decryption error instead of letting Unseal gate the message.',
    }).catch(() => undefined);
    void notifyPrefOff(m.id).catch((e: unknown) => console.warn(`unseal: pref-off notification failed: ${e instanceof Error ? e.message : String(e)}`));
  },
});

/**
 * Tells the user (once per Thunderbird session) that the pane cannot be used, how an admin or the
 * user fixes it, and that a click opens this message in the Unseal viewer now.
 */
async function notifyPrefOff(messageId: number): Promise<void> {
  if (!(await firstTimeThisSession('P7M_EXTERNAL_OFF_SUSPECTED'))) return;
  const notificationId = await notifyWithViewer(messageId, uiText('notify_p7m_off_title'), uiText('notify_p7m_off_message'));
  await recordNotification({ notificationId, code: 'P7M_EXTERNAL_OFF_SUSPECTED', messageId });
}

// ---- the decrypt → scan → render pipeline ----
const ADDON_VERSION = webext.runtime.getManifest().version;
const host = new NativeHostClient({ connect: connectUnsealHost, clientVersion: ADDON_VERSION });
let keyStore: Promise<KeyStore> | undefined;
const store = (): Promise<KeyStore> => {
  // A failed open (e.g. storage briefly unavailable) must not stick for the session.
  keyStore ??= openKeyStore().catch((e: unknown) => {
    keyStore = undefined;
    throw e;
  });
  return keyStore;
};
const opened = new OpenedCache();
/** The organisation's keys held by the native host (policy keys.managedSource: 'host'). */
const managedKeys = new ManagedKeys(host);
/** The key store session (passphrase unlock, idle lock) and the keys page's requests. */
const keyService = new KeyService({
  store,
  policy: async () => (await loadEffectivePolicy()).keys,
  setTimer: (fn, ms) => setTimeout(fn, ms),
  clearTimer: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
  warn: (m) => console.warn(m),
  onLock: () => opened.clear(),
  managedKeys: () => managedKeys.list(),
  audit: (event) =>
    void effectivePolicyNow()
      .then((p) => auditUnderPolicy(p, (e: typeof event) => void host.audit({ ...e, addonVersion: ADDON_VERSION }))(event))
      .catch(() => undefined),
});

const pipelineDeps: PipelineDeps = {
  crypto: crypto.subtle,
  // Device mode: the store's keys; passphrase mode: the unlocked session's (KeysLockedError when locked).
  loadKeys: () => keyService.loadKeys(),
  rawMessage: (id) => rawOnce(id),
  thunderbirdDecrypted: (id) => rawMessageDecryptedByThunderbird(id),
  scan: (plaintext, meta, opts) => host.scan(plaintext, meta, opts),
  audit: (event) => void host.audit({ ...event, addonVersion: ADDON_VERSION }),
  keyUsed: (id) => void store().then((s) => s.markUsed(id)).catch(() => undefined),
  policy: () => effectivePolicyNow(),
  managedKeys: (opts) => managedKeys.source(opts),
};

// ---- admin policy: actions after a verdict, decrypted copies, the status page ----
const infectedActions = new InfectedActions({ ensureLocalFolder, moveMessage, tagMessage, importMessage }, (l) => console.info(l));

/** "Save decrypted copy": only for a clean, scanned result still in memory, and only when the policy names a folder. */
async function saveCopy(messageId: number | undefined): Promise<{ ok: boolean; message?: string }> {
  if (messageId === undefined) return { ok: false, message: 'no message' };
  const policy = await effectivePolicyNow();
  if (policy.decryptedCopies.mode !== 'folder') return { ok: false, message: 'decrypted copies are not allowed by policy' };
  const r = opened.get(messageId);
  if (!r || r.model.kind !== 'clean' || !r.plaintext) return { ok: false, message: 'open the message again first (only a message scanned clean can be saved)' };
  try {
    const folder = await ensureLocalFolder(policy.decryptedCopies.folder);
    const id = await importMessage(decryptedCopy(await rawOnce(messageId), r.plaintext, new Date()), folder.id);
    console.info(`unseal: decrypted copy of message ${messageId} saved as ${id} in "${policy.decryptedCopies.folder}"`);
    return { ok: true };
  } catch (e) {
    return { ok: false, message: e instanceof Error ? e.message : String(e) };
  }
}

async function policyStatus(health: boolean): Promise<PolicyStatus> {
  const policy = await effectivePolicyNow();
  let hostStatus: HostStatus;
  try {
    const info = await host.hello();
    const h = health ? await host.health().catch(() => undefined) : undefined;
    const engine = h?.engine ?? info.engine;
    hostStatus = {
      ok: true,
      hostVersion: info.hostVersion,
      scanner: info.scanner,
      ...(engine ? { engine: engine.engine, ...(engine.signatures ? { signatures: engine.signatures } : {}) } : {}),
      ...(h ? { healthy: h.ok, ...(h.problem ? { problem: h.problem } : {}) } : {}),
    };
  } catch (e) {
    hostStatus = { ok: false, error: e instanceof Error ? e.message : String(e) };
  }
  return { policy, host: hostStatus };
}

async function displayedRef(tabId: number | undefined) {
  const m = await displayedIn(tabId).catch(() => undefined);
  return m ? toRef(m) : undefined;
}

/** A message named by the Unseal viewer (only honoured for ports from the add-on's own pages). */
async function messageRef(id: number) {
  const m = await messageHeader(id).catch(() => undefined);
  return m ? toRef(m) : undefined;
}

function toRef(m: { id: number; headerMessageId: string; folderPath?: string; author?: string }): MessageRef {
  return { id: m.id, headerMessageId: m.headerMessageId, ...(m.folderPath ? { folderPath: m.folderPath } : {}), ...(m.author ? { author: m.author } : {}) };
}

/** Bumped when the user's settings change: a result the pipeline finishes after that is not cached. */
let settingsGeneration = 0;

async function openCached(msg: MessageRef, opts: Parameters<typeof openForDisplay>[2]) {
  const hit = opened.get(msg.id);
  if (hit) return hit;
  const generation = settingsGeneration;
  // Stage timings (no content) go to the console, which tests and support read from Thunderbird's output.
  const t0 = Date.now();
  const marks: Record<string, number> = {};
  const r = await openForDisplay(msg, pipelineDeps, {
    ...opts,
    onProgress: (stage, bytes) => {
      marks[stage] = Date.now() - t0;
      opts?.onProgress?.(stage, bytes);
    },
  });
  marks['done'] = Date.now() - t0;
  if (!opts?.signal?.aborted) void effectivePolicyNow().then((p) => infectedActions.after(msg.id, r.model, p)).catch(() => undefined);
  console.info(`unseal: timings ${JSON.stringify({ messageId: msg.id, kind: r.model.kind, bytes: r.bytes, ...marks })}`);
  if (!opts?.signal?.aborted && generation === settingsGeneration) opened.set(msg.id, r, r.bytes);
  return r;
}

// ---- top-level, synchronous registration ----
onRenderConnect((port) => serveRenderPort(port, { displayed: displayedRef, byId: messageRef, open: openCached }));
onViewerNotificationClicked((messageId, reason) => void openViewer(messageId, reason).catch(() => undefined));
registerViewerMenu(uiText('menu_open_viewer'), (ids) => {
  // One viewer tab for the first selected message (a multi-selection is not a request for many tabs).
  if (ids[0] !== undefined) void openViewer(ids[0]).catch(() => undefined);
});
onActionClicked(() => void openKeysPage());
onStartup((reason) => void markBackgroundStarted(startedAt, reason).catch(() => undefined));
// User settings apply at once (the pipeline reads them per message): results decided under the old
// settings are dropped, also one still in the pipeline. (rescan-wiring.ts re-arms its schedule itself.)
onUserSettingsChanged(() => {
  settingsGeneration++;
  opened.clear();
});
onRuntimeMessage((msg, sender) => (isKeyRequest(msg) ? keyService.handle(msg, sender.fromExtensionPage) : route(msg, sender)));
onSelectionChanged((_tabId, messages) => prefWatch.selectionChanged(messages));
onMessagesDisplayed((_tabId, messages) => {
  for (const m of messages) prefWatch.displayed(m.id);
});
// Re-scan of encrypted mail (folder menu, policy schedule) and the audit viewer's requests.
const rescanWiring = registerRescan({
  host,
  addonVersion: ADDON_VERSION,
  loadKeys: () => pipelineDeps.loadKeys(),
  policy: () => effectivePolicyNow(),
  onInfected: (id, policy) => infectedActions.infected(id, policy),
  // One list of the organisation's keys (and its cache) for the pane and the re-scan.
  managedKeys: (opts) => managedKeys.source(opts),
});
void markBackgroundStarted(startedAt, 'load').catch(() => undefined);
