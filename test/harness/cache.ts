/**
 * Where third-party artefacts live: a per-user cache outside the repository, shared by fresh clones.
 * Mirrors the Makefile: $RMQP_CACHE, else ${XDG_CACHE_HOME:-$HOME/.cache}/rmqproxy.
 */
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { ROCKETMQ_VERSION } from './versions.ts';

export function cacheRoot(env: NodeJS.ProcessEnv = process.env): string {
  // Empty values count as unset, like make's $(or ...).
  if (env['RMQP_CACHE']) return resolve(env['RMQP_CACHE']);
  const xdg = env['XDG_CACHE_HOME'] || join(homedir(), '.cache');
  return resolve(xdg, 'rmqproxy');
}

/** <cache>/rocketmq-<version>: everything fetched for one RocketMQ release. */
export function rocketmqCacheDir(
  version: string = ROCKETMQ_VERSION,
  env: NodeJS.ProcessEnv = process.env,
): string {
  return join(cacheRoot(env), `rocketmq-${version}`);
}

/** <cache>/rocketmq-<version>/lib: the flat directory of runtime jars (the classpath is `<lib>/*`). */
export function rocketmqLibDir(
  version: string = ROCKETMQ_VERSION,
  env: NodeJS.ProcessEnv = process.env,
): string {
  return join(rocketmqCacheDir(version, env), 'lib');
}
