/**
 * Which gRPC endpoint the end-to-end scenarios run against. The global setup exports these variables;
 * every scenario reads them here, so the same files run against the Apache Java proxy (the default) or
 * against our proxy (`RMQP_PROXY_ENDPOINT=127.0.0.1:8081 RMQP_PROXY_KIND=rmqproxy make test-e2e`).
 */

export const TARGET_ENV = {
  /** `host:port` of the gRPC endpoint under test. */
  endpoint: 'RMQP_PROXY_ENDPOINT',
  /** `apache-java` when it is the reference Java proxy the setup started, else whatever the caller says. */
  kind: 'RMQP_PROXY_KIND',
  /** The reference Java proxy, always started by the setup (for live differential checks). */
  javaProxyEndpoint: 'RMQP_JAVA_PROXY_ENDPOINT',
} as const;

export const APACHE_JAVA = 'apache-java';

export interface Target {
  endpoint: string;
  kind: string;
  /** The reference Java proxy's endpoint, when it runs. */
  javaProxyEndpoint: string | undefined;
}

export function target(env: NodeJS.ProcessEnv = process.env): Target {
  const endpoint = env[TARGET_ENV.endpoint];
  if (!endpoint) {
    throw new Error(
      `${TARGET_ENV.endpoint} is not set: run end-to-end tests with \`make test-e2e\` ` +
        '(or node --test --test-global-setup=test/e2e/global-setup.ts <file>)',
    );
  }
  return {
    endpoint,
    kind: env[TARGET_ENV.kind] || 'external',
    javaProxyEndpoint: env[TARGET_ENV.javaProxyEndpoint] || undefined,
  };
}
