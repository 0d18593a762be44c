import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { HOST_VERSION } from '../../../src/host/version.js';

it('HOST_VERSION matches package.json', () => {
  expect(HOST_VERSION).toBe((JSON.parse(readFileSync('package.json', 'utf8')) as { version: string }).version);
});
