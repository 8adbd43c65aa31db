import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CONFIG_KEYS, envVarName } from '../../../proxy/src/config/keys.ts';
import { ConfigError, coerce, fileLayer, flagLayer, mergeLayers } from '../../../proxy/src/config/layers.ts';
import { resolveConfig } from '../../../proxy/src/config/load.ts';
import { maxReceiveMessageBytes, parseHostPort } from '../../../proxy/src/config/schema.ts';

function problemsOf(run: () => unknown): readonly string[] {
  try {
    run();
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
    return error.problems;
  }
  assert.fail('expected the configuration to be rejected');
}

describe('defaults', () => {
  test('an empty configuration is valid and matches the documented defaults', () => {
    const { config } = resolveConfig({});
    assert.equal(config.listen.host, '0.0.0.0');
    assert.equal(config.listen.port, 8081);
    assert.equal(config.tls.mode, 'permissive');
    assert.equal(config.limits.maxBodyBytes, 4 * 1024 * 1024);
    assert.equal(config.advertise.address, undefined);
    assert.deepEqual(config.namesrv.addresses, ['127.0.0.1:9876']);
  });

  test('the gRPC inbound cap is 32 full bodies plus 2 MiB, 130 MiB by default like the Java proxy', () => {
    assert.equal(maxReceiveMessageBytes(resolveConfig({}).config), 136_314_880);
    const small = resolveConfig({ flags: { 'limits.maxBodyBytes': '1024' } }).config;
    assert.equal(maxReceiveMessageBytes(small), 1024 * 32 + 2 * 1024 * 1024);
  });
});

describe('merge order: defaults < file < NAMESRV_ADDR < RMQP_* < flags', () => {
  const file = {
    name: 'proxy.yaml',
    text: 'listen:\n  port: 9001\n  host: 127.0.0.1\nnamesrv:\n  addresses: [10.0.0.1:9876]\n',
  };

  test('the file overrides defaults', () => {
    const { config, origins } = resolveConfig({ file });
    assert.equal(config.listen.port, 9001);
    assert.equal(origins.get('listen.port'), 'proxy.yaml');
    assert.equal(config.admin.port, 8082);
  });

  test('environment overrides the file, flags override the environment', () => {
    const env = { RMQP_LISTEN_PORT: '9002', RMQP_LISTEN_HOST: '127.0.0.2' };
    const withEnv = resolveConfig({ file, env }).config;
    assert.equal(withEnv.listen.port, 9002);
    assert.equal(withEnv.listen.host, '127.0.0.2');
    const withFlag = resolveConfig({ file, env, flags: { 'listen.port': '9003' } }).config;
    assert.equal(withFlag.listen.port, 9003);
    assert.equal(withFlag.listen.host, '127.0.0.2', 'a flag replaces only its own key');
  });

  test('--set items apply like flags, and a dedicated flag wins over --set for the same key', () => {
    const config = resolveConfig({
      sets: ['routes.refreshMs=1000', 'listen.port=9100'],
      flags: { 'listen.port': '9200' },
    }).config;
    assert.equal(config.routes.refreshMs, 1000);
    assert.equal(config.listen.port, 9200);
  });

  test('NAMESRV_ADDR (the RocketMQ convention) is read, and RMQP_NAMESRV_ADDRESSES beats it', () => {
    assert.deepEqual(resolveConfig({ file, env: { NAMESRV_ADDR: 'a:1;b:2' } }).config.namesrv.addresses, [
      'a:1',
      'b:2',
    ]);
    const both = resolveConfig({ env: { NAMESRV_ADDR: 'a:1', RMQP_NAMESRV_ADDRESSES: 'c:3, d:4' } }).config;
    assert.deepEqual(both.namesrv.addresses, ['c:3', 'd:4']);
  });

  test('lists are replaced, not concatenated', () => {
    const config = resolveConfig({ file, flags: { 'namesrv.addresses': 'x:1' } }).config;
    assert.deepEqual(config.namesrv.addresses, ['x:1']);
  });

  test('empty environment variables count as unset', () => {
    assert.equal(resolveConfig({ file, env: { RMQP_LISTEN_PORT: '' } }).config.listen.port, 9001);
  });

  test('a YAML section left empty (`tls:`) keeps its defaults', () => {
    assert.equal(
      resolveConfig({ file: { name: 'f.yaml', text: 'tls:\nlisten:\n' } }).config.tls.mode,
      'permissive',
    );
  });

  test('an empty file is the defaults', () => {
    assert.deepEqual(resolveConfig({ file: { name: 'f.yaml', text: '' } }).config, resolveConfig({}).config);
  });
});

