/**
 * Subscription-group administration against the real broker: UPDATE_AND_CREATE_SUBSCRIPTIONGROUP
 * creates and updates, GET_SUBSCRIPTIONGROUP_CONFIG reads back what was written, and
 * DELETE_SUBSCRIPTIONGROUP removes it. (Topic creation, update and deletion: route.test.ts.)
 *
 * With `autoCreateSubscriptionGroup=true` (the broker default, and the harness's), reading a group that
 * does not exist CREATES it with default settings, so SUBSCRIPTION_GROUP_NOT_EXIST (→ undefined) is never
 * seen there; a deleted group reads back as a fresh default one.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { RequestCode } from '../../proxy/src/remoting/codes.ts';
import type { RemotingConnection } from '../../proxy/src/remoting/connection.ts';
import {
  type GroupConfig,
  groupConfigRequest,
  parseGroupConfig,
} from '../../proxy/src/remoting/requests/admin.ts';
import {
  parseUpdateConsumerOffset,
  updateConsumerOffsetRequest,
} from '../../proxy/src/remoting/requests/offsets.ts';
import { connect, createGroup, rocketmq, uniqueName } from '../support/broker.ts';
import { deleteGroupRequest, parseAdminAck } from '../support/remoting/admin-requests.ts';

describe('subscription groups', () => {
  let broker: RemotingConnection;
  before(async () => {
    broker = await connect(rocketmq.brokerAddr);
  });

  const assertDefaults = (config: GroupConfig | undefined, group: string): void => {
    assert.ok(config, `no config for ${group}`);
    assert.equal(config.groupName, group);
    assert.equal(config.retryMaxTimes, 16);
    assert.equal(config.consumeMessageOrderly, false);
    assert.equal(config.consumeBroadcastEnable, true);
  };

  const readGroup = async (group: string) =>
    parseGroupConfig(await broker.request(groupConfigRequest(group)));

  test('create, read back, update and delete a group', async () => {
    const group = uniqueName('rmqp-it-admin-group');

    await createGroup(broker, {
      groupName: group,
      consumeMessageOrderly: true,
      retryMaxTimes: 3,
      consumeBroadcastEnable: false,
    });
    const created = await readGroup(group);
    assert.ok(created);
    assert.equal(created.groupName, group);
    assert.equal(created.consumeMessageOrderly, true);
    assert.equal(created.retryMaxTimes, 3);
    assert.equal(created.consumeBroadcastEnable, false);

    // UPDATE_AND_CREATE replaces the config of an existing group.
    await createGroup(broker, { groupName: group, retryMaxTimes: 7, consumeBroadcastEnable: true });
    const updated = await readGroup(group);
    assert.ok(updated);
    assert.equal(updated.consumeMessageOrderly, false);
    assert.equal(updated.retryMaxTimes, 7);
    assert.equal(updated.consumeBroadcastEnable, true);

    parseAdminAck(await broker.request(deleteGroupRequest(group)), RequestCode.DELETE_SUBSCRIPTIONGROUP);
    // Gone: the read auto-creates it afresh, with the defaults instead of our settings.
    assertDefaults(await readGroup(group), group);
  });

  test('reading a group that does not exist auto-creates it with default settings', async () => {
    const group = uniqueName('rmqp-it-admin-auto');
    assertDefaults(await readGroup(group), group);
    // It now exists: an offset update (which requires the group) is accepted.
    parseUpdateConsumerOffset(
      await broker.request(updateConsumerOffsetRequest({ topic: 'rmqp-normal', queueId: 0 }, group, 0)),
    );
  });

  test('the shared topology groups are there with their settings', async () => {
    // Read through the same parser the proxy uses for its group-config cache.
    const dlq = await readGroup('rmqp-group-dlq');
    assert.equal(dlq?.retryMaxTimes, 1);
    assert.equal(dlq?.consumeMessageOrderly, false);
    const fifo = await readGroup('rmqp-group-fifo');
    assert.equal(fifo?.consumeMessageOrderly, true);
  });
});
