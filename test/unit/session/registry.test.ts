import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ClientChannel, TransactionCheck } from '../../../proxy/src/session/client-channel.ts';
import type { ClientRegistration } from '../../../proxy/src/session/client-session.ts';
import { ClientRegistry, type RegistryEvent } from '../../../proxy/src/session/registry.ts';

function producer(clientId: string, topics: string[]): ClientRegistration {
  return {
    clientId,
    kind: 'PRODUCER',
    language: 'JAVA',
    producerGroups: topics,
    subscriptions: [],
    settings: { retryPolicy: { maxAttempts: 3 }, fifo: false, requestTimeoutMs: undefined },
  };
}

function consumer(clientId: string, group: string): ClientRegistration {
  return {
    clientId,
    kind: 'SIMPLE_CONSUMER',
    language: 'HTTP',
    producerGroups: [],
    consumerGroup: group,
    subscriptions: [{ topic: 'T', expression: '*' }],
    settings: { retryPolicy: { maxAttempts: 3 }, fifo: false, requestTimeoutMs: undefined },
  };
}

class FakeChannel implements ClientChannel {
  open = true;
  readonly sent: TransactionCheck[] = [];
  isOpen(): boolean {
    return this.open;
  }
  checkTransaction(check: TransactionCheck): boolean {
    if (!this.open) return false;
    this.sent.push(check);
    return true;
  }
}

describe('ClientRegistry', () => {
  test('clients expire after expireMs without a heartbeat; touch keeps them', () => {
    let now = 0;
    const registry = new ClientRegistry({ expireMs: 120_000, clock: () => now });
    const events: RegistryEvent[] = [];
    registry.onChange((event) => events.push(event));
    registry.register(producer('p1', ['T']));
    registry.register(consumer('c1', 'G'));
    now = 100_000;
    assert.equal(registry.touch('p1'), true);
    assert.equal(registry.touch('nobody'), false);
    now = 120_000;
    assert.deepEqual(
      registry.sweep().map((session) => session.clientId),
      ['c1'],
    );
    assert.equal(registry.get('c1'), undefined);
    assert.ok(registry.get('p1'));
    now = 219_999;
    assert.deepEqual(registry.sweep(), []);
    now = 220_000;
    assert.deepEqual(
      registry.sweep().map((session) => session.clientId),
      ['p1'],
    );
    assert.deepEqual(
      events
        .filter((event) => event.type === 'removed')
        .map((event) => event.type === 'removed' && event.reason),
      ['expired', 'expired'],
    );
  });

  test('groups: producer groups are topics; consumer groups listed once', () => {
    const registry = new ClientRegistry();
    registry.register(producer('p1', ['T1', 'T2']));
    registry.register(producer('p2', ['T2']));
    registry.register(consumer('c1', 'G'));
    registry.register(consumer('c2', 'G'));
    assert.deepEqual(registry.producerGroups(), ['T1', 'T2']);
    assert.deepEqual(
      registry.consumerGroups().map((membership) => membership.group),
      ['G'],
    );
    assert.deepEqual(
      registry.producersOf('T2').map((session) => session.clientId),
      ['p1', 'p2'],
    );
    registry.remove('p1');
    assert.deepEqual(registry.producerGroups(), ['T2']);
  });

  test('re-sent settings replace the registration and keep the bound stream', () => {
    const registry = new ClientRegistry();
    const channel = new FakeChannel();
    registry.register(producer('p1', ['T1']), channel);
    registry.register(producer('p1', ['T3']));
    assert.deepEqual(registry.get('p1')?.producerGroups, ['T3']);
    assert.equal(registry.get('p1')?.channel, channel);
  });

  test('channelFor picks open streams of the producer group round-robin', () => {
    const registry = new ClientRegistry();
    const a = new FakeChannel();
    const b = new FakeChannel();
    const closed = new FakeChannel();
    closed.open = false;
    registry.register(producer('a', ['TX']), a);
    registry.register(producer('b', ['TX']), b);
    registry.register(producer('c', ['TX']), closed);
    registry.register(producer('d', ['OTHER']), new FakeChannel());
    const picks = [1, 2, 3, 4].map(() => registry.channelFor('TX')?.clientId);
    assert.deepEqual(picks, ['a', 'b', 'a', 'b']);
    assert.equal(registry.channelFor('NONE'), undefined);
    registry.detachChannel('a', a);
    registry.detachChannel('b', new FakeChannel()); // not b's stream: ignored
    assert.equal(registry.channelFor('TX')?.clientId, 'b');
  });
});
