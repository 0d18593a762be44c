/** The MIME layer of the core: parsing, S/MIME detection, and what a message shows. */
export { decodeBody, decodeHeaderWords, decodeText, header, parseMime, MAX_DEPTH, MAX_ENTITIES } from './entity.js';
export type { ContentType, Header, MimeEntity } from './entity.js';
export { findEncryptedPart, findSmimeParts, isSmimeMessage } from './smime-detect.js';
export type { SmimeKind, SmimePart } from './smime-detect.js';
export { extractContent, htmlToText, leafParts } from './content.js';
export type { AttachmentInfo, LeafPart, MessageContent } from './content.js';
