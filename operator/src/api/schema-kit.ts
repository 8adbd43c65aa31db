/**
 * A tiny OpenAPI v3 (structural schema) vocabulary whose TypeScript types are inferred from the schema
 * literal itself. The RocketMQProxy schema is written ONCE with these helpers; the CRD YAML is generated
 * from it (crds/) and the TypeScript API types are `Infer<typeof schema>`, so the two cannot drift.
 * Defaults live in the schema too: `applyDefaults` fills them the same way the API server does, so
 * unit-tested builders see exactly what the operator reads back from the cluster.
 */

/** A CEL rule (x-kubernetes-validations) with a human message. */
export interface CelRule {
  readonly rule: string;
  readonly message?: string;
  readonly messageExpression?: string;
  readonly fieldPath?: string;
  readonly reason?:
    | 'FieldValueInvalid'
    | 'FieldValueForbidden'
    | 'FieldValueRequired'
    | 'FieldValueDuplicate';
  readonly optionalOldSelf?: boolean;
}

interface Common {
  readonly description: string;
  readonly 'x-kubernetes-validations'?: readonly CelRule[];
  readonly default?: unknown;
}

export interface StringSchema extends Common {
  readonly type: 'string';
  readonly enum?: readonly string[];
  readonly pattern?: string;
  readonly maxLength?: number;
  readonly minLength?: number;
  readonly format?: string;
  readonly default?: string;
}
export interface NumberSchema extends Common {
  readonly type: 'integer' | 'number';
  readonly minimum?: number;
  readonly maximum?: number;
  readonly format?: string;
  readonly default?: number;
}
export interface BooleanSchema extends Common {
  readonly type: 'boolean';
  readonly default?: boolean;
}
export interface IntOrStringSchema extends Common {
  readonly 'x-kubernetes-int-or-string': true;
  readonly pattern?: string;
  readonly default?: number | string;
}
export interface ArraySchema extends Common {
  readonly type: 'array';
  readonly items: Schema;
  readonly maxItems?: number;
  readonly minItems?: number;
  readonly 'x-kubernetes-list-type'?: 'atomic' | 'set' | 'map';
  readonly 'x-kubernetes-list-map-keys'?: readonly string[];
}
export interface ObjectSchema extends Common {
  readonly type: 'object';
  readonly properties: { readonly [name: string]: Schema };
  readonly required?: readonly string[];
}
export interface MapSchema extends Common {
  readonly type: 'object';
  readonly additionalProperties: Schema;
  readonly maxProperties?: number;
}
/** A pass-through object the API server keeps as-is (e.g. HPA behavior, NetworkPolicy peers). */
export interface OpaqueSchema extends Common {
  readonly type: 'object';
  readonly 'x-kubernetes-preserve-unknown-fields': true;
}

/** The root `metadata` property: the API server allows nothing but the bare type there. */
export interface MetadataSchema {
  readonly type: 'object';
}

export type Schema =
  | MetadataSchema
  | StringSchema
  | NumberSchema
  | BooleanSchema
  | IntOrStringSchema
  | ArraySchema
  | ObjectSchema
  | MapSchema
  | OpaqueSchema;

type Simplify<T> = { [K in keyof T]: T[K] } & {};

/**
 * The TypeScript type of a value valid under schema S. With `Resolved = true`, properties that carry a
 * schema default are required (the shape after `applyDefaults` or after the API server defaulted it).
 */
export type Infer<S, Resolved extends boolean = false> = S extends { 'x-kubernetes-int-or-string': true }
  ? number | string
  : S extends { type: 'string'; enum: readonly (infer E)[] }
    ? E
    : S extends { type: 'string' }
      ? string
      : S extends { type: 'integer' | 'number' }
        ? number
        : S extends { type: 'boolean' }
          ? boolean
          : S extends { type: 'array'; items: infer I }
            ? Infer<I, Resolved>[]
            : S extends { type: 'object'; properties: infer P }
              ? InferObject<P, RequiredKeys<S, P, Resolved>, Resolved>
              : S extends { type: 'object'; additionalProperties: infer A }
                ? Record<string, Infer<A, Resolved>>
                : S extends { 'x-kubernetes-preserve-unknown-fields': true }
                  ? Record<string, unknown>
                  : never;

type DefaultedKeys<P> = { [K in keyof P]: P[K] extends { default: unknown } ? K : never }[keyof P];
type RequiredKeys<S, P, Resolved extends boolean> =
  | (S extends { required: readonly (infer R)[] } ? R & keyof P : never)
  | (Resolved extends true ? DefaultedKeys<P> : never);

type InferObject<P, R extends keyof P, Resolved extends boolean> = Simplify<
  { -readonly [K in R]: Infer<P[K], Resolved> } & {
    -readonly [K in Exclude<keyof P, R>]?: Infer<P[K], Resolved>;
  }
>;

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Fills schema defaults into a copy of `value`, like the API server's structural defaulting: a default
 * applies where the property is absent and its parent object exists (objects are not invented, except
 * where the parent property itself has a `default: {}`).
 */
export function applyDefaults(schema: Schema, value: unknown): unknown {
  if (value === undefined) return undefined;
  if ('properties' in schema && isPlainObject(value)) {
    const out: Record<string, unknown> = { ...value };
    for (const [name, child] of Object.entries(schema.properties)) {
      const fallback = 'default' in child ? child.default : undefined;
      const current = out[name] === undefined ? structuredClone(fallback) : out[name];
      const filled = applyDefaults(child, current);
      if (filled !== undefined) out[name] = filled;
    }
    return out;
  }
  if ('additionalProperties' in schema && isPlainObject(value)) {
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [key, applyDefaults(schema.additionalProperties, item)]),
    );
  }
  if ('items' in schema && Array.isArray(value)) {
    return value.map((item) => applyDefaults(schema.items, item));
  }
  return value;
}

/** Every property path of a schema (dotted, `[]` for array items, `{}` for map values) — for docs and tests. */
export function schemaPaths(schema: Schema, prefix = ''): { path: string; schema: Schema }[] {
  const out: { path: string; schema: Schema }[] = [];
  if ('properties' in schema) {
    for (const [name, child] of Object.entries(schema.properties)) {
      const path = prefix ? `${prefix}.${name}` : name;
      out.push({ path, schema: child }, ...schemaPaths(child, path));
    }
  } else if ('additionalProperties' in schema) {
    out.push(...schemaPaths(schema.additionalProperties, `${prefix}{}`));
  } else if ('items' in schema) {
    out.push(...schemaPaths(schema.items, `${prefix}[]`));
  }
  return out;
}

/**
 * Gives an object schema a default made of its properties' defaults. The API server checks CEL rules
 * against a default as written (without defaulting inside it), so `default: {}` would fail rules that
 * read defaulted fields.
 */
export function withFullDefault<const T extends ObjectSchema>(schema: T): T & { readonly default: object } {
  const value = applyDefaults(schema, {}) as object;
  return { ...schema, default: value };
}
