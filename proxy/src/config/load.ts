/**
 * The configuration loader: defaults < YAML file < NAMESRV_ADDR < RMQP_* environment < flags.
 * `resolveConfig` is pure; `loadConfig` only adds reading the file.
 */
import { readFile } from 'node:fs/promises';
import {
  ConfigError,
  defaultsLayer,
  envLayers,
  fileLayer,
  flagLayer,
  type Layer,
  mergeLayers,
} from './layers.ts';
import type { ProxyConfig } from './schema.ts';
import { validateConfig } from './validate.ts';

export interface ConfigSources {
  /** The YAML file's text and its name for messages. */
  readonly file?: { readonly name: string; readonly text: string };
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Values of the common CLI flags, by key path (`listen.port` → `"9000"`). */
  readonly flags?: Readonly<Record<string, string>>;
  /** `--set path=value` items. */
  readonly sets?: readonly string[];
}

export interface ResolvedConfig {
  readonly config: ProxyConfig;
  /** Non-fatal findings to log, e.g. an RMQP_ variable that is not a key. */
  readonly warnings: readonly string[];
  /** Which source set each key (for a start-up log line). */
  readonly origins: ReadonlyMap<string, string>;
}

export function resolveConfig(sources: ConfigSources): ResolvedConfig {
  const layers: Layer[] = [defaultsLayer()];
  if (sources.file) layers.push(fileLayer(sources.file.text, sources.file.name));
  const env = envLayers(sources.env ?? {});
  layers.push(...env.layers);
  layers.push(flagLayer(sources.flags ?? {}, sources.sets ?? []));
  const merged = mergeLayers(layers);
  return { config: validateConfig(merged), warnings: env.warnings, origins: merged.origins };
}

export async function loadConfig(
  sources: Omit<ConfigSources, 'file'> & { readonly configFile?: string },
): Promise<ResolvedConfig> {
  let file: ConfigSources['file'];
  if (sources.configFile !== undefined) {
    try {
      file = { name: sources.configFile, text: await readFile(sources.configFile, 'utf8') };
    } catch (error) {
      const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'file not found' : String(error);
      throw new ConfigError([`${sources.configFile}: cannot read the config file (${reason})`]);
    }
  }
  return resolveConfig({ ...sources, ...(file ? { file } : {}) });
}
