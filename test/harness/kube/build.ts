/**
 * Builds the control-plane binaries (kube-apiserver, kube-controller-manager, kube-scheduler, etcd, kwok)
 * from the Go module proxy into <cache>/kube-<version>/bin, plus the KWOK stage files they need at run time.
 *
 * The build happens in a temporary sibling directory that is renamed into place with a stamp, so a
 * half-finished build is never used and a warm run never starts Go. GOMODCACHE and GOCACHE live under the
 * cache root too: a rebuild on the same machine (new version, edited wrapper) only compiles what changed.
 * Builds run under `nice -n 19` because they share the cores with running tests.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  closeSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { cacheRoot } from '../cache.ts';
import { tailOfFile } from '../process.ts';
import { allWrappers, ldflags, WRAPPERS_DIR, type Wrapper } from './gomod.ts';
import {
  ETCD_VERSION,
  KUBE_BINARIES,
  KUBERNETES_VERSION,
  type KubeBinary,
  KWOK_STAGE_FILES,
  KWOK_VERSION,
  MIN_GO_VERSION,
} from './versions.ts';

const STAMP_FILE = '.rmqp-built.json';

interface Stamp {
  kubernetes: string;
  etcd: string;
  kwok: string;
  /** sha256 over every wrapper's go.mod and go.sum, so editing a wrapper forces a rebuild. */
  wrappersSha256: string;
  /** Informational: which Go built it and how long it took. */
  go?: string;
  buildSeconds?: number;
}

export interface KubeBinaries {
  binDir: string;
  /** KWOK stage files, at the paths listed in KWOK_STAGE_FILES relative to this directory. */
  stagesDir: string;
  path(binary: KubeBinary): string;
}

export interface BuildOptions {
  env?: NodeJS.ProcessEnv | undefined;
  /** Progress lines (default: stderr). */
  log?: ((line: string) => void) | undefined;
  /** Rebuild even when the stamp matches. */
  force?: boolean | undefined;
}

/** <cache>/kube-<k8s version>: one directory per pinned Kubernetes release. */
export function kubeCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(cacheRoot(env), `kube-${KUBERNETES_VERSION}`);
}

/** GOMODCACHE and GOCACHE for these builds, shared by every version so a bump reuses what it can. */
export function goCacheDirs(env: NodeJS.ProcessEnv = process.env): { GOMODCACHE: string; GOCACHE: string } {
  const root = join(cacheRoot(env), 'go');
  return { GOMODCACHE: join(root, 'mod'), GOCACHE: join(root, 'build') };
}

function binariesAt(binDir: string): KubeBinaries {
  return { binDir, stagesDir: join(binDir, 'stages'), path: (binary) => join(binDir, binary) };
}

function committedFile(wrapper: Wrapper, file: 'go.mod' | 'go.sum'): string {
  return join(WRAPPERS_DIR, wrapper.name, file);
}

function readIfPresent(path: string): string {
  return existsSync(path) ? readFileSync(path, 'utf8') : '';
}

function expectedStamp(): Stamp {
  const hash = createHash('sha256');
  for (const wrapper of allWrappers()) {
    hash.update(`${wrapper.name}\0${wrapper.goMod}\0${readIfPresent(committedFile(wrapper, 'go.sum'))}\0`);
  }
  return {
    kubernetes: KUBERNETES_VERSION,
    etcd: ETCD_VERSION,
    kwok: KWOK_VERSION,
    wrappersSha256: hash.digest('hex'),
  };
}

/** True when `binDir` holds a complete build of the pinned versions from the current wrappers. */
export function isBuilt(binDir: string): boolean {
  try {
    const stamp = JSON.parse(readFileSync(join(binDir, STAMP_FILE), 'utf8')) as Partial<Stamp>;
    const expected = expectedStamp();
    return (
      stamp.kubernetes === expected.kubernetes &&
      stamp.etcd === expected.etcd &&
      stamp.kwok === expected.kwok &&
      stamp.wrappersSha256 === expected.wrappersSha256 &&
      KUBE_BINARIES.every((binary) => existsSync(join(binDir, binary))) &&
      KWOK_STAGE_FILES.every((file) => existsSync(join(binDir, 'stages', file)))
    );
  } catch {
    return false;
  }
}

/** The committed go.mod files must be exactly what versions.ts generates: versions live in one place. */
export function checkWrappers(): void {
  const stale = allWrappers().filter(
    (wrapper) => readIfPresent(committedFile(wrapper, 'go.mod')) !== wrapper.goMod,
  );
  if (stale.length > 0) {
    throw new Error(
      `test/peers/k8s/{${stale.map((wrapper) => wrapper.name).join(',')}}/go.mod disagree with ` +
        "test/harness/kube/versions.ts; run 'node test/harness/kube/cli.ts pin' and commit the result",
    );
  }
}

