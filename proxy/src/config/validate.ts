/**
 * Validation of a merged configuration, with one readable line per problem that names the key path,
 * what was expected, what was given and (when known) which source gave it.
 */
import type { z } from 'zod';
import { CONFIG_KEYS, configKey, type ValueKind } from './keys.ts';
import { ConfigError, describe, type Merged } from './layers.ts';
import { configSchema, type ProxyConfig } from './schema.ts';

type Issue = z.core.$ZodIssue & { input?: unknown };

export function validateConfig(merged: Merged): ProxyConfig {
  const result = configSchema.safeParse(merged.value, { reportInput: true });
  if (result.success) return result.data;
  const problems = result.error.issues.flatMap((issue) => describeIssue(issue as Issue, merged.origins));
  throw new ConfigError(problems);
}

function describeIssue(issue: Issue, origins: ReadonlyMap<string, string>): string[] {
  const path = issue.path
    .map((segment, index) =>
      typeof segment === 'number' ? `[${segment}]` : `${index === 0 ? '' : '.'}${String(segment)}`,
    )
    .join('');
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((name) => {
      const keyPath = path === '' ? name : `${path}.${name}`;
      const known = childrenOf(path);
      return withOrigin(keyPath, `unknown key; known keys here: ${known.join(', ')}`, origins);
    });
  }
  return [withOrigin(path, expectation(issue, configKey(path)?.kind), origins)];
}

function expectation(issue: Issue, kind: ValueKind | undefined): string {
  const got = `got ${describe(issue.input)}`;
  switch (issue.code) {
    case 'invalid_value':
      return `expected one of ${issue.values.map(String).join('|')}, ${got}`;
    case 'invalid_type': {
      const expected = kind === 'integer' ? 'an integer' : kindName(issue.expected);
      if (issue.input === undefined) return `required (expected ${expected})`;
      return `expected ${expected}, ${got}`;
    }
    case 'too_small':
    case 'too_big': {
      const bound = issue.code === 'too_small' ? issue.minimum : issue.maximum;
      const inclusive = issue.inclusive !== false;
      const op = issue.code === 'too_small' ? (inclusive ? '>=' : '>') : inclusive ? '<=' : '<';
      if (issue.origin === 'array') {
        const word = issue.code === 'too_small' ? 'at least' : 'at most';
        return `expected ${word} ${bound} entr${Number(bound) === 1 ? 'y' : 'ies'}, ${got}`;
      }
      if (issue.origin === 'string') {
        const word = issue.code === 'too_small' ? 'at least' : 'at most';
        return `expected ${word} ${bound} character${Number(bound) === 1 ? '' : 's'}, ${got}`;
      }
      return `expected ${kind === 'integer' ? 'an integer' : 'a number'} ${op} ${bound}, ${got}`;
    }
    default:
      return issue.message.includes(', got ') || issue.input === undefined
        ? issue.message
        : `${issue.message}, ${got}`;
  }
}

function kindName(expected: string): string {
  switch (expected) {
    case 'int':
      return 'an integer';
    case 'number':
      return 'a number';
    case 'string':
      return 'a string';
    case 'array':
      return 'a list';
    case 'object':
      return 'a mapping';
    default:
      return expected;
  }
}

/** The next path segments under `parent` in the key table. */
function childrenOf(parent: string): string[] {
  const prefix = parent === '' ? '' : `${parent}.`;
  const names = CONFIG_KEYS.filter((key) => key.path.startsWith(prefix)).map(
    (key) => key.path.slice(prefix.length).split('.')[0]!,
  );
  return [...new Set(names)];
}

function withOrigin(path: string, text: string, origins: ReadonlyMap<string, string>): string {
  const origin = originOf(path, origins);
  const where = path === '' ? '(top level)' : path;
  return origin === undefined || origin === 'defaults'
    ? `${where}: ${text}`
    : `${where}: ${text} (from ${origin})`;
}

/** The source that set this path, or the closest ancestor / descendant that was set as a whole. */
function originOf(path: string, origins: ReadonlyMap<string, string>): string | undefined {
  const plain = path.replace(/\[\d+\]/g, '');
  for (const [origin, source] of origins) if (origin.startsWith(`${plain}.`)) return source;
  let candidate = plain;
  while (candidate !== '') {
    const origin = origins.get(candidate);
    if (origin !== undefined) return origin;
    const dot = candidate.lastIndexOf('.');
    candidate = dot < 0 ? '' : candidate.slice(0, dot);
  }
  return undefined;
}