describe('environment variable names', () => {
  test('are RMQP_ plus the key path in upper snake case', () => {
    assert.equal(envVarName('limits.maxBodyBytes'), 'RMQP_LIMITS_MAX_BODY_BYTES');
    assert.equal(envVarName('tls.certFile'), 'RMQP_TLS_CERT_FILE');
    assert.equal(envVarName('namesrv.addresses'), 'RMQP_NAMESRV_ADDRESSES');
  });

  test('are unique and every key is settable through its variable', () => {
    const names = CONFIG_KEYS.map((key) => envVarName(key.path));
    assert.equal(new Set(names).size, names.length);
    const env = { RMQP_TIMEOUTS_SHUTDOWN_GRACE_MS: '5', RMQP_PRODUCER_BACKOFF_MULTIPLIER: '1.5' };
    const config = resolveConfig({ env }).config;
    assert.equal(config.timeouts.shutdownGraceMs, 5);
    assert.equal(config.producer.backoffMultiplier, 1.5);
  });

  test('unknown RMQP_ variables are reported as warnings (RMQP_CACHE is the build cache, not a key)', () => {
    const { warnings } = resolveConfig({ env: { RMQP_LISTEN_PROT: '1', RMQP_CACHE: '/tmp', OTHER: 'x' } });
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /RMQP_LISTEN_PROT/);
  });
});

describe('coercion of text values', () => {
  test('integers, numbers and lists', () => {
    assert.equal(coerce('integer', ' 42 '), 42);
    assert.equal(coerce('integer', '4.5'), '4.5', 'kept as text so validation names it');
    assert.equal(coerce('number', '1.5'), 1.5);
    assert.deepEqual(coerce('list', 'a:1; b:2 ,,c:3'), ['a:1', 'b:2', 'c:3']);
  });
});