/** Makes sure the binaries are in the cache (building them if needed) and says where they are. */
export async function ensureKubeBinaries(options: BuildOptions = {}): Promise<KubeBinaries> {
  const env = options.env ?? process.env;
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const cacheDir = kubeCacheDir(env);
  const binDir = join(cacheDir, 'bin');
  if (!options.force && isBuilt(binDir)) return binariesAt(binDir);

  checkWrappers();
  mkdirSync(cacheDir, { recursive: true });
  const release = await acquireLock(join(cacheDir, '.build-lock'), log);
  try {
    // Someone else may have finished the same build while we waited for the lock.
    if (!options.force && isBuilt(binDir)) return binariesAt(binDir);
    await build(cacheDir, binDir, env, log);
    return binariesAt(binDir);
  } finally {
    release();
  }
}

async function build(
  cacheDir: string,
  binDir: string,
  env: NodeJS.ProcessEnv,
  log: (line: string) => void,
): Promise<void> {
  const go = findGo(env);
  const goVersion = checkGoVersion(go, env);
  const goEnv = goEnvironment(env);
  const partial = join(cacheDir, `bin.partial-${process.pid}-${Date.now()}`);
  mkdirSync(partial);
  const logFile = join(cacheDir, 'build.log');
  writeFileSync(logFile, '');
  log(`building the Kubernetes ${KUBERNETES_VERSION} control plane with ${goVersion} into ${binDir}`);
  log(`(GOMODCACHE ${goEnv['GOMODCACHE']}, GOCACHE ${goEnv['GOCACHE']}, log ${logFile})`);
  const started = Date.now();
  try {
    for (const wrapper of allWrappers()) {
      const t0 = Date.now();
      await buildWrapper(wrapper, go, goEnv, partial, logFile);
      log(`  ${wrapper.packages.map((pkg) => pkg.binary).join(', ')}: ${seconds(Date.now() - t0)} s`);
    }
    copyStages(goEnv['GOMODCACHE'] ?? '', join(partial, 'stages'));
    const buildSeconds = Math.round((Date.now() - started) / 1000);
    const stamp: Stamp = { ...expectedStamp(), go: goVersion, buildSeconds };
    writeFileSync(join(partial, STAMP_FILE), `${JSON.stringify(stamp, null, 2)}\n`);
    install(partial, binDir);
    log(`built in ${buildSeconds} s`);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new Error(`${message}\n--- ${logFile} ---\n${tailOfFile(logFile, 30)}`, { cause: error });
  } finally {
    rmSync(partial, { recursive: true, force: true });
  }
}

function seconds(ms: number): string {
  return (ms / 1000).toFixed(0);
}

/** The environment every go command here runs with: no toolchain downloads, no cgo, our caches. */
export function goEnvironment(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return {
    ...env,
    ...goCacheDirs(env),
    GOTOOLCHAIN: 'local',
    CGO_ENABLED: '0',
    GOFLAGS: '-mod=mod',
    GOWORK: 'off',
  };
}

/** $GO, else `go` on PATH, else the usual /usr/local/go install. */
export function findGo(env: NodeJS.ProcessEnv): string {
  if (env['GO']) return env['GO'];
  for (const dir of (env['PATH'] ?? '').split(delimiter)) {
    if (dir && existsSync(join(dir, 'go'))) return join(dir, 'go');
  }
  if (existsSync('/usr/local/go/bin/go')) return '/usr/local/go/bin/go';
  throw new Error(`no Go toolchain found (set GO or put go ${MIN_GO_VERSION.join('.')}+ on PATH)`);
}

function checkGoVersion(go: string, env: NodeJS.ProcessEnv): string {
  const result = spawnSync(go, ['env', 'GOVERSION'], {
    env: { ...env, GOTOOLCHAIN: 'local' },
    encoding: 'utf8',
  });
  const version = result.stdout?.trim() ?? '';
  const match = /^go(\d+)\.(\d+)/.exec(version);
  if (result.status !== 0 || !match) {
    throw new Error(`cannot run ${go} env GOVERSION: ${result.stderr || result.error?.message || version}`);
  }
  const [major, minor] = [Number(match[1]), Number(match[2])];
  const [needMajor, needMinor] = MIN_GO_VERSION;
  if (major < needMajor || (major === needMajor && minor < needMinor)) {
    throw new Error(`${go} is ${version}; the Kubernetes build needs go${needMajor}.${needMinor} or newer`);
  }
  return version;
}

