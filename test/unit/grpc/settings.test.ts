import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { v2 } from '../../../proxy/src/grpc/protocol.ts';
import {
  clientKindOf,
  consumerSettingsReply,
  durationOf,
  millisOf,
  producerSettingsReply,
  subscriptionsOf,
} from '../../../proxy/src/grpc/settings.ts';
import type { GroupConfig } from '../../../proxy/src/remoting/requests/admin.ts';
import {
  consumerRetryPolicy,
  DEFAULT_CUSTOMIZED_DELAYS_MS,
} from '../../../proxy/src/session/retry-policy.ts';
import {
  grantConsumerSettings,
  grantProducerSettings,
  type SettingsPolicy,
} from '../../../proxy/src/session/settings.ts';

const POLICY: SettingsPolicy = {
  producer: { maxAttempts: 3, backoffInitialMs: 10, backoffMaxMs: 1000, backoffMultiplier: 2 },
  maxBodyBytes: 4 * 1024 * 1024,
  receiveBatchSize: 32,
  longPollingTimeoutMs: 20_000,
};

const group = (overrides: Partial<GroupConfig> = {}): GroupConfig => ({
  groupName: 'G',
  consumeMessageOrderly: false,
  retryMaxTimes: 16,
  consumeBroadcastEnable: false,
  ...overrides,
});

describe('Settings reply (granted by the session core, written by the gRPC ingress)', () => {
  test('producer: client values echoed, exponential backoff, body cap, type validation, metric off', () => {
    const client = {
      clientType: v2.ClientType.PRODUCER,
      accessPoint: { scheme: v2.AddressScheme.IPv4, addresses: [{ host: '127.0.0.1', port: 8081 }] },
      requestTimeout: { seconds: 3, nanos: 0 },
      publishing: { topics: [{ name: 'T' }], validateMessageType: false },
      userAgent: { language: v2.Language.NODE_JS, version: '1.0.8' },
    };
    const reply = producerSettingsReply(client, grantProducerSettings(POLICY, undefined));
    assert.deepEqual(reply.backoffPolicy, {
      maxAttempts: 3,
      exponentialBackoff: {
        initial: { seconds: 0, nanos: 10_000_000 },
        max: { seconds: 1, nanos: 0 },
        multiplier: 2,
      },
    });
    assert.equal(reply.publishing?.maxBodySize, 4 * 1024 * 1024);
    assert.equal(reply.publishing?.validateMessageType, true);
    assert.deepEqual(reply.publishing?.topics, [{ name: 'T' }]);
    assert.deepEqual(reply.requestTimeout, client.requestTimeout);
    assert.deepEqual(reply.accessPoint, client.accessPoint);
    assert.deepEqual(reply.userAgent, client.userAgent);
    assert.deepEqual(reply.metric, { on: false });
    // The reply must survive the wire: encode and decode like grpc-js does.
    const decoded = v2.Settings.decode(v2.Settings.encode(reply).finish());
    assert.equal(decoded.backoffPolicy?.exponentialBackoff?.multiplier, 2);
  });

  test('consumer of an orderly group: fifo, batch size, long polling, 17 attempts with the default schedule', () => {
    const client = {
      clientType: v2.ClientType.SIMPLE_CONSUMER,
      subscription: {
        group: { name: 'G' },
        subscriptions: [
          { topic: { name: 'T' }, expression: { type: v2.FilterType.TAG, expression: 'a||b' } },
        ],
        longPollingTimeout: { seconds: 30, nanos: 0 },
      },
    };
    const reply = consumerSettingsReply(
      client,
      grantConsumerSettings(group({ consumeMessageOrderly: true }), POLICY, undefined),
    );
    assert.equal(reply.subscription?.fifo, true);
    assert.equal(reply.subscription?.receiveBatchSize, 32);
    assert.equal(millisOf(reply.subscription?.longPollingTimeout), 20_000);
    assert.deepEqual(reply.subscription?.group, { name: 'G' });
    assert.equal(reply.backoffPolicy?.maxAttempts, 17);
    assert.deepEqual(
      reply.backoffPolicy?.customizedBackoff?.next?.map(millisOf),
      DEFAULT_CUSTOMIZED_DELAYS_MS,
    );
    assert.deepEqual(subscriptionsOf(client), [{ topic: 'T', expression: 'a||b', expressionType: 'TAG' }]);
  });

  test('consumer: unknown group gets defaults (not fifo); an EXPONENTIAL group policy is passed on', () => {
    assert.equal(
      consumerSettingsReply({ subscription: {} }, grantConsumerSettings(undefined, POLICY, undefined))
        .subscription?.fifo,
      false,
    );
    const policy = consumerRetryPolicy(
      group({
        retryMaxTimes: 3,
        groupRetryPolicy: {
          type: 'EXPONENTIAL',
          exponentialRetryPolicy: { initial: 1000, max: 60_000, multiplier: 3 },
        },
      }),
    );
    assert.deepEqual(policy, {
      maxAttempts: 4,
      exponential: { initialMs: 1000, maxMs: 60_000, multiplier: 3 },
    });
    const customized = consumerRetryPolicy(
      group({ groupRetryPolicy: { type: 'CUSTOMIZED', customizedRetryPolicy: { next: [100, 200] } } }),
    );
    assert.deepEqual(customized, { maxAttempts: 17, customizedMs: [100, 200] });
  });

  test('durations and client types', () => {
    assert.deepEqual(durationOf(1500), { seconds: 1, nanos: 500_000_000 });
    assert.equal(millisOf(durationOf(123_456)), 123_456);
    assert.equal(millisOf(undefined), undefined);
    assert.equal(clientKindOf(v2.ClientType.PUSH_CONSUMER), 'PUSH_CONSUMER');
    assert.equal(clientKindOf(v2.ClientType.CLIENT_TYPE_UNSPECIFIED), undefined);
    assert.equal(clientKindOf(99), undefined);
  });
});
