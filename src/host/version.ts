import pkg from '../../package.json' with { type: 'json' };

/** Reported in `hello`, so the add-on can tell the user which host build answered. */
export const HOST_VERSION: string = pkg.version;
