import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { SettingsNudge } from '../../../proxy/src/grpc/settings-nudge.ts';
import {
  type OutboundTelemetryCommand,
  StreamTelemetryChannel,
} from '../../../proxy/src/grpc/telemetry-stream.ts';
import { ClientRegistry } from '../../../proxy/src/session/registry.ts';

/** A Telemetry stream's writable half that records what the proxy wrote after the first Settings reply. */
class RecordingWriter {
  readonly cancelled = false;
  readonly writable = true;
  readonly sent: OutboundTelemetryCommand[] = [];
  write(command: OutboundTelemetryCommand): boolean {
    this.sent.push(command);
    return true;
  }
}

function setup(now: () => number) {
  const registry = new ClientRegistry({ clock: now });
  const writer = new RecordingWriter();
  const stream = new StreamTelemetryChannel(writer);
  stream.sendSettings({ requestTimeout: { seconds: 3 } });
  writer.sent.length = 0;
  registry.register(
    {
      clientId: 'c1',
      kind: 'PRODUCER',
      language: 'HTTP',
      producerGroups: ['T1', 'T2'],
      subscriptions: [],
      settings: { retryPolicy: { maxAttempts: 3 }, fifo: false, requestTimeoutMs: 3000 },
    },
    stream,
  );
  return { registry, channel: writer };
}

describe('SettingsNudge', () => {
  test('re-sends the client settings at every delay after a route answer, then stops', (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] });
    const { registry, channel } = setup(() => 0);
    const nudge = new SettingsNudge({ registry, clock: () => 0, delaysMs: [50, 1000] });
    nudge.afterRoute('c1');
    t.mock.timers.tick(49);
    assert.equal(channel.sent.length, 0);
    t.mock.timers.tick(1);
    assert.equal(channel.sent.length, 1);
    assert.deepEqual(channel.sent[0]?.settings, { requestTimeout: { seconds: 3 } });
    assert.equal(channel.sent[0]?.status?.code, 20000);
    t.mock.timers.tick(5000);
    assert.equal(channel.sent.length, 2);
  });

  test('a later route restarts the schedule instead of stacking copies', (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] });
    const { registry, channel } = setup(() => 0);
    const nudge = new SettingsNudge({ registry, clock: () => 0, delaysMs: [50, 1000] });
    nudge.afterRoute('c1');
    t.mock.timers.tick(40);
    nudge.afterRoute('c1');
    t.mock.timers.tick(5000);
    assert.equal(channel.sent.length, 2);
  });

  test('clients past the start-up window, unknown clients and closed nudges get nothing', (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] });
    let now = 0;
    const { registry, channel } = setup(() => now);
    const nudge = new SettingsNudge({ registry, clock: () => now, windowMs: 30_000, delaysMs: [50] });
    now = 30_001;
    nudge.afterRoute('c1');
    nudge.afterRoute('nobody');
    t.mock.timers.tick(100);
    assert.equal(channel.sent.length, 0);
    now = 10;
    nudge.afterRoute('c1');
    nudge.close();
    t.mock.timers.tick(100);
    assert.equal(channel.sent.length, 0);
  });
});
