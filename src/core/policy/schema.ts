/**
 * A small schema-builder for the admin policy: one TypeScript definition yields the static types
 * (through {@link Infer}), the validator (validate.ts) and the published JSON Schema
 * (json-schema.ts, draft 2020-12). Chosen over ajv, whose validators are compiled with
 * `new Function` (the add-on's CSP allows no eval), and over TypeBox, which would still need our
 * own per-setting fallback ("a bad value falls back to the safe default and is reported") and
 * message format on top of its error iterator: the whole DSL is the few builders below.
 *
 * Only what the policy needs: booleans, bounded integers and strings, closed string sets, lists of
 * those, and closed objects (unknown keys are errors). Pure; no browser or Node APIs.
 */

export interface LeafMeta {
  /** One sentence for admins; becomes the JSON Schema `description` and the admin guide. */
  readonly description: string;
  /** A user may set this in the add-on's own settings (storage.local) unless the admin locked it. */
  readonly userSettable?: boolean;
}

export interface BooleanSchema extends LeafMeta {
  readonly type: 'boolean';
  readonly default: boolean;
}
export interface IntegerSchema extends LeafMeta {
  readonly type: 'integer';
  readonly default: number;
  readonly minimum: number;
  readonly maximum: number;
}
export interface StringSchema extends LeafMeta {
  readonly type: 'string';
  readonly default: string;
  readonly minLength: number;
  readonly maxLength: number;
  /** ECMAScript and JSON Schema regular expression (kept to the common subset). */
  readonly pattern?: string;
}
export interface EnumSchema<V extends string = string> extends LeafMeta {
  readonly type: 'enum';
  readonly values: readonly V[];
  readonly default: V;
}
export type ItemSchema = Omit<StringSchema, 'default' | 'description'> | Omit<EnumSchema, 'default' | 'description'>;
export interface ListSchema<I extends ItemSchema = ItemSchema> extends LeafMeta {
  readonly type: 'list';
  readonly items: I;
  readonly maxItems: number;
  readonly unique: boolean;
  readonly default: readonly ItemValue<I>[];
}
export type LeafSchema = BooleanSchema | IntegerSchema | StringSchema | EnumSchema | ListSchema;
export interface ObjectSchema<P extends Record<string, Schema> = Record<string, Schema>> {
  readonly type: 'object';
  readonly description: string;
  readonly properties: P;
}
export type Schema = LeafSchema | ObjectSchema;

type ItemValue<I> = I extends { type: 'enum'; values: readonly (infer V)[] } ? V : string;

/** The value type a schema describes. */
export type Infer<S> = S extends BooleanSchema
  ? boolean
  : S extends IntegerSchema
    ? number
    : S extends StringSchema
      ? string
      : S extends EnumSchema<infer V>
        ? V
        : S extends ListSchema<infer I>
          ? readonly ItemValue<I>[]
          : S extends ObjectSchema<infer P>
            ? { readonly [K in keyof P]: Infer<P[K]> }
            : never;

/** Every leaf's dotted path, e.g. `"onInfected.action"`. */
export type LeafPath<S, Prefix extends string = ''> =
  S extends ObjectSchema<infer P> ? { [K in keyof P & string]: LeafPath<P[K], `${Prefix}${K}.`> }[keyof P & string] : Prefix extends `${infer X}.` ? X : never;

/** Same shape with every setting optional (what a policy or user settings document may give). */
export type PartialSettings<S> = S extends ObjectSchema<infer P> ? { readonly [K in keyof P]?: PartialSettings<P[K]> } : Infer<S>;

// ---- builders ----

export const boolean = (def: boolean, meta: LeafMeta): BooleanSchema => ({ type: 'boolean', default: def, ...meta });

export const integer = (def: number, range: { min: number; max: number }, meta: LeafMeta): IntegerSchema => ({
  type: 'integer',
  default: def,
  minimum: range.min,
  maximum: range.max,
  ...meta,
});

export const string = (def: string, limits: { minLength?: number; maxLength: number; pattern?: string }, meta: LeafMeta): StringSchema => ({
  type: 'string',
  default: def,
  minLength: limits.minLength ?? 0,
  maxLength: limits.maxLength,
  ...(limits.pattern !== undefined ? { pattern: limits.pattern } : {}),
  ...meta,
});

export const oneOf = <const V extends string>(values: readonly V[], def: NoInfer<V>, meta: LeafMeta): EnumSchema<V> => ({ type: 'enum', values, default: def, ...meta });

export const stringItem = (limits: { minLength?: number; maxLength: number; pattern?: string }): ItemSchema => ({
  type: 'string',
  minLength: limits.minLength ?? 0,
  maxLength: limits.maxLength,
  ...(limits.pattern !== undefined ? { pattern: limits.pattern } : {}),
});

export const enumItem = <const V extends string>(values: readonly V[]): { readonly type: 'enum'; readonly values: readonly V[] } => ({ type: 'enum', values });

export const list = <I extends ItemSchema>(items: I, def: readonly ItemValue<I>[], limits: { maxItems: number; unique?: boolean }, meta: LeafMeta): ListSchema<I> => ({
  type: 'list',
  items,
  default: def,
  maxItems: limits.maxItems,
  unique: limits.unique ?? true,
  ...meta,
});

export const object = <P extends Record<string, Schema>>(description: string, properties: P): ObjectSchema<P> => ({ type: 'object', description, properties });

// ---- walking ----

export function isObjectSchema(s: Schema): s is ObjectSchema {
  return s.type === 'object';
}

/** Every leaf with its dotted path, in definition order. */
export function leaves(s: Schema, prefix = ''): { path: string; schema: LeafSchema }[] {
  if (!isObjectSchema(s)) return [{ path: prefix, schema: s }];
  return Object.entries(s.properties).flatMap(([k, v]) => leaves(v, prefix ? `${prefix}.${k}` : k));
}

/** The defaults of a whole schema as a value. */
export function defaultsOf<S extends Schema>(s: S): Infer<S> {
  if (!isObjectSchema(s)) return s.default as Infer<S>;
  return Object.fromEntries(Object.entries(s.properties).map(([k, v]) => [k, defaultsOf(v)])) as Infer<S>;
}
