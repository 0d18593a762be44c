/**
 * The JSON Schema (draft 2020-12) that admins validate their policy against, generated from the
 * same definition the add-on validates with. `docs/policy.schema.json` is written from this by
 * build.mjs; test/unit/policy/schema-file.test.ts fails when the file is stale.
 */
import { ADDON_ID, POLICY_SCHEMA, POLICY_SCHEMA_VERSION } from './definition.js';
import { isObjectSchema, type ItemSchema, type Schema } from './schema.js';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

function item(s: ItemSchema): Json {
  if (s.type === 'enum') return { type: 'string', enum: [...s.values] };
  return { type: 'string', minLength: s.minLength, maxLength: s.maxLength, ...(s.pattern !== undefined ? { pattern: s.pattern } : {}) };
}

function node(s: Schema): Json {
  if (isObjectSchema(s)) {
    return {
      type: 'object',
      description: s.description,
      additionalProperties: false,
      properties: Object.fromEntries(Object.entries(s.properties).map(([k, v]) => [k, node(v)])),
    };
  }
  const common = { description: s.description, ...(s.userSettable ? { 'x-unseal-user-settable': true } : {}) };
  switch (s.type) {
    case 'boolean':
      return { type: 'boolean', default: s.default, ...common };
    case 'integer':
      return { type: 'integer', minimum: s.minimum, maximum: s.maximum, default: s.default, ...common };
    case 'string':
      return { ...(item({ ...s }) as Record<string, Json>), default: s.default, ...common };
    case 'enum':
      return { type: 'string', enum: [...s.values], default: s.default, ...common };
    case 'list':
      return { type: 'array', items: item(s.items), maxItems: s.maxItems, ...(s.unique ? { uniqueItems: true } : {}), default: [...s.default], ...common };
  }
}

export function policyJsonSchema(): Json {
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: `https://unseal.example/schema/policy-v${POLICY_SCHEMA_VERSION}.json`,
    title: `Unseal admin policy, version ${POLICY_SCHEMA_VERSION}`,
    'x-unseal-schema-version': POLICY_SCHEMA_VERSION,
    'x-thunderbird-policy-path': `policies.3rdparty.Extensions["${ADDON_ID}"]`,
    ...(node(POLICY_SCHEMA) as Record<string, Json>),
  };
}

/** The file's exact text (2-space JSON, trailing newline). */
export const policyJsonSchemaText = (): string => `${JSON.stringify(policyJsonSchema(), null, 2)}\n`;
