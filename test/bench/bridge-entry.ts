// Entry bundled by the bridge benchmark (test/bench/bridge.mjs): the real scanner helpers the tests
// use, and the very scanner/canary code the host and the CLI ship, so in-process figures (canary
// self-test cost) are measured on the same code.
export { startClamd, startCicap } from '../helpers/scanners/index.js';
export { checkCanaries } from '../../src/host/scanners/canary.js';
export { createScanner } from '../../src/host/scanners/create.js';
export { storedZip } from '../../src/host/scanners/zip.js';
export { splitMessage } from '../../src/host/mime-parts.js';
export { PROTOCOL_VERSION, RECOMMENDED_CHUNK_BYTES } from '../../src/protocol/native.js';