describe('validation errors name the key and the expectation', () => {
  test('the tls.mode example from the brief', () => {
    const problems = problemsOf(() => resolveConfig({ flags: { 'tls.mode': 'on' } }));
    assert.deepEqual(problems, [
      'tls.mode: expected one of disabled|permissive|enforcing, got "on" (from --tls-mode)',
    ]);
  });

  test('the source is named: file, environment variable or flag', () => {
    const problems = problemsOf(() =>
      resolveConfig({
        file: { name: 'proxy.yaml', text: 'listen:\n  port: 70000\n' },
        env: { RMQP_LIMITS_MAX_BODY_BYTES: 'big' },
        flags: { 'log.level': 'loud' },
      }),
    );
    assert.ok(
      problems.includes('listen.port: expected an integer <= 65535, got 70000 (from proxy.yaml)'),
      problems.join('\n'),
    );
    assert.ok(
      problems.includes(
        'limits.maxBodyBytes: expected an integer, got "big" (from RMQP_LIMITS_MAX_BODY_BYTES)',
      ),
    );
    assert.ok(
      problems.some(
        (line) =>
          line.startsWith('log.level: expected one of trace|debug|info') &&
          line.endsWith('(from --log-level)'),
      ),
    );
  });

  test('every key, given a value of the wrong kind, yields an error that starts with its path', () => {
    for (const key of CONFIG_KEYS) {
      // A mapping is wrong for every leaf kind.
      const yaml = `${key.path.split('.')[0]}:\n  ${key.path.split('.')[1]}:\n    wrong: 1\n`;
      const problems = problemsOf(() => resolveConfig({ file: { name: 'bad.yaml', text: yaml } }));
      assert.equal(problems.length, 1, `${key.path}: ${problems.join(' | ')}`);
      assert.ok(problems[0]!.startsWith(`${key.path}: expected`), `${key.path}: ${problems[0]}`);
      assert.ok(problems[0]!.includes('(from bad.yaml)'), problems[0]);
    }
  });

  test('a misspelt key is reported with the keys that exist there', () => {
    const problems = problemsOf(() =>
      resolveConfig({ file: { name: 'f.yaml', text: 'tls:\n  mdoe: enforcing\n' } }),
    );
    assert.deepEqual(problems, [
      'tls.mdoe: unknown key; known keys here: mode, certFile, keyFile (from f.yaml)',
    ]);
    const top = problemsOf(() => resolveConfig({ file: { name: 'f.yaml', text: 'lsiten:\n  port: 1\n' } }));
    assert.match(top[0]!, /^lsiten: unknown key; known keys here: namesrv, listen, advertise/);
  });

  test('a bad list entry names its index', () => {
    const problems = problemsOf(() => resolveConfig({ env: { RMQP_NAMESRV_ADDRESSES: 'ok:9876;nohost' } }));
    assert.deepEqual(problems, [
      'namesrv.addresses[1]: expected host:port with a port from 1 to 65535, got "nohost" (from RMQP_NAMESRV_ADDRESSES)',
    ]);
  });

  test('an empty NameServer list is rejected', () => {
    const problems = problemsOf(() =>
      resolveConfig({ file: { name: 'f.yaml', text: 'namesrv:\n  addresses: []\n' } }),
    );
    assert.deepEqual(problems, [
      'namesrv.addresses: expected at least 1 entry, got an empty list (from f.yaml)',
    ]);
  });

  test('body size is capped at the 16 MiB Remoting frame limit', () => {
    const problems = problemsOf(() =>
      resolveConfig({ flags: { 'limits.maxBodyBytes': String(17 * 1024 * 1024) } }),
    );
    assert.match(problems[0]!, /^limits\.maxBodyBytes: expected an integer <= 16777216, got 17825792/);
  });

  test('cert and key files go together', () => {
    const problems = problemsOf(() => resolveConfig({ flags: { 'tls.certFile': '/etc/proxy.crt' } }));
    assert.equal(problems.length, 1);
    assert.match(problems[0]!, /^tls\.keyFile: expected tls\.certFile and tls\.keyFile together/);
  });

  test('cross-key rules name the key that must change', () => {
    const backoff = problemsOf(() =>
      resolveConfig({ sets: ['producer.backoffInitialMs=500', 'producer.backoffMaxMs=100'] }),
    );
    assert.deepEqual(backoff, [
      'producer.backoffMaxMs: expected at least producer.backoffInitialMs (500), got 100 (from --set)',
    ]);
    const polling = problemsOf(() => resolveConfig({ sets: ['consumer.longPollingMaxMs=1000'] }));
    assert.match(
      polling[0]!,
      /^consumer\.longPollingMaxMs: expected at least consumer\.longPollingMinMs \(5000\), got 1000/,
    );
    const routes = problemsOf(() => resolveConfig({ sets: ['routes.expireMs=1000'] }));
    assert.match(routes[0]!, /^routes\.expireMs: expected at least routes\.refreshMs/);
  });

  test('a section given as a scalar is named', () => {
    const problems = problemsOf(() => resolveConfig({ file: { name: 'f.yaml', text: 'tls: on\n' } }));
    assert.deepEqual(problems, ['tls: expected a mapping, got "on" (from f.yaml)']);
  });

  test('--set rejects unknown keys and items without "="', () => {
    assert.deepEqual(
      problemsOf(() => flagLayer({}, ['nope.key=1'])),
      ['--set nope.key=1: unknown key "nope.key"'],
    );
    assert.match(problemsOf(() => flagLayer({}, ['listen.port']))[0]!, /expected key=value/);
  });

  test('YAML syntax errors and non-mapping documents name the file', () => {
    assert.match(problemsOf(() => fileLayer('listen: [1, 2\n', 'broken.yaml'))[0]!, /^broken\.yaml: /);
    assert.deepEqual(
      problemsOf(() => fileLayer('- a\n- b\n', 'list.yaml')),
      ['list.yaml: expected a mapping of keys at the top level, got a list ["a","b"]'],
    );
  });
});

describe('mergeLayers', () => {
  test('records the last source of each key', () => {
    const merged = mergeLayers([
      { source: 'a', entries: [{ path: 'listen.port', value: 1, source: 'a' }] },
      { source: 'b', entries: [{ path: 'listen.port', value: 2, source: 'b' }] },
    ]);
    assert.equal((merged.value['listen'] as Record<string, unknown>)['port'], 2);
    assert.equal(merged.origins.get('listen.port'), 'b');
  });
});

describe('parseHostPort', () => {
  test('accepts names, IPv4 and bracketed IPv6; rejects missing or out-of-range ports', () => {
    assert.deepEqual(parseHostPort('namesrv-0.rocketmq:9876'), { host: 'namesrv-0.rocketmq', port: 9876 });
    assert.deepEqual(parseHostPort('[::1]:9876'), { host: '::1', port: 9876 });
    assert.equal(parseHostPort('host'), undefined);
    assert.equal(parseHostPort('host:0'), undefined);
    assert.equal(parseHostPort('host:65536'), undefined);
    assert.equal(parseHostPort('::1:9876'), undefined);
  });
});
