/**
 * Which gRPC endpoint the end-to-end scenarios run against. The global setup exports these variables;
 * every scenario reads them here, so the same files run against our proxy (the default) or against the
 * Apache Java proxy (`RMQP_E2E_TARGET=apache-java make test-e2e`).
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
/** This project's proxy, started by the setup as a separate process. */
export const RMQPROXY = 'rmqproxy';

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
