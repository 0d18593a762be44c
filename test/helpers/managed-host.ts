import { webcrypto } from 'node:crypto';
import type { ManagedKeyClient } from '../../src/background/managed-keys.js';
import { unwrapRecipientWithKey } from '../../src/core/cms/remote-unwrap.js';
import type { KeyRecord } from '../../src/core/keys/types.js';

/**
 * What the native host does for its managed keys, in-process: list the certificates, unwrap with
 * the core's own code (the built host itself is tested in test/integration/host/managed-keys.test.ts).
 * Counts the calls.
 */
export function fakeManagedHost(held: KeyRecord[], label = 'Team mailbox'): ManagedKeyClient & { unwraps: number; lists: number } {
  const subtle = webcrypto.subtle as SubtleCrypto;
  const h = {
    unwraps: 0,
    lists: 0,
    async managedKeys() {
      h.lists++;
      return { keys: held.map((k) => ({ id: k.id, label, certificate: Buffer.from(k.certificate!.der).toString('base64') })), problems: [] };
    },
    async unwrapManaged(req: Parameters<ManagedKeyClient['unwrapManaged']>[0]) {
      h.unwraps++;
      return unwrapRecipientWithKey(subtle, held.find((k) => k.id === req.keyId)!, req);
    },
  };
  return h;
}
