/** docs/policy.schema.json is generated (build.mjs); this fails when it is stale. */
import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { policyJsonSchemaText } from '../../../src/core/policy/index.js';

it('docs/policy.schema.json matches the TypeScript definition (run `node build.mjs` to regenerate)', () => {
  expect(readFileSync('docs/policy.schema.json', 'utf8')).toBe(policyJsonSchemaText());
});
