/**
 * The single source of truth for the Apache RocketMQ peers the tests run against: which release, which
 * Remoting protocol version to speak, and which loopback ports to use by default.
 */

/** The Apache RocketMQ release whose jars are fetched from Maven Central (passed to the pom as rmq.version). */
export const ROCKETMQ_VERSION = '5.4.0';

/**
 * `MQVersion.Version.V5_4_0.ordinal()`, sent as `version` in Remoting request headers. Anything at or above
 * V4_9_4 (401) makes the NameServer answer route queries with standard JSON (string map keys).
 */
export const ROCKETMQ_VERSION_CODE = 493;

/** maven-dependency-plugin used to copy the runtime classpath out of the local repository. */
export const MAVEN_DEPENDENCY_PLUGIN = 'org.apache.maven.plugins:maven-dependency-plugin:3.8.1';

/** Default ports, all on 127.0.0.1 (the Apache defaults, with the Java proxy moved off 8080/8081). */
export const DEFAULT_PORTS = {
  namesrv: 9876,
  broker: 10911,
  javaProxyGrpc: 18081,
  javaProxyRemoting: 18080,
} as const;

/** The broker also opens listenPort-2 (the "fast"/VIP Remoting channel) and listenPort+1 (HA replication). */
export const BROKER_FAST_PORT_OFFSET = -2;
export const BROKER_HA_PORT_OFFSET = 1;

/** Ports that `auto` allocation draws from: below Linux's ephemeral range, so outgoing connections never take them. */
export const AUTO_PORT_RANGE = { min: 20000, max: 32000 } as const;
