/** The real-Thunderbird e2e harness; see docs/thunderbird.md for the API and the measured timings. */
export { Marionette, MarionetteError, withTimeout } from './marionette.js';
export { ADDON_ID, TEST_FOLDER, basePrefs, createProfile, toMbox, type Profile, type ProfileOptions } from './profile.js';
export { THUNDERBIRD_BIN, Thunderbird, freePort, waitFor, type Condition, type Diagnostics, type DisplayReport, type StartOptions } from './thunderbird.js';
export { RESULTS_DIR, recordSummary, scenario, type SummaryEntry } from './summary.js';
export { builtXpi } from './xpi.js';
export { BROWSER, inMessagePane, runFrameScript } from './frame-script.js';
export { installHost } from './host.js';
export { reportDigest } from './digest.js';
