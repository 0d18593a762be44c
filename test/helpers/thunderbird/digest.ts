import { createHash } from 'node:crypto';
import { DIGEST_MAX_CHARS, normalizeText } from '../../../src/display/visible-text.js';

/** What a display report's text digest is for `text` (renderedTextSha256 / textSha256), computed independently in Node. */
export function reportDigest(text: string): string {
  return createHash('sha256').update(normalizeText(text).slice(0, DIGEST_MAX_CHARS), 'utf8').digest('hex');
}
