import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, test } from 'node:test';
import { Metadata } from '@grpc/grpc-js';
import { ProxyError } from '../../../proxy/src/core/errors.ts';
import { callContext } from '../../../proxy/src/grpc/envelope.ts';
import {
  INTERNAL_HEADERS,
  parseAuthorization,
  parseMqDateTime,
  parseRequestMetadata,
  requireClientId,
  stripInternalHeaders,
} from '../../../proxy/src/grpc/metadata.ts';
import { Code, statusFromError } from '../../../proxy/src/grpc/status.ts';

function metadata(headers: Record<string, string>): Metadata {
  const result = new Metadata();
  for (const [key, value] of Object.entries(headers)) result.set(key, value);
  return result;
}

const dateTime = '20261129T163000Z';
const signature = (secret: string) => createHmac('sha1', secret).update(dateTime).digest('hex');

/** The headers each official client sends (test-peers.md §2e). */
const CLIENTS: Record<string, Record<string, string>> = {
  'Java 5.2.x': {
    'x-mq-language': 'JAVA',
    'x-mq-protocol': 'v2',
    'x-mq-client-version': '5.2.2',
    'x-mq-client-id': 'mbp@78774@2@3549a8wsr',
    'x-mq-request-id': 'c0a80001-0000-0000-0000-000000000001',
    'x-mq-date-time': dateTime, // local time with a literal Z
    'x-mq-namespace': '',
  },
  'Go 5.1.4': {
    'x-mq-language': 'GO',
    'x-mq-protocol': 'v2',
    'x-mq-client-version': '5.1.4',
    'x-mq-client-id': 'host@1@0@abc',
    'x-mq-request-id': '3f0e7a3c-6c1f-4f0d-9d7e-3a6b2b9f4c11',
    'x-mq-date-time': dateTime,
    'x-mq-namespace': '',
    authorization: `MQv2-HMAC-SHA1 Credential=//Rocketmq, SignedHeaders=x-mq-date-time, Signature=${signature('')}`,
  },
  'Node 1.0.8': {
    'x-mq-language': 'HTTP',
    'x-mq-protocol': 'v2',
    'x-mq-client-version': '1.0.8',
    'x-mq-client-id': 'vm@24476@0@mww82a9w',
    'x-mq-request-id': '0e5d9d68-1f7b-4a0e-a1b3-9f8a7c6d5e4f',
    'x-mq-date-time': dateTime, // UTC; no namespace header when empty
  },
  'Python 5.1.x': {
    'x-mq-language': 'PYTHON',
    'x-mq-protocol': 'GRPC_V2',
    'x-mq-client-version': '5.0.1',
    'x-mq-client-id': 'py@9@1@x',
    'x-mq-request-id': 'a1b2',
    'x-mq-date-time': dateTime,
    'x-mq-namespace': '',
    authorization: `MQv2-HMAC-SHA1 Credential=/, SignedHeaders=x-mq-date-time, Signature=${signature('')}`,
  },
};

describe('headers of every official client parse without error', () => {
  for (const [client, headers] of Object.entries(CLIENTS)) {
    test(client, () => {
      const parsed = parseRequestMetadata(metadata(headers));
      assert.equal(parsed.clientId, headers['x-mq-client-id']);
      assert.equal(requireClientId(parsed), headers['x-mq-client-id']);
      assert.equal(parsed.namespace, '');
      assert.equal(parsed.dateTime, dateTime);
      assert.equal(parsed.protocol, headers['x-mq-protocol']);
      assert.equal(parsed.clientVersion, headers['x-mq-client-version']);
      assert.equal(parsed.requestId, headers['x-mq-request-id']);
      assert.notEqual(parsed.authorization.kind, 'malformed');
    });
  }
});

describe('x-mq-client-id', () => {
  test('missing or blank → CLIENT_ID_REQUIRED with the Java message', () => {
    for (const headers of [{}, { 'x-mq-client-id': '' }, { 'x-mq-client-id': '   ' }] as Record<
      string,
      string
    >[]) {
      const parsed = parseRequestMetadata(metadata(headers));
      assert.equal(parsed.clientId, undefined);
      assert.throws(
        () => requireClientId(parsed),
        (error: unknown) =>
          error instanceof ProxyError &&
          error.reason === 'ClientIdRequired' &&
          statusFromError(error).code === Code.CLIENT_ID_REQUIRED &&
          statusFromError(error).code === 40017 &&
          error.message === 'client id cannot be empty',
      );
    }
  });

  test('is trimmed', () => {
    assert.equal(parseRequestMetadata(metadata({ 'x-mq-client-id': ' id-1 ' })).clientId, 'id-1');
  });
});

