/**
 * Differential checks: invalid requests must get the same apache.rocketmq.v2 Code and gRPC status as
 * from the Apache Java proxy, and a message that is the Java proxy's or contains its key phrase (users
 * match on those words). The Java proxy's answers are stored in expectations/invalid-requests.json
 * (regenerate against the Java proxy with `RMQP_RECORD_EXPECTATIONS=1 make test-e2e`); when the endpoint
 * under test is another proxy and the Java proxy runs too, its live answers are compared as well.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { before, describe, test } from 'node:test';
import { JAVA_CLIENT_VERSION } from '../harness/java-client.ts';
import { ROCKETMQ_VERSION } from '../harness/versions.ts';
import { javaKeyPhrase, type Observation, observeAll, PROBES } from './support/invalid-requests.ts';
import { APACHE_JAVA, target } from './support/target.ts';

const EXPECTATIONS = resolve(import.meta.dirname, 'expectations/invalid-requests.json');

interface Expectation extends Observation {
  why: string;
}

interface ExpectationTable {
  generatedWith: string;
  probes: Record<string, Expectation>;
}

const under = target();
const recording = process.env['RMQP_RECORD_EXPECTATIONS'] === '1';

function readTable(): ExpectationTable {
  return JSON.parse(readFileSync(EXPECTATIONS, 'utf8')) as ExpectationTable;
}

const comparable = (observation: Observation): Pick<Observation, 'grpcStatus' | 'code'> => ({
  grpcStatus: observation.grpcStatus,
  code: observation.code,
});

describe(`invalid requests to ${under.endpoint} (${under.kind}) get the Java proxy's Codes`, () => {
  let observed: Record<string, Observation> = {};
  let table: ExpectationTable;

  before(async () => {
    observed = await observeAll(under.endpoint);
    if (recording) {
      assert.equal(under.kind, APACHE_JAVA, 'expectations are recorded against the Apache Java proxy only');
      const probes: Record<string, Expectation> = {};
      for (const probe of PROBES) {
        const observation = observed[probe.name];
        assert.ok(observation);
        probes[probe.name] = { why: probe.why, ...observation };
      }
      const recorded: ExpectationTable = {
        generatedWith: `Apache RocketMQ proxy ${ROCKETMQ_VERSION} (cluster mode, enableTopicMessageTypeCheck=true); probes sent by test/e2e/support/invalid-requests.ts (Java client ${JAVA_CLIENT_VERSION} headers)`,
        probes,
      };
      writeFileSync(EXPECTATIONS, `${JSON.stringify(recorded, null, 2)}\n`);
    }
    table = readTable();
  });

  test('the table covers exactly the probes', () => {
    assert.deepEqual(Object.keys(table.probes).sort(), PROBES.map((probe) => probe.name).sort());
  });

  test('the valid baseline succeeds, so the invalid probes differ from it in one thing only', () => {
    assert.deepEqual(
      comparable(observed['valid normal message'] ?? { grpcStatus: '', code: '', message: '' }),
      {
        grpcStatus: 'OK',
        code: 'OK',
      },
    );
  });

  for (const probe of PROBES) {
    test(`${probe.name}: ${probe.why}`, () => {
      const expected = table.probes[probe.name];
      const actual = observed[probe.name];
      assert.ok(expected, `no expectation recorded for "${probe.name}"`);
      assert.ok(actual);
      assert.deepEqual(
        comparable(actual),
        comparable(expected),
        `Java proxy said ${expected.code} (${expected.message}); got ${actual.code} (${actual.message})`,
      );
      if (actual.message !== expected.message) {
        const phrase = probe.keyPhrase ?? javaKeyPhrase(expected.message);
        assert.ok(
          actual.message.includes(phrase),
          `the message must contain the Java proxy's words ${JSON.stringify(phrase)}; got ${JSON.stringify(actual.message)}`,
        );
      }
    });
  }

  test('the key phrase of a Java message drops only the exception class, the client frame and the FAQ link', () => {
    assert.equal(
      javaKeyPhrase('org.apache.rocketmq.proxy.common.ProxyException: TopicMessageType validate failed'),
      'TopicMessageType validate failed',
    );
    assert.equal(
      javaKeyPhrase(
        'CODE: 17  DESC: No topic route info for T\nFor more information, please visit the url, https://rocketmq.apache.org/x',
      ),
      'No topic route info for T',
    );
    assert.equal(javaKeyPhrase('cannot access system topic'), 'cannot access system topic');
  });

  test('live: the running Java proxy answers as the table says', {
    skip: !under.javaProxyEndpoint,
  }, async () => {
    const reference = under.javaProxyEndpoint;
    assert.ok(reference);
    const live = reference === under.endpoint ? observed : await observeAll(reference);
    const mismatches = PROBES.filter((probe) => {
      const expected = table.probes[probe.name];
      const actual = live[probe.name];
      return (
        !expected || !actual || expected.code !== actual.code || expected.grpcStatus !== actual.grpcStatus
      );
    }).map(
      (probe) => `${probe.name}: table ${table.probes[probe.name]?.code}, live ${live[probe.name]?.code}`,
    );
    assert.deepEqual(mismatches, []);
  });
});
