/**
 * Decrypted, scanned messages kept in memory only, so showing a message again is instant. Bounded
 * by count and by bytes of plaintext; cleared as a whole on lock. Only final verdicts are kept: an
 * unscanned result must be retried (the scanner may be back), an error too.
 */
import type { OpenedForDisplay } from './render-model.js';

export class OpenedCache {
  private readonly map = new Map<number, { value: OpenedForDisplay; bytes: number }>();
  private bytes = 0;

  constructor(
    private readonly maxEntries = 20,
    private readonly maxBytes = 128 * 1024 * 1024,
  ) {}

  get(id: number): OpenedForDisplay | undefined {
    const e = this.map.get(id);
    if (!e) return undefined;
    this.map.delete(id);
    this.map.set(id, e); // most recently used last
    return e.value;
  }

  /** Stores clean and infected results; returns whether it did. */
  set(id: number, value: OpenedForDisplay, bytes: number): boolean {
    if (value.model.kind !== 'clean' && value.model.kind !== 'infected') return false;
    if (bytes > this.maxBytes) return false;
    this.delete(id);
    this.map.set(id, { value, bytes });
    this.bytes += bytes;
    while (this.map.size > this.maxEntries || this.bytes > this.maxBytes) {
      const oldest = this.map.keys().next().value;
      if (oldest === undefined) break;
      this.delete(oldest);
    }
    return true;
  }

  delete(id: number): void {
    const e = this.map.get(id);
    if (!e) return;
    this.bytes -= e.bytes;
    this.map.delete(id);
  }

  clear(): void {
    this.map.clear();
    this.bytes = 0;
  }

  get size(): number {
    return this.map.size;
  }
}