describe('x-mq-language', () => {
  test('known Remoting names map to themselves, case-insensitively', () => {
    for (const [sent, expected] of [
      ['JAVA', 'JAVA'],
      ['GO', 'GO'],
      ['HTTP', 'HTTP'],
      ['PYTHON', 'PYTHON'],
      ['DOTNET', 'DOTNET'],
      ['cpp', 'CPP'],
      ['RUST', 'RUST'],
    ] as const) {
      const parsed = parseRequestMetadata(metadata({ 'x-mq-language': sent }));
      assert.equal(parsed.language, sent);
      assert.equal(parsed.remotingLanguage, expected);
    }
  });

  test('unknown or missing values are accepted and registered as OTHER (Java would fail the call)', () => {
    for (const headers of [{ 'x-mq-language': 'KOTLIN' }, { 'x-mq-language': 'DOT_NET' }, {}] as Record<
      string,
      string
    >[]) {
      const parsed = parseRequestMetadata(metadata(headers));
      assert.equal(parsed.remotingLanguage, 'OTHER');
    }
  });
});

describe('x-mq-protocol', () => {
  test('v2 and GRPC_V2 are both kept as sent; Rust/C++ send x-mq-protocol-version instead', () => {
    assert.equal(parseRequestMetadata(metadata({ 'x-mq-protocol': 'v2' })).protocol, 'v2');
    assert.equal(parseRequestMetadata(metadata({ 'x-mq-protocol': 'GRPC_V2' })).protocol, 'GRPC_V2');
    assert.equal(parseRequestMetadata(metadata({ 'x-mq-protocol-version': 'v2' })).protocol, 'v2');
    assert.equal(parseRequestMetadata(metadata({})).protocol, undefined);
  });
});

describe('x-mq-namespace', () => {
  test('absent and empty are both the empty namespace', () => {
    assert.equal(parseRequestMetadata(metadata({})).namespace, '');
    assert.equal(parseRequestMetadata(metadata({ 'x-mq-namespace': '' })).namespace, '');
    assert.equal(parseRequestMetadata(metadata({ 'x-mq-namespace': 'ns1' })).namespace, 'ns1');
  });
});

describe('x-mq-date-time', () => {
  test('the compact form reads as UTC', () => {
    assert.equal(parseMqDateTime('20261129T163000Z')?.toISOString(), '2026-11-29T16:30:00.000Z');
  });

  test('local time with a literal Z (Java, Go, Python) still parses; the offset cannot be known', () => {
    // A client at UTC+8 sends 8 hours "ahead"; the header is accepted and read at face value.
    assert.equal(parseMqDateTime('20261130T003000Z')?.toISOString(), '2026-11-30T00:30:00.000Z');
    const parsed = parseRequestMetadata(
      metadata({ 'x-mq-date-time': '20261130T003000Z', 'x-mq-client-id': 'c' }),
    );
    assert.equal(parsed.dateTime, '20261130T003000Z', 'kept verbatim: it is the signed string');
  });

  test('RFC 3339 (Rust) parses with its offset', () => {
    assert.equal(parseMqDateTime('2026-11-30T00:30:00+08:00')?.toISOString(), '2026-11-29T16:30:00.000Z');
    assert.equal(parseMqDateTime('2026-11-29T16:30:00.123Z')?.toISOString(), '2026-11-29T16:30:00.123Z');
  });

  test('garbage and impossible dates give undefined, never an exception', () => {
    for (const text of [
      '',
      'yesterday',
      '20261329T000000Z',
      '20260230T000000Z',
      '20261129T250000Z',
      '2026-11-29',
    ]) {
      assert.equal(parseMqDateTime(text), undefined, text);
    }
    assert.equal(parseRequestMetadata(metadata({ 'x-mq-date-time': 'yesterday' })).dateTime, 'yesterday');
  });
});

