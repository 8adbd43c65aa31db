import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { apiTable } from '../../../operator/scripts/api-table.ts';

test('docs/operator.md embeds the current field reference (regenerate with operator/scripts/api-table.ts)', () => {
  const doc = readFileSync('docs/operator.md', 'utf8');
  assert.ok(doc.includes(apiTable('spec')), 'spec table is current');
  assert.ok(doc.includes(apiTable('status')), 'status table is current');
});
