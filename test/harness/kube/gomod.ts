/**
 * The wrapper Go modules under test/peers/k8s, generated from versions.ts. Each wrapper exists only to give
 * `go build` a main module whose requirements (and, for Kubernetes, staging replaces) make the upstream
 * commands buildable from the Go module proxy; `tool` lines name the commands so `go mod tidy` would keep them.
 */
import { resolve } from 'node:path';
import {
  ETCD_VERSION,
  KUBERNETES_GO_DIRECTIVE,
  KUBERNETES_GODEBUG_DEFAULT,
  KUBERNETES_STAGING_MODULES,
  KUBERNETES_VERSION,
  KWOK_VERSION,
} from './versions.ts';

/** test/peers/k8s: one directory per wrapper, each with a committed go.mod and go.sum. */
export const WRAPPERS_DIR = resolve(import.meta.dirname, '../../peers/k8s');

export interface Wrapper {
  /** Directory name under WRAPPERS_DIR. */
  name: string;
  /** The complete go.mod text. */
  goMod: string;
  /** Package paths built, in output order; each produces a binary named after its last path element. */
  packages: { path: string; binary: string }[];
  /** -X settings for the linker (version strings the binaries report). */
  linkerSettings: Record<string, string>;
}

const HEADER =
  "// Generated from test/harness/kube/versions.ts by 'node test/harness/kube/cli.ts pin'; edit versions.ts, not this file.";

/** k8s.io/kubernetes v1.36.3 → k8s.io/api v0.36.3 (the staging modules' tag for the same release). */
export function stagingVersion(kubernetesVersion: string): string {
  const match = /^v1\.(\d+)\.(\d+)$/.exec(kubernetesVersion);
  if (!match)
    throw new Error(`Kubernetes version must look like v1.<minor>.<patch>, got "${kubernetesVersion}"`);
  return `v0.${match[1]}.${match[2]}`;
}

function goModText(options: {
  module: string;
  go: string;
  godebug?: string;
  require: [string, string][];
  replace?: [string, string, string][];
  tools: string[];
}): string {
  const lines = [HEADER, `module ${options.module}`, '', `go ${options.go}`, ''];
  if (options.godebug) lines.push(`godebug default=${options.godebug}`, '');
  lines.push('require (', ...options.require.map(([path, version]) => `\t${path} ${version}`), ')', '');
  if (options.replace?.length) {
    lines.push('replace (');
    for (const [from, to, version] of options.replace) lines.push(`\t${from} => ${to} ${version}`);
    lines.push(')', '');
  }
  lines.push('tool (', ...options.tools.map((tool) => `\t${tool}`), ')');
  return `${lines.join('\n')}\n`;
}

export function kubernetesWrapper(version: string = KUBERNETES_VERSION): Wrapper {
  const staging = stagingVersion(version);
  const minor = version.split('.')[1] ?? '';
  const commands = ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler'];
  const packages = commands.map((binary) => ({ path: `k8s.io/kubernetes/cmd/${binary}`, binary }));
  return {
    name: 'kubernetes',
    goMod: goModText({
      module: 'local/rmqproxy/kube-bins',
      go: KUBERNETES_GO_DIRECTIVE,
      godebug: KUBERNETES_GODEBUG_DEFAULT,
      require: [['k8s.io/kubernetes', version]],
      replace: KUBERNETES_STAGING_MODULES.map((module) => [`k8s.io/${module}`, `k8s.io/${module}`, staging]),
      tools: packages.map((pkg) => pkg.path),
    }),
    packages,
    // Only cosmetic (/version, --version); the emulated API version comes from component-base itself.
    linkerSettings: {
      'k8s.io/component-base/version.gitVersion': version,
      'k8s.io/component-base/version.gitMajor': '1',
      'k8s.io/component-base/version.gitMinor': minor,
      'k8s.io/component-base/version.gitTreeState': 'clean',
      'k8s.io/client-go/pkg/version.gitVersion': version,
    },
  };
}

export function etcdWrapper(version: string = ETCD_VERSION): Wrapper {
  // The server module's root package is etcd's main; its own go.mod replaces siblings with ../ paths, which
  // a dependency's go.mod cannot do, so the wrapper just requires it and lets MVS pick the tagged siblings.
  return {
    name: 'etcd',
    goMod: goModText({
      module: 'local/rmqproxy/etcd-bin',
      go: KUBERNETES_GO_DIRECTIVE,
      require: [['go.etcd.io/etcd/server/v3', version]],
      tools: ['go.etcd.io/etcd/server/v3'],
    }),
    packages: [{ path: 'go.etcd.io/etcd/server/v3', binary: 'etcd' }],
    linkerSettings: {},
  };
}

export function kwokWrapper(version: string = KWOK_VERSION): Wrapper {
  return {
    name: 'kwok',
    goMod: goModText({
      module: 'local/rmqproxy/kwok-bin',
      go: KUBERNETES_GO_DIRECTIVE,
      require: [['sigs.k8s.io/kwok', version]],
      tools: ['sigs.k8s.io/kwok/cmd/kwok'],
    }),
    packages: [{ path: 'sigs.k8s.io/kwok/cmd/kwok', binary: 'kwok' }],
    // consts.Version already holds the release number in the tagged source.
    linkerSettings: {},
  };
}

export function allWrappers(): Wrapper[] {
  return [kubernetesWrapper(), etcdWrapper(), kwokWrapper()];
}

/** `-s -w` (no symbol tables: smaller, faster links) plus the -X settings. */
export function ldflags(wrapper: Wrapper): string {
  return [
    '-s',
    '-w',
    ...Object.entries(wrapper.linkerSettings).map(([key, value]) => `-X ${key}=${value}`),
  ].join(' ');
}