describe('authorization', () => {
  test('absent or empty → none', () => {
    assert.deepEqual(parseAuthorization(undefined), { kind: 'none' });
    assert.deepEqual(parseAuthorization(''), { kind: 'none' });
    assert.deepEqual(parseRequestMetadata(metadata({ authorization: '' })).authorization, { kind: 'none' });
  });

  test('Java form with upper-case hex', () => {
    const hex = signature('secret').toUpperCase();
    const parsed = parseAuthorization(
      `MQv2-HMAC-SHA1 Credential=alice, SignedHeaders=x-mq-date-time, Signature=${hex}`,
    );
    assert.deepEqual(parsed, {
      kind: 'credential',
      algorithm: 'MQv2-HMAC-SHA1',
      accessKey: 'alice',
      signature: hex,
      signedHeaders: ['x-mq-date-time'],
    });
  });

  test('Go form `Credential=AK//Rocketmq`: the access key is the part before the first slash', () => {
    const parsed = parseAuthorization(
      `MQv2-HMAC-SHA1 Credential=AK//Rocketmq, SignedHeaders=x-mq-date-time, Signature=${signature('s')}`,
    );
    assert.equal(parsed.kind, 'credential');
    assert.equal(parsed.kind === 'credential' && parsed.accessKey, 'AK');
    assert.equal(parsed.kind === 'credential' && parsed.signature, signature('s'));
  });

  test('empty access key (Go and Python without credentials) is a credential with an empty key', () => {
    const parsed = parseAuthorization(
      'MQv2-HMAC-SHA1 Credential=//Rocketmq, SignedHeaders=x-mq-date-time, Signature=',
    );
    assert.equal(parsed.kind === 'credential' && parsed.accessKey, '');
    assert.equal(parsed.kind === 'credential' && parsed.signature, undefined);
  });

  test('malformed values are reported, not thrown', () => {
    assert.equal(parseAuthorization('Bearer').kind, 'malformed');
    assert.equal(parseAuthorization('MQv2-HMAC-SHA1 Credential').kind, 'malformed');
    assert.equal(parseAuthorization('MQv2-HMAC-SHA1 Signature=AB').kind, 'malformed');
  });
});

describe('internal headers', () => {
  test('client-sent copies of proxy-internal headers are stripped, others kept', () => {
    const md = metadata({
      'x-mq-client-id': 'c1',
      'x-mq-authorization-ak': 'admin',
      'x-mq-channel-id': '42',
      'rpc-remote-address': '6.6.6.6:1',
      'rpc-local-address': '7.7.7.7:2',
      proxy_protocol_addr: '8.8.8.8',
      proxy_protocol_tlv_0x01: 'spoof',
    });
    const removed = stripInternalHeaders(md);
    assert.deepEqual(
      removed.sort(),
      [
        'proxy_protocol_addr',
        'proxy_protocol_tlv_0x01',
        'rpc-local-address',
        'rpc-remote-address',
        'x-mq-authorization-ak',
        'x-mq-channel-id',
      ].sort(),
    );
    assert.deepEqual(Object.keys(md.getMap()), ['x-mq-client-id']);
  });

  test('the list covers every server-internal key of proxy-grpc.md §3.1', () => {
    for (const key of [
      'x-mq-authorization-ak',
      'x-mq-channel-id',
      'rpc-remote-address',
      'rpc-local-address',
    ]) {
      assert.ok(INTERNAL_HEADERS.includes(key), key);
    }
  });
});

describe('robustness', () => {
  test('binary-valued and repeated headers do not throw; the first value wins', () => {
    const md = new Metadata();
    md.add('x-mq-client-id', 'first');
    md.add('x-mq-client-id', 'second');
    md.set('x-mq-client-id-bin', Buffer.from([0xff, 0x00]));
    assert.equal(parseRequestMetadata(md).clientId, 'first');
  });
});

describe('the core request context of a gRPC call', () => {
  const call = (headers: Record<string, string>, deadline: Date | number) => ({
    metadata: metadata(headers),
    getHost: () => 'proxy.example:8081',
    getPeer: () => '10.1.2.3:50000',
    getDeadline: () => deadline,
  });

  test('carries the client, the protocol, the peer, the deadline and the trace context', () => {
    const context = callContext(
      call(
        {
          'x-mq-client-id': 'c-1',
          'x-mq-language': 'java',
          'x-mq-client-version': '5.2.2',
          'x-mq-namespace': 'ns1',
          traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
        },
        new Date(1_800_000_000_000),
      ),
    );
    assert.equal(context.protocol, 'grpc');
    assert.equal(context.clientId, 'c-1');
    assert.equal(context.remoteAddress, '10.1.2.3:50000');
    assert.equal(context.language, 'JAVA');
    assert.equal(context.clientVersion, '5.2.2');
    assert.equal(context.namespace, 'ns1');
    assert.equal(context.deadline, 1_800_000_000_000);
    assert.equal(context.traceContext, '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01');
    assert.equal(context.authority, 'proxy.example:8081');
  });

  test('no deadline is Infinity; no trace context is undefined; no client id is CLIENT_ID_REQUIRED', () => {
    const context = callContext(call({ 'x-mq-client-id': 'c-2' }, Number.POSITIVE_INFINITY));
    assert.equal(context.deadline, Number.POSITIVE_INFINITY);
    assert.equal(context.traceContext, undefined);
    assert.equal(context.language, 'OTHER');
    assert.throws(
      () => callContext(call({}, Number.POSITIVE_INFINITY)),
      (error: unknown) => statusFromError(error).code === Code.CLIENT_ID_REQUIRED,
    );
  });
});
