/**
 * The RocketMQProxy API types, inferred from the schema in schema.ts (the CRD is generated from the same
 * schema), so the types and the CRD cannot disagree. `Resolved*` types have the schema defaults filled in.
 */
import type { API_VERSION, KIND } from './constants.ts';
import { rocketMQProxySchema, type specSchema, type statusSchema } from './schema.ts';
import { applyDefaults, type Infer } from './schema-kit.ts';

export type RocketMQProxySpec = Infer<typeof specSchema>;
export type ResolvedSpec = Infer<typeof specSchema, true>;
export type RocketMQProxyStatus = Infer<typeof statusSchema>;
export type Condition = NonNullable<RocketMQProxyStatus['conditions']>[number];

export interface ObjectMeta {
  name: string;
  namespace: string;
  uid?: string;
  generation?: number;
  resourceVersion?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  deletionTimestamp?: string;
  creationTimestamp?: string;
}

export interface RocketMQProxy {
  apiVersion: typeof API_VERSION;
  kind: typeof KIND;
  metadata: ObjectMeta;
  spec: RocketMQProxySpec;
  status?: RocketMQProxyStatus;
}

export interface ResolvedRocketMQProxy {
  apiVersion: typeof API_VERSION;
  kind: typeof KIND;
  metadata: ObjectMeta;
  spec: ResolvedSpec;
  status?: RocketMQProxyStatus;
}

/** The spec with every schema default applied (what the API server stores). */
export function resolveSpec(spec: RocketMQProxySpec): ResolvedSpec {
  return applyDefaults(rocketMQProxySchema.properties.spec, spec) as ResolvedSpec;
}

export function resolve(proxy: RocketMQProxy): ResolvedRocketMQProxy {
  return { ...proxy, spec: resolveSpec(proxy.spec) };
}
