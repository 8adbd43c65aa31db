/**
 * Restarts one component of the test control plane in place: the harness has no restart API, so this
 * reads the running process's command line and environment from /proc, stops it with SIGTERM, and starts
 * the same command again (same ports, certificates and etcd). The new process belongs to this test, which
 * must stop() it before the control plane's own stop().
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sleep } from '../support/wait.ts';

export interface RestartedProcess {
  pid: number;
  stop(): Promise<void>;
}

function findPid(dir: string, name: string): number {
  const pids = readFileSync(join(dir, 'pids'), 'utf8').split(/\s+/).filter(Boolean).map(Number);
  for (const pid of pids) {
    try {
      const argv0 = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0] ?? '';
      if (argv0.endsWith(`/${name}`)) return pid;
    } catch {
      // exited
    }
  }
  throw new Error(`no running ${name} among the control plane's processes`);
}

async function waitGone(pid: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
    if (Date.now() > deadline) {
      process.kill(pid, 'SIGKILL');
      return;
    }
    await sleep(100);
  }
}

export async function restartComponent(
  dir: string,
  name: string,
  whileDown: () => Promise<void>,
): Promise<RestartedProcess> {
  const pid = findPid(dir, name);
  const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
  const env = Object.fromEntries(
    readFileSync(`/proc/${pid}/environ`, 'utf8')
      .split('\0')
      .filter(Boolean)
      .map((entry) => [entry.slice(0, entry.indexOf('=')), entry.slice(entry.indexOf('=') + 1)]),
  );
  process.kill(pid, 'SIGTERM');
  await waitGone(pid, 15_000);
  await whileDown();
  const child: ChildProcess = spawn(argv[0]!, argv.slice(1), { cwd: dir, env, stdio: 'ignore' });
  const killOnExit = (): void => {
    child.kill('SIGKILL');
  };
  process.once('exit', killOnExit);
  return {
    pid: child.pid ?? 0,
    stop: async () => {
      process.removeListener('exit', killOnExit);
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await Promise.race([exited, sleep(10_000)]);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
}
