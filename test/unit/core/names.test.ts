import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ProxyError } from '../../../proxy/src/core/errors.ts';
import { validateConsumerGroup, validateTopic } from '../../../proxy/src/core/names.ts';

/** The reason and message a name is refused with, or undefined when it is accepted. */
function refusal(check: () => string): { reason: string; message: string } | undefined {
  try {
    check();
    return undefined;
  } catch (error) {
    assert.ok(error instanceof ProxyError, String(error));
    return { reason: error.reason, message: error.message };
  }
}

describe('topic names (the Java proxy wording)', () => {
  const cases: [string | undefined, string | undefined][] = [
    [undefined, 'The specified topic is blank'],
    [' \t', 'The specified topic is blank'],
    ['t'.repeat(128), 'The specified topic is longer than topic max length 127.'],
    [
      'bad topic!',
      'The specified topic[bad topic!] contains illegal characters, allowing only ^[%|a-zA-Z0-9_-]+$',
    ],
    // Java's isBlank does not count a no-break space as whitespace, so it is an illegal character.
    ['\u00a0', 'The specified topic[\u00a0] contains illegal characters, allowing only ^[%|a-zA-Z0-9_-]+$'],
    ['TBW102', 'cannot access system topic: TBW102'],
    ['rmq_sys_anything', 'cannot access system topic: rmq_sys_anything'],
    ['t'.repeat(127), undefined],
    ['NS%orders_v2-EU|x', undefined],
  ];
  for (const [name, message] of cases) {
    test(`${JSON.stringify(name)?.slice(0, 30)} → ${message ?? 'accepted'}`, () => {
      const result = refusal(() => validateTopic(name));
      assert.deepEqual(result, message === undefined ? undefined : { reason: 'IllegalTopic', message });
    });
  }
});

describe('consumer group names (the Java proxy wording)', () => {
  const cases: [string | undefined, string | undefined][] = [
    ['', 'the specified group is blank'],
    ['g'.repeat(121), `the specified group[${'g'.repeat(121)}] is longer than group max length: 120.`],
    ['g/1', 'the specified group[g/1] contains illegal characters, allowing only ^[%|a-zA-Z0-9_-]+$'],
    ['CID_RMQ_SYS_TRANS', 'cannot use system consumer group: CID_RMQ_SYS_TRANS'],
    ['g'.repeat(120), undefined],
  ];
  for (const [name, message] of cases) {
    test(`${JSON.stringify(name)?.slice(0, 30)} → ${message ?? 'accepted'}`, () => {
      const result = refusal(() => validateConsumerGroup(name));
      assert.deepEqual(
        result,
        message === undefined ? undefined : { reason: 'IllegalConsumerGroup', message },
      );
    });
  }
});
