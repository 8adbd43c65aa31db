import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { acceptedMessageKinds, type TopicType } from '../../../proxy/src/cluster/message-type.ts';
import { publicQueues } from '../../../proxy/src/cluster/route-queues.ts';
import { addressScheme, advertisedEndpoints, parseAuthority } from '../../../proxy/src/grpc/endpoints.ts';
import { v2 } from '../../../proxy/src/grpc/protocol.ts';
import { grpcPermission, messageTypesOf, routeMessageQueues } from '../../../proxy/src/grpc/route-service.ts';
import type { TopicRoute } from '../../../proxy/src/remoting/requests/route.ts';
import { permissionOf } from '../../../proxy/src/routing/route-queries.ts';

const acceptMessageTypes = (type: TopicType) => messageTypesOf(acceptedMessageKinds(type));
const options = (advertised?: string) => ({ advertised, listenPort: () => 8081 });
const requested = { scheme: v2.AddressScheme.IPv4, addresses: [{ host: '192.168.1.9', port: 9999 }] };

describe('route endpoints point at this proxy', () => {
  test('advertise.address wins over everything', () => {
    assert.deepEqual(advertisedEndpoints(options('proxy.example.com:443'), '127.0.0.1:8081', requested), {
      scheme: v2.AddressScheme.DOMAIN_NAME,
      addresses: [{ host: 'proxy.example.com', port: 443 }],
    });
  });

  test('unset: the access point the client put in the request, host and port as given', () => {
    // The Java client sends a placeholder :authority ("IPAuthority"), so the request wins over it.
    assert.deepEqual(advertisedEndpoints(options(), 'IPAuthority:20489', requested), requested);
    assert.deepEqual(
      advertisedEndpoints(options(), undefined, {
        scheme: v2.AddressScheme.IPv6,
        addresses: [{ host: '::1', port: 0 }],
      }),
      { scheme: v2.AddressScheme.IPv6, addresses: [{ host: '::1', port: 8081 }] },
    );
  });

  test('without request endpoints: the address the client dialled (:authority)', () => {
    const none = { addresses: [{ host: ' ', port: 1 }] };
    assert.deepEqual(advertisedEndpoints(options(), '10.1.2.3:30081', none), {
      scheme: v2.AddressScheme.IPv4,
      addresses: [{ host: '10.1.2.3', port: 30081 }],
    });
    assert.deepEqual(advertisedEndpoints(options(), '[::1]:8081', undefined), {
      scheme: v2.AddressScheme.IPv6,
      addresses: [{ host: '::1', port: 8081 }],
    });
    assert.deepEqual(advertisedEndpoints(options(), 'mq.local', undefined).addresses, [
      { host: 'mq.local', port: 8081 },
    ]);
    assert.equal(parseAuthority('', 1), undefined);
    assert.equal(parseAuthority('a b:1', 1), undefined);
  });

  test('address schemes', () => {
    assert.equal(addressScheme('127.0.0.1'), v2.AddressScheme.IPv4);
    assert.equal(addressScheme('fe80::1'), v2.AddressScheme.IPv6);
    assert.equal(addressScheme('localhost'), v2.AddressScheme.DOMAIN_NAME);
  });

  test('every queue of every broker and replica carries the proxy endpoints and accepted types', () => {
    const route: TopicRoute = {
      queueDatas: [{ brokerName: 'broker-a', readQueueNums: 2, writeQueueNums: 2, perm: 6, topicSysFlag: 0 }],
      brokerDatas: [
        {
          cluster: 'C',
          brokerName: 'broker-a',
          brokerAddrs: new Map([
            [0, '10.0.0.1:10911'],
            [1, '10.0.0.2:10911'],
          ]),
          enableActingMaster: false,
        },
      ],
    };
    const endpoints = advertisedEndpoints(options(), '127.0.0.1:8081', undefined);
    const queues = routeMessageQueues(
      { name: 'T' },
      publicQueues(route),
      endpoints,
      acceptMessageTypes('FIFO'),
    );
    assert.equal(queues.length, 4);
    for (const queue of queues) {
      assert.deepEqual(queue.broker?.endpoints, {
        scheme: v2.AddressScheme.IPv4,
        addresses: [{ host: '127.0.0.1', port: 8081 }],
      });
      assert.deepEqual(queue.acceptMessageTypes, [v2.MessageType.FIFO]);
      assert.equal(queue.permission, v2.Permission.READ_WRITE);
      assert.deepEqual(queue.topic, { name: 'T' });
    }
    assert.deepEqual(
      queues.map((q) => `${q.broker?.id}/${q.id}`),
      ['0/0', '0/1', '1/0', '1/1'],
    );
  });

  test('accepted message types by topic type; permissions from perm bits', () => {
    const T = v2.MessageType;
    assert.deepEqual(acceptMessageTypes('MIXED'), [T.NORMAL, T.FIFO, T.DELAY, T.TRANSACTION]);
    assert.deepEqual(acceptMessageTypes('TRANSACTION'), [T.TRANSACTION]);
    assert.deepEqual(acceptMessageTypes('UNSPECIFIED'), [T.MESSAGE_TYPE_UNSPECIFIED]);
    assert.equal(grpcPermission(permissionOf(4)), v2.Permission.READ);
    assert.equal(grpcPermission(permissionOf(2)), v2.Permission.WRITE);
    assert.equal(grpcPermission(permissionOf(7)), v2.Permission.READ_WRITE);
    assert.equal(grpcPermission(permissionOf(1)), v2.Permission.NONE);
  });
});
