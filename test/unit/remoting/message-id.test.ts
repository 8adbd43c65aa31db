import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { RemotingError } from '../../../proxy/src/remoting/errors.ts';
import {
  createUniqueIdGenerator,
  decodeOffsetMessageId,
  encodeOffsetMessageId,
  formatIp,
  formatSocketAddress,
  hostIpBytes,
  nextUniqueId,
  parseIp,
  parseSocketAddress,
} from '../../../proxy/src/remoting/message/message-id.ts';

function badPayload(fn: () => unknown, message: RegExp): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof RemotingError, String(error));
    assert.equal(error.code, 'RMQ_BAD_PAYLOAD');
    assert.match(error.message, message);
    return true;
  });
}

/** Runs `fn` with the process in another time zone (Node re-reads TZ when it is assigned). */
function inTimeZone<T>(zone: string, fn: () => T): T {
  const saved = process.env.TZ;
  process.env.TZ = zone;
  try {
    return fn();
  } finally {
    if (saved === undefined) delete process.env.TZ;
    else process.env.TZ = saved;
  }
}

describe('offset message id (§4.6)', () => {
  test('§4.5 vector: store 10.0.0.5:10911, commit-log offset 4096', () => {
    const id = encodeOffsetMessageId(parseIp('10.0.0.5'), 10911, 4096);
    assert.equal(id, '0A00000500002A9F0000000000001000');
    const decoded = decodeOffsetMessageId(id);
    assert.equal(decoded.storeHost, '10.0.0.5:10911');
    assert.equal(decoded.port, 10911);
    assert.equal(decoded.commitLogOffset, 4096);
    assert.deepEqual([...decoded.ip], [10, 0, 0, 5]);
  });

  test('lowercase ids decode too; offsets above 2^32 use both words', () => {
    const id = encodeOffsetMessageId(parseIp('127.0.0.1'), 65535, 2 ** 40 + 7);
    assert.equal(id, '7F0000010000FFFF0000010000000007');
    assert.equal(decodeOffsetMessageId(id.toLowerCase()).commitLogOffset, 2 ** 40 + 7);
  });

  test('IPv6 store hosts give 56 hex chars and a bracketed address', () => {
    const id = encodeOffsetMessageId(parseIp('2001:db8::1'), 10911, Number.MAX_SAFE_INTEGER);
    assert.equal(id, '20010DB800000000000000000000000100002A9F001FFFFFFFFFFFFF');
    const decoded = decodeOffsetMessageId(id);
    assert.equal(decoded.storeHost, '[2001:db8::1]:10911');
    assert.equal(decoded.commitLogOffset, Number.MAX_SAFE_INTEGER);
  });

  test('round trip for any IPv4/IPv6 host, port and offset (fast-check)', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ minLength: 4, maxLength: 4 }),
          fc.uint8Array({ minLength: 16, maxLength: 16 }),
        ),
        fc.integer({ min: 0, max: 65535 }),
        fc.maxSafeNat(),
        (ip, port, offset) => {
          const id = encodeOffsetMessageId(ip, port, offset);
          assert.match(id, /^[0-9A-F]+$/);
          assert.equal(id.length, ip.length === 4 ? 32 : 56);
          const decoded = decodeOffsetMessageId(id);
          assert.deepEqual([...decoded.ip], [...ip]);
          assert.equal(decoded.port, port);
          assert.equal(decoded.commitLogOffset, offset);
          assert.deepEqual(parseSocketAddress(decoded.storeHost), { ip: decoded.ip, port });
        },
      ),
      { numRuns: 500 },
    );
  });

  test('bad ids are refused with RMQ_BAD_PAYLOAD', () => {
    for (const id of [
      '',
      '0A000005',
      '0A00000500002A9F000000000000100',
      '0A00000500002A9F00000000000010000',
      'ZZ00000500002A9F0000000000001000',
      `${'0'.repeat(55)}G`,
      ' A00000500002A9F0000000000001000',
    ]) {
      badPayload(() => decodeOffsetMessageId(id), /32 or 56 hex chars/);
    }
    badPayload(() => decodeOffsetMessageId('0A00000500002A9F7FFFFFFF00000000'), /exceeds 2\^53/);
  });

  test('bad encoder input is refused', () => {
    badPayload(() => encodeOffsetMessageId(new Uint8Array(5), 1, 1), /5 bytes/);
    badPayload(() => encodeOffsetMessageId(new Uint8Array(4), 1, 1.5), /not an integer/);
    badPayload(() => encodeOffsetMessageId(new Uint8Array(4), 1, 2 ** 53), /not an integer/);
  });
});

