import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { CONFIG_KEYS, envVarName } from '../../../proxy/src/config/keys.ts';

const docs = readFileSync(new URL('../../../docs/configuration.md', import.meta.url), 'utf8');

test('docs/configuration.md has a row for every key with its env variable, flag and default', () => {
  for (const key of CONFIG_KEYS) {
    const row = docs.split('\n').find((line) => line.startsWith(`| \`${key.path}\` |`));
    assert.ok(row, `no row for ${key.path}`);
    assert.ok(row.includes(`\`${envVarName(key.path)}\``), `${key.path}: env variable`);
    const flag = key.flag?.split(' ')[0] ?? `--set ${key.path}=`;
    assert.ok(row.includes(flag), `${key.path}: flag`);
    const fallback = Array.isArray(key.default) ? key.default.join(',') : key.default;
    assert.ok(row.includes(fallback === undefined ? '(unset)' : `\`${fallback}\``), `${key.path}: default`);
  }
});
