/**
 * Child JVMs that cannot outlive the test run: output goes to a log file (never a pipe, so a dying parent
 * cannot wedge a JVM on a full pipe), stop() is SIGTERM then SIGKILL after a deadline, an 'exit' hook
 * SIGKILLs whatever is still alive, and a tiny shell watchdog cleans up if the parent is SIGKILLed.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { appendFileSync, closeSync, openSync, readSync, rmSync, statSync } from 'node:fs';

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface SpawnOptions {
  /** Short name for messages ("namesrv", "broker"). */
  name: string;
  command: string;
  args: string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** stdout and stderr both go here. */
  logFile: string;
}

const live = new Set<ManagedProcess>();
const cleanups = new Set<() => void>();
let guardsInstalled = false;

export class ManagedProcess {
  readonly name: string;
  readonly pid: number;
  readonly logFile: string;
  /** Resolves when the process has exited (for any reason). */
  readonly exited: Promise<Exit>;
  #exit: Exit | undefined;
  readonly #child: ChildProcess;

  constructor(options: SpawnOptions) {
    installGuards();
    const fd = openSync(options.logFile, 'a');
    try {
      // Own process group: a terminal's Ctrl-C reaches only us, and we decide how the JVM stops.
      this.#child = spawn(options.command, options.args, {
        cwd: options.cwd,
        env: options.env,
        stdio: ['ignore', fd, fd],
        detached: true,
      });
    } finally {
      closeSync(fd);
    }
    if (this.#child.pid === undefined) {
      throw new Error(`${options.name}: cannot start ${options.command}`);
    }
    this.name = options.name;
    this.pid = this.#child.pid;
    this.logFile = options.logFile;
    live.add(this);
    this.exited = new Promise((resolvePromise) => {
      this.#child.once('exit', (code, signal) => {
        this.#exit = { code, signal };
        live.delete(this);
        resolvePromise(this.#exit);
      });
    });
    // Spawn errors (ENOENT) arrive asynchronously; they show up as an exit with code null.
    this.#child.once('error', (error) => {
      appendFileSync(this.logFile, `\n[harness] spawn failed: ${error.message}\n`);
      if (!this.#exit) {
        this.#exit = { code: null, signal: null };
        live.delete(this);
      }
    });
  }

  /** The exit status once exited, else undefined. */
  get exit(): Exit | undefined {
    return this.#exit;
  }

  /** SIGTERM (the JVM runs its shutdown hooks), then SIGKILL if still alive after `graceMs`. */
  async stop(graceMs = 10_000): Promise<Exit> {
    if (this.#exit) return this.#exit;
    this.#signal('SIGTERM');
    const timer = setTimeout(() => this.#signal('SIGKILL'), graceMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  killNow(): void {
    if (!this.#exit) this.#signal('SIGKILL');
  }

  /** The last `lines` lines of the process's output, for error messages. */
  tail(lines = 40, skip?: RegExp): string {
    return tailOfFile(this.logFile, lines, skip);
  }

  #signal(signal: NodeJS.Signals): void {
    try {
      process.kill(-this.pid, signal);
    } catch {
      // Already gone.
    }
  }
}

/** The last lines of a file (reading at most the last 64 KiB), minus lines matching `skip`; '' if absent. */
export function tailOfFile(path: string, lines = 40, skip?: RegExp): string {
  try {
    const size = statSync(path).size;
    const start = Math.max(0, size - 65_536);
    const fd = openSync(path, 'r');
    try {
      const buffer = Buffer.alloc(size - start);
      readSync(fd, buffer, 0, buffer.length, start);
      const all = buffer.toString('utf8').split('\n');
      return (skip ? all.filter((line) => !skip.test(line)) : all).slice(-lines).join('\n').trimEnd();
    } finally {
      closeSync(fd);
    }
  } catch {
    return '';
  }
}

/** Registers a synchronous cleanup (e.g. removing a temp dir) to run if the process exits before stop(). */
export function onAbnormalExit(cleanup: () => void): () => void {
  installGuards();
  cleanups.add(cleanup);
  return () => cleanups.delete(cleanup);
}

function killAllSync(): void {
  for (const child of live) child.killNow();
  for (const cleanup of cleanups) {
    try {
      cleanup();
    } catch {
      // Best effort while exiting.
    }
  }
  cleanups.clear();
}

const FATAL_SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

function installGuards(): void {
  if (guardsInstalled) return;
  guardsInstalled = true;
  process.on('exit', killAllSync);
  for (const signal of FATAL_SIGNALS) {
    const handler = (): void => {
      // Someone else (e.g. the CLI) also listens: they own the graceful path; 'exit' still backs it up.
      if (process.listenerCount(signal) > 1) return;
      killAllSync();
      process.removeListener(signal, handler);
      process.kill(process.pid, signal);
    };
    process.on(signal, handler);
  }
}

/**
 * Starts a detached `sh` that waits for this Node process to disappear (even by SIGKILL), then kills the
 * pids listed in `pidFile` and removes `dir` unless `keepDir`. Returns a function that retires it.
 */
export function startWatchdog(pidFile: string, dir: string, keepDir: boolean): () => void {
  const script = [
    'while kill -0 "$1" 2>/dev/null; do sleep 1; done',
    'for p in $(cat "$2" 2>/dev/null); do kill -KILL -"$p" 2>/dev/null; kill -KILL "$p" 2>/dev/null; done',
    keepDir ? ':' : 'sleep 1; rm -rf "$3"',
  ].join('\n');
  const watchdog = spawn('sh', ['-c', script, 'rmqp-watchdog', String(process.pid), pidFile, dir], {
    stdio: 'ignore',
    detached: true,
  });
  watchdog.unref();
  const pid = watchdog.pid;
  return () => {
    if (pid === undefined) return;
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  };
}

/** Appends a pid to the watchdog's list. */
export function recordPid(pidFile: string, pid: number): void {
  appendFileSync(pidFile, `${pid}\n`);
}

/** Removes a directory tree, ignoring absence. */
export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}
