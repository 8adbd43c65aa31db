/**
 * Fetches the RocketMQ server classpath (NameServer, Broker, Java proxy, mqadmin) from Maven Central into
 * the user cache. The copy lands in a temporary sibling directory and is renamed into place with a stamp,
 * so a half-finished fetch is never mistaken for a complete one and warm runs never start Maven.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { rocketmqCacheDir, rocketmqLibDir } from './cache.ts';
import { MAVEN_DEPENDENCY_PLUGIN, ROCKETMQ_VERSION } from './versions.ts';

/** The pom that lists the server artifacts; its hash is part of the stamp, so editing it forces a refetch. */
export const PEERS_POM = resolve(import.meta.dirname, '../peers/rocketmq/pom.xml');

const STAMP_FILE = '.rmqp-fetched.json';

interface Stamp {
  version: string;
  pomSha256: string;
  plugin: string;
  jars: number;
}

export interface FetchOptions {
  version?: string | undefined;
  env?: NodeJS.ProcessEnv | undefined;
  /** Progress lines (default: stderr). */
  log?: ((line: string) => void) | undefined;
  /** Refetch even when the stamp matches. */
  force?: boolean | undefined;
}

function expectedStamp(version: string): Omit<Stamp, 'jars'> {
  const pomSha256 = createHash('sha256').update(readFileSync(PEERS_POM)).digest('hex');
  return { version, pomSha256, plugin: MAVEN_DEPENDENCY_PLUGIN };
}

/** True when `libDir` holds a complete fetch of this version made from the current pom. */
export function isFetched(libDir: string, version: string = ROCKETMQ_VERSION): boolean {
  const path = join(libDir, STAMP_FILE);
  if (!existsSync(path)) return false;
  try {
    const stamp = JSON.parse(readFileSync(path, 'utf8')) as Partial<Stamp>;
    const expected = expectedStamp(version);
    return (
      stamp.version === expected.version &&
      stamp.pomSha256 === expected.pomSha256 &&
      stamp.plugin === expected.plugin &&
      typeof stamp.jars === 'number' &&
      stamp.jars > 0
    );
  } catch {
    return false;
  }
}

/** Makes sure the jars are in the cache and returns the lib directory (the classpath is `<lib>/*`). */
export async function ensureRocketmqJars(options: FetchOptions = {}): Promise<string> {
  const version = options.version ?? ROCKETMQ_VERSION;
  const env = options.env ?? process.env;
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const libDir = rocketmqLibDir(version, env);
  if (!options.force && isFetched(libDir, version)) return libDir;

  const cacheDir = rocketmqCacheDir(version, env);
  mkdirSync(cacheDir, { recursive: true });
  const partial = join(cacheDir, `lib.partial-${process.pid}-${Date.now()}`);
  log(`fetching Apache RocketMQ ${version} jars from Maven Central into ${libDir}`);
  try {
    await runMaven(version, partial, env);
    const jars = readdirSync(partial).filter((name) => name.endsWith('.jar')).length;
    if (jars === 0) throw new Error(`Maven copied no jars into ${partial}`);
    const stamp: Stamp = { ...expectedStamp(version), jars };
    writeFileSync(join(partial, STAMP_FILE), `${JSON.stringify(stamp, null, 2)}\n`);
    install(partial, libDir, version);
    log(`fetched ${jars} jars`);
    return libDir;
  } finally {
    rmSync(partial, { recursive: true, force: true });
  }
}

/** Moves a finished fetch into place; a stale or incomplete lib dir is moved aside first. */
function install(partial: string, libDir: string, version: string): void {
  if (existsSync(libDir)) {
    // Another fetcher may have finished meanwhile: keep its (equally good) result.
    if (isFetched(libDir, version)) return;
    const stale = `${libDir}.stale-${process.pid}-${Date.now()}`;
    renameSync(libDir, stale);
    rmSync(stale, { recursive: true, force: true });
  }
  try {
    renameSync(partial, libDir);
  } catch (error) {
    if (!isFetched(libDir, version)) throw error;
  }
}

function runMaven(version: string, outputDirectory: string, env: NodeJS.ProcessEnv): Promise<void> {
  const args = [
    '-B',
    '-q',
    '-f',
    PEERS_POM,
    `${MAVEN_DEPENDENCY_PLUGIN}:copy-dependencies`,
    '-DincludeScope=runtime',
    `-Drmq.version=${version}`,
    `-DoutputDirectory=${outputDirectory}`,
  ];
  return new Promise((resolvePromise, reject) => {
    // No /tmp/hsperfdata_<user> from Maven's JVM either.
    const mavenOpts = [env['MAVEN_OPTS'], '-XX:-UsePerfData'].filter(Boolean).join(' ');
    const child = spawn('mvn', args, {
      cwd: dirname(PEERS_POM),
      env: { ...env, MAVEN_OPTS: mavenOpts },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const keep = (chunk: Buffer): void => {
      output = (output + chunk.toString('utf8')).slice(-20_000);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.on('error', (error) => reject(new Error(`cannot run mvn (is Maven installed?): ${error.message}`)));
    child.on('close', (code, signal) => {
      if (code === 0) resolvePromise();
      else reject(new Error(`mvn ${args.join(' ')} failed (${signal ?? `exit ${code}`}):\n${output.trim()}`));
    });
  });
}
