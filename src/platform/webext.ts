/// <reference types="thunderbird-webext-browser" />
/**
 * The one seam to Thunderbird's WebExtension globals. `@types/thunderbird-webext-browser` describes
 * Thunderbird 127's MV2 shapes; where MV3 differs (e.g. `getDisplayedMessages` returns a
 * MessageList, `getRaw` returns a File) the adapters in this folder read the value defensively.
 */

export const webext: typeof browser = (globalThis as unknown as { browser: typeof browser }).browser;

export class PlatformTimeout extends Error {
  override readonly name = 'PlatformTimeout';
}

/**
 * Every Thunderbird API call gets a deadline: with S/MIME that Thunderbird cannot decrypt,
 * `messageDisplay.open()` and `getDisplayedMessages()` never resolve (see docs/thunderbird.md).
 */
export async function deadline<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new PlatformTimeout(`${what} did not answer within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
