export { startClamd, TEST_SIGNATURE, TEST_SIGNATURE_REPORTED, type ClamdHandle, type ClamdOptions } from './clamd.js';
export { startCicap, type CicapHandle, type CicapOptions } from './cicap.js';
export { INSTALL_HINT, freePort, sleep } from './common.js';
