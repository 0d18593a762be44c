/**
 * The bytes of one scan as they arrive, offered to the scanner while the rest is still coming:
 * chunks are decoded into `buf` (allocated at the announced size) and `advance()` publishes them.
 * Each iteration starts at byte 0 (the canary guard may re-read it for a re-scan) and yields views
 * into `buf`, never copies. An iteration ends only once every announced byte has arrived; `fail()`
 * makes every pending and later read throw, so a dropped, cancelled or timed-out scan never ends
 * its scanner upload as if the object were complete.
 */
export class ReceiveSource implements AsyncIterable<Uint8Array> {
  private filled = 0;
  private failure: Error | undefined;
  private waiters: (() => void)[] = [];

  constructor(private readonly buf: Uint8Array) {}

  /** Bytes [0, n) are final. */
  advance(n: number): void {
    if (n < this.filled || n > this.buf.length) throw new RangeError(`advance(${n}) with ${this.filled} of ${this.buf.length} bytes published`);
    this.filled = n;
    this.wake();
  }

  fail(e: Error): void {
    this.failure ??= e;
    this.wake();
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  [Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    let off = 0;
    return {
      next: async (): Promise<IteratorResult<Uint8Array>> => {
        for (;;) {
          if (this.failure) throw this.failure;
          if (off < this.filled) {
            const v = this.buf.subarray(off, this.filled);
            off = this.filled;
            return { value: v, done: false };
          }
          if (off === this.buf.length) return { value: undefined, done: true };
          await new Promise<void>((r) => this.waiters.push(r));
        }
      },
      return: async (): Promise<IteratorResult<Uint8Array>> => {
        off = this.buf.length;
        return { value: undefined, done: true };
      },
    };
  }
}