describe('IP and socket address text', () => {
  test('RFC 5952 IPv6 formatting: longest zero run, first on ties, single zeros kept', () => {
    const cases: [string, string][] = [
      ['2001:0db8:0000:0000:0000:0000:0000:0001', '2001:db8::1'],
      ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
      ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'],
      ['0:0:0:0:0:0:0:0', '::'],
      ['0:0:0:0:0:0:0:1', '::1'],
      ['1:0:0:0:0:0:0:0', '1::'],
      ['1:0:0:2:0:0:0:3', '1:0:0:2::3'],
      ['FE80::ABCD', 'fe80::abcd'],
    ];
    for (const [input, expected] of cases) assert.equal(formatIp(parseIp(input)), expected, input);
  });

  test('IPv6 formatting agrees with the WHATWG URL serializer for any address', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 0xffff })), {
          minLength: 8,
          maxLength: 8,
        }),
        (groups) => {
          const bytes = Buffer.alloc(16);
          for (const [i, group] of groups.entries()) bytes.writeUInt16BE(group, i * 2);
          const full = groups.map((g) => g.toString(16)).join(':');
          assert.equal(`[${formatIp(bytes)}]`, new URL(`http://[${full}]/`).hostname);
          assert.deepEqual(parseIp(formatIp(bytes)), bytes);
        },
      ),
      { numRuns: 500 },
    );
  });

  test('parseIp: dotted IPv4, mapped IPv4 inside IPv6, zone ids ignored', () => {
    assert.deepEqual([...parseIp('192.168.1.10')], [192, 168, 1, 10]);
    assert.equal(parseIp('::ffff:1.2.3.4').toString('hex'), '00000000000000000000ffff01020304');
    assert.equal(parseIp('fe80::1%eth0').toString('hex'), 'fe800000000000000000000000000001');
    for (const bad of ['', 'localhost', '1.2.3', '256.1.1.1', '1::2::3', '[::1]', '1.2.3.4:80']) {
      badPayload(() => parseIp(bad), /not an IP address/);
    }
    badPayload(() => formatIp(new Uint8Array(6)), /4 or 16 bytes, not 6/);
  });

  test('socket addresses', () => {
    assert.deepEqual(parseSocketAddress('10.0.0.5:10911'), { ip: Buffer.from([10, 0, 0, 5]), port: 10911 });
    const v6 = parseSocketAddress('[::1]:8080');
    assert.equal(formatSocketAddress(v6.ip, v6.port), '[::1]:8080');
    assert.equal(formatSocketAddress(new Uint8Array([127, 0, 0, 1]), 9876), '127.0.0.1:9876');
    for (const bad of [
      '10.0.0.5',
      '10.0.0.5:',
      '10.0.0.5:65536',
      '10.0.0.5:-1',
      '10.0.0.5:1e3',
      '[::1]8080',
      '[::1]',
      ':80',
    ]) {
      assert.throws(() => parseSocketAddress(bad), { code: 'RMQ_BAD_PAYLOAD' }, bad);
    }
    badPayload(() => parseSocketAddress('broker-a:10911'), /not an IP address/);
  });
});

describe('UNIQ_KEY generator (§4.6)', () => {
  test('layout: ip, pid low 16 bits, process tag, ms since local month start, counter', () => {
    inTimeZone('Asia/Shanghai', () => {
      // 2026-11-03 00:00:00.005 in Shanghai (UTC+8): 2 days and 5 ms into the local month.
      let now = Date.UTC(2026, 10, 2, 16, 0, 0, 5);
      const next = createUniqueIdGenerator({
        ip: new Uint8Array([10, 0, 0, 7]),
        pid: 0x12345,
        processTag: -1,
        now: () => now,
      });
      assert.equal(next(), '0A000007' + '2345' + 'FFFFFFFF' + '0A4CB805' + '0000');
      assert.equal(next(), '0A0000072345FFFFFFFF0A4CB8050001');
      // The last millisecond of October (local): past 2^31 ms, written as Java's wrapping int cast.
      now = Date.UTC(2026, 9, 31, 15, 59, 59, 999);
      assert.equal(next().slice(20), '9FA523FF0002');
      // Local midnight of 1 November restarts the time part.
      now = Date.UTC(2026, 9, 31, 16, 0, 0, 0);
      assert.equal(next().slice(20), '000000000003');
    });
  });

  test('the month start follows the local time zone', () => {
    const at = Date.UTC(2026, 10, 1, 3, 0, 0, 0); // 1 Nov 03:00 UTC
    const timePart = (zone: string) =>
      inTimeZone(zone, () =>
        createUniqueIdGenerator({ ip: new Uint8Array(4), pid: 1, processTag: 1, now: () => at })().slice(
          20,
          28,
        ),
      );
    assert.equal(timePart('UTC'), (3 * 3600_000).toString(16).toUpperCase().padStart(8, '0'));
    // In New York it is still 31 October 23:00 (EDT): 30 days and 23 hours into October.
    assert.equal(
      timePart('America/New_York'),
      (30 * 86_400_000 + 23 * 3600_000).toString(16).toUpperCase().padStart(8, '0'),
    );
  });

  test('the i16 counter wraps after 65536 ids', () => {
    const next = createUniqueIdGenerator({ ip: new Uint8Array(4), pid: 1, processTag: 1, now: () => 0 });
    const first = next();
    for (let i = 1; i < 65536; i++) next();
    assert.equal(next(), first);
  });

  test('IPv6-only hosts give 28-byte (56 hex char) ids', () => {
    const next = createUniqueIdGenerator({ ip: parseIp('2001:db8::7'), pid: 2, processTag: 3 });
    const id = next();
    assert.match(id, /^20010DB8000000000000000000000007000200000003[0-9A-F]{12}$/);
  });

  test('the shared generator: uppercase hex of this host, unique over many calls', () => {
    const ip = hostIpBytes();
    assert.ok(ip.length === 4 || ip.length === 16);
    const ids = new Set<string>();
    for (let i = 0; i < 20_000; i++) ids.add(nextUniqueId());
    assert.equal(ids.size, 20_000);
    const id = nextUniqueId();
    assert.equal(id.length, 2 * (ip.length + 12));
    assert.match(id, /^[0-9A-F]+$/);
    assert.equal(
      id.slice(0, 2 * ip.length + 4),
      (ip.toString('hex') + (process.pid & 0xffff).toString(16).padStart(4, '0')).toUpperCase(),
    );
  });

  test('two generators differ by their random process tag', () => {
    const a = createUniqueIdGenerator({ now: () => 0 })();
    const b = createUniqueIdGenerator({ now: () => 0 })();
    assert.notEqual(a, b);
  });
});
