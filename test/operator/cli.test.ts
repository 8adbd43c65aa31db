/** The real CLI process: starts from a kubeconfig, serves /readyz and /metrics, exits 0 on SIGTERM; bad input exits 2. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { type ControlPlane, startControlPlane } from '../harness/kube/controlplane.ts';
import { eventually } from '../support/wait.ts';
import { clientFor, installCrd, SETUP_TIMEOUT_MS } from './support.ts';

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const address = server.address();
  await new Promise((r) => server.close(r));
  return typeof address === 'object' && address ? address.port : 0;
}

describe('rocketmq-proxy-operator run', { timeout: SETUP_TIMEOUT_MS + 2 * 60_000 }, () => {
  let kube: ControlPlane;
  before(
    async () => {
      kube = await startControlPlane();
      await installCrd(clientFor(kube.kubeconfigPath));
    },
    { timeout: SETUP_TIMEOUT_MS },
  );
  after(async () => kube?.stop());

  test('serves /readyz and /metrics, takes the Lease, exits 0 on SIGTERM', async () => {
    const port = await freePort();
    const child = spawn(
      process.execPath,
      [
        'operator/src/main.ts',
        'run',
        '--kubeconfig',
        kube.kubeconfigPath,
        '--http-port',
        String(port),
        '--http-host',
        '127.0.0.1',
        '--log-level',
        'warn',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    child.stdout?.on('data', (d: Buffer) => (output += d));
    child.stderr?.on('data', (d: Buffer) => (output += d));
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    try {
      await eventually('/readyz 200', { timeoutMs: 30_000 }, async () =>
        (await fetch(`http://127.0.0.1:${port}/readyz`)).status === 200 ? true : undefined,
      );
      const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      assert.match(metrics, /rocketmq_proxy_operator_reconcile_total/);
      assert.match(metrics, /process_resident_memory_bytes/);
    } finally {
      child.kill('SIGTERM');
    }
    assert.equal(await exited, 0, output);
  });

  test('an unreadable kubeconfig is a one-line error and exit code 2', async () => {
    const child = spawn(
      process.execPath,
      ['operator/src/main.ts', 'run', '--kubeconfig', '/nonexistent/kubeconfig'],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => (stderr += d));
    const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
    assert.equal(code, 2);
    assert.match(stderr, /^rocketmq-proxy-operator: cannot start: .*\/nonexistent\/kubeconfig/);
    assert.doesNotMatch(stderr, /\n\s+at /, 'no stack trace');
  });
});
