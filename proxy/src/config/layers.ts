/**
 * Turning each configuration source into a layer of `path → value` entries, and merging layers into
 * one nested object while remembering which source set each value (so errors can say where a bad
 * value came from). Pure: the caller supplies file text, the environment and the flag values.
 */
import { createRequire } from 'node:module';
import { CONFIG_KEYS, type ConfigKey, configKey, envVarName, LEGACY_ENV, type ValueKind } from './keys.ts';

export interface Layer {
  /** Human name of the source: `defaults`, `config.yaml`, `RMQP_LISTEN_PORT`, `--port`, … */
  readonly source: string;
  readonly entries: ReadonlyArray<{
    readonly path: string;
    readonly value: unknown;
    readonly source: string;
  }>;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  /** One line per problem, each starting with the key path it is about. */
  readonly problems: readonly string[];

  constructor(problems: readonly string[]) {
    super(`invalid configuration:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
    this.problems = problems;
  }
}

export function defaultsLayer(): Layer {
  return {
    source: 'defaults',
    entries: CONFIG_KEYS.filter((key) => key.default !== undefined).map((key) => ({
      path: key.path,
      value: Array.isArray(key.default) ? [...key.default] : key.default,
      source: 'defaults',
    })),
  };
}

/**
 * Reads a value given as text (environment, flags) into the key's kind. Text that does not fit is kept
 * as text so that validation reports it with the key's name and the expected kind.
 */
export function coerce(kind: ValueKind, text: string): unknown {
  const trimmed = text.trim();
  switch (kind) {
    case 'integer':
      return /^[+-]?\d+$/.test(trimmed) ? Number(trimmed) : text;
    case 'number':
      return trimmed !== '' && Number.isFinite(Number(trimmed)) ? Number(trimmed) : text;
    case 'list':
      return trimmed
        .split(/[;,]/)
        .map((item) => item.trim())
        .filter((item) => item !== '');
    default:
      return trimmed;
  }
}

/** The YAML library (72 modules), loaded on first use: starts without a config file never need it. */
let yaml: typeof import('yaml') | undefined;
function yamlLibrary(): typeof import('yaml') {
  yaml ??= createRequire(import.meta.url)('yaml') as typeof import('yaml');
  return yaml;
}

/** Flattens a parsed YAML document; unknown keys are kept so the strict schema can name them. */
export function fileLayer(text: string, fileName: string): Layer {
  const document = yamlLibrary().parseDocument(text, { prettyErrors: true });
  if (document.errors.length > 0) {
    throw new ConfigError(document.errors.map((error) => `${fileName}: ${error.message.split('\n')[0]}`));
  }
  const root: unknown = document.toJS();
  if (root === null || root === undefined) return { source: fileName, entries: [] };
  if (!isPlainObject(root)) {
    throw new ConfigError([
      `${fileName}: expected a mapping of keys at the top level, got ${describe(root)}`,
    ]);
  }
  const entries: { path: string; value: unknown; source: string }[] = [];
  const walk = (value: Record<string, unknown>, prefix: string) => {
    for (const [name, child] of Object.entries(value)) {
      const path = prefix === '' ? name : `${prefix}.${name}`;
      // `key:` with nothing after it means "not set here", which is how people comment out a section.
      if (child === null || child === undefined) continue;
      if (isPlainObject(child)) walk(child, path);
      else entries.push({ path, value: child, source: fileName });
    }
  };
  walk(root, '');
  return { source: fileName, entries };
}

/** `RMQP_*` variables (and NAMESRV_ADDR) into a layer; empty variables count as unset. */
export function envLayers(env: Readonly<Record<string, string | undefined>>): {
  layers: Layer[];
  warnings: string[];
} {
  const legacy: Layer['entries'][number][] = [];
  for (const [name, path] of Object.entries(LEGACY_ENV)) {
    const text = env[name];
    const key = configKey(path);
    if (key && text !== undefined && text.trim() !== '') {
      legacy.push({ path, value: coerce(key.kind, text), source: name });
    }
  }
  const known = new Set<string>(['RMQP_CACHE']);
  const entries: Layer['entries'][number][] = [];
  for (const key of CONFIG_KEYS) {
    const name = envVarName(key.path);
    known.add(name);
    const text = env[name];
    if (text !== undefined && text.trim() !== '')
      entries.push({ path: key.path, value: coerce(key.kind, text), source: name });
  }
  const warnings = Object.keys(env)
    .filter((name) => name.startsWith('RMQP_') && !known.has(name))
    .map((name) => `environment variable ${name} is not a configuration key and is ignored`);
  return {
    layers: [
      { source: 'NAMESRV_ADDR', entries: legacy },
      { source: 'environment', entries },
    ],
    warnings,
  };
}

/** Values of the common flags (by key path) and `--set path=value` items, flags last so they win. */
export function flagLayer(flagValues: Readonly<Record<string, string>>, sets: readonly string[]): Layer {
  const entries: Layer['entries'][number][] = [];
  const problems: string[] = [];
  for (const item of sets) {
    const equals = item.indexOf('=');
    const path = equals < 0 ? item : item.slice(0, equals);
    const key = configKey(path.trim());
    if (equals < 0) problems.push(`--set ${item}: expected key=value, e.g. --set limits.maxDelayMs=3600000`);
    else if (!key) problems.push(`--set ${item}: unknown key "${path.trim()}"`);
    else entries.push({ path: key.path, value: coerce(key.kind, item.slice(equals + 1)), source: '--set' });
  }
  for (const [path, text] of Object.entries(flagValues)) {
    const key = configKey(path) as ConfigKey | undefined;
    if (!key) problems.push(`flag for unknown key "${path}"`);
    else entries.push({ path, value: coerce(key.kind, text), source: key.flag?.split(' ')[0] ?? '--set' });
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return { source: 'flags', entries };
}

export interface Merged {
  readonly value: Record<string, unknown>;
  /** Which source set each leaf path last. */
  readonly origins: ReadonlyMap<string, string>;
}

/** Applies layers in order; a later layer's value replaces an earlier one (lists are replaced, not joined). */
export function mergeLayers(layers: readonly Layer[]): Merged {
  const value: Record<string, unknown> = {};
  // Every section exists even when all its keys are unset (e.g. `advertise` without an address).
  for (const key of CONFIG_KEYS) {
    const section = key.path.slice(0, key.path.lastIndexOf('.'));
    if (section !== '') setPath(value, section, {});
  }
  const origins = new Map<string, string>();
  for (const layer of layers) {
    for (const entry of layer.entries) {
      setPath(value, entry.path, entry.value);
      for (const path of origins.keys()) {
        if (path.startsWith(`${entry.path}.`) || entry.path.startsWith(`${path}.`)) origins.delete(path);
      }
      origins.set(entry.path, entry.source);
    }
  }
  return { value, origins };
}

function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const segments = path.split('.');
  let node = target;
  for (const segment of segments.slice(0, -1)) {
    const next = node[segment];
    if (isPlainObject(next)) node = next;
    else {
      const created: Record<string, unknown> = {};
      node[segment] = created;
      node = created;
    }
  }
  node[segments.at(-1)!] = value;
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A short rendering of a bad value for error messages. */
export function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (typeof value === 'string') return JSON.stringify(value);
  if (Array.isArray(value))
    return value.length === 0 ? 'an empty list' : `a list ${truncate(JSON.stringify(value))}`;
  if (isPlainObject(value)) return `a mapping ${truncate(JSON.stringify(value))}`;
  return String(value);
}

function truncate(text: string): string {
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
