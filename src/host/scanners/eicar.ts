/**
 * The EICAR anti-virus test file (68 bytes). Assembled from pieces so that this repository, its
 * build output and any packaged add-on never contain the literal string: scanners on developer
 * machines and CI would otherwise quarantine our own sources.
 */
const PARTS = ['X5O!P%@AP[4\\PZX54(P^)7CC)7}$', 'EICAR-STANDARD-', 'ANTIVIRUS-', 'TEST-FILE!$H+H*'];

export function eicarBytes(): Uint8Array {
  const bytes = new TextEncoder().encode(PARTS.join(''));
  if (bytes.length !== 68) throw new Error(`EICAR assembly produced ${bytes.length} bytes`);
  return bytes;
}

/** Lower-case hex of the EICAR string, e.g. for a test `.ndb` body signature. */
export function eicarHex(): string {
  return Buffer.from(eicarBytes()).toString('hex');
}