/** Builds one wrapper's commands in a scratch copy of the wrapper (go may add go.sum lines; never in the repo). */
async function buildWrapper(
  wrapper: Wrapper,
  go: string,
  goEnv: NodeJS.ProcessEnv,
  outDir: string,
  logFile: string,
): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), `rmqp-gobuild-${wrapper.name}-`));
  try {
    writeFileSync(join(work, 'go.mod'), wrapper.goMod);
    const sum = committedFile(wrapper, 'go.sum');
    if (existsSync(sum)) copyFileSync(sum, join(work, 'go.sum'));
    // One package: name the file (etcd's package path ends in "v3"). Several: a directory, one binary each.
    const [only] = wrapper.packages;
    const output = wrapper.packages.length === 1 && only ? join(outDir, only.binary) : `${outDir}/`;
    await runGo(
      go,
      [
        'build',
        '-trimpath',
        '-ldflags',
        ldflags(wrapper),
        '-o',
        output,
        ...wrapper.packages.map((pkg) => pkg.path),
      ],
      work,
      goEnv,
      logFile,
    );
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** Runs `nice -n 19 go <args>` with output appended to `logFile`. */
export function runGo(
  go: string,
  args: string[],
  cwd: string,
  goEnv: NodeJS.ProcessEnv,
  logFile: string,
): Promise<void> {
  const fd = openSync(logFile, 'a');
  try {
    const child = spawn('nice', ['-n', '19', go, ...args], { cwd, env: goEnv, stdio: ['ignore', fd, fd] });
    return new Promise((resolvePromise, reject) => {
      child.once('error', reject);
      child.once('exit', (code, signal) => {
        if (code === 0) resolvePromise();
        else reject(new Error(`go ${args[0]} in ${cwd} failed (${signal ?? `exit ${code}`})`));
      });
    });
  } finally {
    closeSync(fd);
  }
}

/** Copies the KWOK stage files out of the module cache, so running never depends on GOMODCACHE. */
function copyStages(goModCache: string, stagesDir: string): void {
  const stageRoot = join(goModCache, `sigs.k8s.io/kwok@${KWOK_VERSION}`, 'kustomize', 'stage');
  for (const file of KWOK_STAGE_FILES) {
    const target = join(stagesDir, file);
    mkdirSync(dirname(target), { recursive: true });
    copyFileSync(join(stageRoot, file), target);
  }
}

/** Swaps `partial` in as `binDir`; the previous build (if any) is moved aside first and then deleted. */
function install(partial: string, binDir: string): void {
  const old = `${binDir}.old-${process.pid}-${Date.now()}`;
  if (existsSync(binDir)) renameSync(binDir, old);
  renameSync(partial, binDir);
  rmSync(old, { recursive: true, force: true });
}

/**
 * A lock directory holding the owner's pid: a second build (another test run, another shell) waits
 * instead of compiling the same thing twice on a shared 2-core machine. A lock whose owner died is taken over.
 */
async function acquireLock(lockDir: string, log: (line: string) => void): Promise<() => void> {
  let told = false;
  for (;;) {
    try {
      mkdirSync(lockDir);
      writeFileSync(join(lockDir, 'pid'), String(process.pid));
      return () => rmSync(lockDir, { recursive: true, force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const owner = Number(readIfPresent(join(lockDir, 'pid')));
    if (owner > 0 && !isAlive(owner)) {
      rmSync(lockDir, { recursive: true, force: true });
      continue;
    }
    if (!told) {
      log(`another build (pid ${owner || '?'}) holds ${lockDir}; waiting for it`);
      told = true;
    }
    await new Promise((resolvePromise) => setTimeout(resolvePromise, 2000));
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Rewrites the committed wrappers from versions.ts: go.mod verbatim, go.sum from resolving every package
 * to build (`go list -deps`, which downloads and verifies without compiling).
 */
export async function pinWrappers(options: BuildOptions = {}): Promise<void> {
  const env = options.env ?? process.env;
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const go = findGo(env);
  checkGoVersion(go, env);
  const goEnv = goEnvironment(env);
  for (const wrapper of allWrappers()) {
    const dir = join(WRAPPERS_DIR, wrapper.name);
    mkdirSync(dir, { recursive: true });
    const work = mkdtempSync(join(tmpdir(), `rmqp-gopin-${wrapper.name}-`));
    const logFile = join(work, 'pin.log');
    try {
      writeFileSync(join(work, 'go.mod'), wrapper.goMod);
      await runGo(
        go,
        ['list', '-deps', ...wrapper.packages.map((pkg) => pkg.path)],
        work,
        goEnv,
        logFile,
      ).catch((error: unknown) => {
        throw new Error(
          `${error instanceof Error ? error.message : String(error)}\n${tailOfFile(logFile, 30)}`,
        );
      });
      writeFileSync(join(dir, 'go.mod'), wrapper.goMod);
      copyFileSync(join(work, 'go.sum'), join(dir, 'go.sum'));
      log(`pinned ${dir}`);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  }
}
