export { CONFIG_KEYS, type ConfigKey, envVarName, LOG_LEVELS, TLS_MODES } from './keys.ts';
export { ConfigError } from './layers.ts';
export { type ConfigSources, loadConfig, type ResolvedConfig, resolveConfig } from './load.ts';
export { maxReceiveMessageBytes, type ProxyConfig, parseHostPort, type TlsMode } from './schema.ts';
