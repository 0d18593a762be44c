// Entry bundled by the benchmark so it measures the same core the CLI and the add-on ship.
export { decryptEnvelope } from '../../src/core/cms/decrypt.js';
export { loadKeyFile } from '../../src/core/keys/load.js';
export { unwrapLayers } from '../../src/core/unwrap/layers.js';
export { rsaDecryptPkcs1v15, rsaEncryptPkcs1v15 } from '../../src/core/crypto/rsa.js';
export { desEde3CbcDecrypt } from '../../src/core/crypto/des.js';
export { rc2CbcDecrypt } from '../../src/core/crypto/rc2.js';
