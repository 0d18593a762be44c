/** The admin policy: definition (one source for types and JSON Schema), validation and merge. */
export { ADDON_ID, POLICY_ALGORITHMS, POLICY_SCHEMA, POLICY_SCHEMA_VERSION, algorithmToken } from './definition.js';
export type { PolicyAlgorithm, PolicyDocument, PolicySchema, PolicySettings, SettingPath } from './definition.js';
export { DEFAULT_POLICY, effectivePolicy } from './merge.js';
export type { EffectivePolicy, PolicyMeta, SettingOrigin, SettingSource, SourcedPolicyError } from './merge.js';
export { describeValue, formatPolicyError, validate } from './validate.js';
export type { PolicyError, ValidationResult } from './validate.js';
export { extractPolicy } from './policies-file.js';
export type { ExtractedPolicy } from './policies-file.js';
export { policyJsonSchema, policyJsonSchemaText } from './json-schema.js';
export { leaves } from './schema.js';
