import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { describe, test } from 'node:test';
import { parse } from 'yaml';
import pkg from '../../../package.json' with { type: 'json' };
import { runCli } from '../../../proxy/src/cli/program.ts';

async function run(
  argv: string[],
  env: Record<string, string> = {},
  stop = () => new Promise<string>(() => {}),
) {
  let stdout = '';
  let stderr = '';
  const code = await runCli(argv, {
    stdout: (text) => {
      stdout += text;
    },
    stderr: (text) => {
      stderr += text;
    },
    env,
    stopSignal: stop,
  });
  return { code, stdout, stderr };
}

describe('rocketmq-proxy CLI', () => {
  test('--help explains the program and points to serve', async () => {
    const { code, stdout } = await run(['--help']);
    assert.equal(code, 0);
    assert.match(stdout, /Usage: rocketmq-proxy/);
    assert.match(stdout, /serve \[options\]/);
    assert.match(stdout, /Getting started:/);
  });

  test('serve --help lists flags with their env variables and defaults, precedence and examples', async () => {
    const { code, stdout } = await run(['serve', '--help']);
    assert.equal(code, 0);
    for (const text of [
      '--port <port>',
      'RMQP_LISTEN_PORT',
      'default 8081',
      '--tls-mode <mode>',
      '--config <file>',
      '--set <key=value>',
    ]) {
      assert.ok(stdout.includes(text), text);
    }
    assert.match(stdout, /defaults < YAML file \(--config\) < environment \(RMQP_\*\) < flags/);
    assert.match(stdout, /Examples:/);
  });

  test('--version prints the package version', async () => {
    const { code, stdout } = await run(['--version']);
    assert.equal(code, 0);
    assert.equal(stdout.trim(), pkg.version);
  });

  test('bad configuration exits 2 with every problem named', async () => {
    const { code, stderr } = await run(['serve', '--tls-mode', 'on', '--port', 'http'], {
      RMQP_ADMIN_PORT: '-1',
    });
    assert.equal(code, 2);
    assert.match(
      stderr,
      /tls\.mode: expected one of disabled\|permissive\|enforcing, got "on" \(from --tls-mode\)/,
    );
    assert.match(stderr, /listen\.port: expected an integer, got "http" \(from --port\)/);
    assert.match(stderr, /admin\.port: expected an integer >= 0, got -1 \(from RMQP_ADMIN_PORT\)/);
  });

  test('an unknown option or a missing config file exits 2', async () => {
    const unknown = await run(['serve', '--prot', '1']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown option '--prot'/);
    const missing = await run(['serve', '--config', '/nonexistent/proxy.yaml']);
    assert.equal(missing.code, 2);
    assert.match(
      missing.stderr,
      /\/nonexistent\/proxy\.yaml: cannot read the config file \(file not found\)/,
    );
  });

  test('--print-config shows the merged result: file < env < flags', async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'rmqp-cli-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const file = join(dir, 'proxy.yaml');
    await writeFile(file, 'listen:\n  port: 9001\nlog:\n  level: debug\nadmin:\n  port: 9100\n');
    const { code, stdout } = await run(
      ['serve', '--config', file, '--port', '9003', '--set', 'routes.refreshMs=5000', '--print-config'],
      { RMQP_LISTEN_PORT: '9002', RMQP_LOG_LEVEL: 'warn' },
    );
    assert.equal(code, 0);
    const printed = parse(stdout);
    assert.equal(printed.listen.port, 9003);
    assert.equal(printed.log.level, 'warn');
    assert.equal(printed.admin.port, 9100);
    assert.equal(printed.routes.refreshMs, 5000);
  });

  test('a port already in use exits 1 with the reason', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    const { code, stderr } = await run([
      'serve',
      '--host',
      '127.0.0.1',
      '--port',
      String(port),
      '--log-level',
      'silent',
    ]);
    blocker.close();
    assert.equal(code, 1);
    assert.match(stderr, /could not start: listen EADDRINUSE/);
  });

  test('serve runs until stopped, then shuts down both ports and exits 0', async () => {
    let stop: (signal: string) => void = () => {};
    const stopped = new Promise<string>((resolve) => {
      stop = resolve;
    });
    const running = run(
      [
        'serve',
        '--host',
        '127.0.0.1',
        '--port',
        '0',
        '--admin-port',
        '0',
        '--set',
        'admin.host=127.0.0.1',
        '--log-level',
        'silent',
      ],
      {},
      () => stopped,
    );
    await new Promise((resolve) => setTimeout(resolve, 300));
    stop('SIGTERM');
    assert.equal((await running).code, 0);
  });
});

describe('the rocketmq-proxy process', () => {
  test('serves /livez, then exits 0 on SIGTERM after a graceful shutdown', { timeout: 20_000 }, async () => {
    const child = spawn(
      process.execPath,
      [
        'proxy/src/cli/main.ts',
        'serve',
        '--host',
        '127.0.0.1',
        '--port',
        '0',
        '--admin-port',
        '0',
        '--namesrv',
        '127.0.0.1:1',
      ],
      { env: { ...process.env, RMQP_ADMIN_HOST: '127.0.0.1' }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const messages: string[] = [];
    const adminPort = await new Promise<number>((resolve, reject) => {
      child.once('exit', (code) => reject(new Error(`exited early with ${code}`)));
      createInterface({ input: child.stdout }).on('line', (line) => {
        const entry = JSON.parse(line) as { msg: string; port?: number };
        messages.push(entry.msg);
        if (entry.msg.startsWith('admin HTTP port listening') && entry.port) resolve(entry.port);
      });
    });
    const live = await fetch(`http://127.0.0.1:${adminPort}/livez`);
    assert.equal(live.status, 200);
    const ready = await fetch(`http://127.0.0.1:${adminPort}/readyz`);
    assert.equal(ready.status, 503, 'nothing listens on the configured NameServer');
    child.removeAllListeners('exit');
    const exitCode = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    assert.equal(await exitCode, 0);
    assert.ok(messages.includes('shutting down gracefully'), messages.join(' | '));
    assert.ok(messages.includes('stopped'));
  });
});
