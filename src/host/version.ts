/**
 * Reported in `hello`, so the add-on can tell the user which host build answered. Kept as a literal
 * (src/ may not import package.json); test/unit/host/version.test.ts keeps it equal to package.json.
 */
export const HOST_VERSION = '0.1.0';
