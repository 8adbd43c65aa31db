/**
 * The single source of truth for the Kubernetes control plane the operator tests run against. The wrapper
 * go.mod files under test/peers/k8s are generated from these constants (`node test/harness/kube/cli.ts pin`),
 * and the build refuses to run when they disagree, so a version is changed here and nowhere else.
 */

/** k8s.io/kubernetes release: kube-apiserver, kube-controller-manager, kube-scheduler. */
export const KUBERNETES_VERSION = 'v1.36.3';

/**
 * The staging modules (k8s.io/api, client-go, …) of that release. k8s.io/kubernetes requires them at v0.0.0
 * and replaces them with ./staging paths that are not in its module zip, so our wrapper replaces each with its
 * published v0.<minor>.<patch> twin. Copied from the release's own go.mod replace block (1.36 added
 * cri-streaming and streaming to the 31 of 1.33/1.34); compare again when changing the minor version.
 */
export const KUBERNETES_STAGING_MODULES = [
  'api',
  'apiextensions-apiserver',
  'apimachinery',
  'apiserver',
  'cli-runtime',
  'client-go',
  'cloud-provider',
  'cluster-bootstrap',
  'code-generator',
  'component-base',
  'component-helpers',
  'controller-manager',
  'cri-api',
  'cri-client',
  'cri-streaming',
  'csi-translation-lib',
  'dynamic-resource-allocation',
  'endpointslice',
  'externaljwt',
  'kms',
  'kube-aggregator',
  'kube-controller-manager',
  'kube-proxy',
  'kube-scheduler',
  'kubectl',
  'kubelet',
  'metrics',
  'mount-utils',
  'pod-security-admission',
  'sample-apiserver',
  'sample-cli-plugin',
  'sample-controller',
  'streaming',
] as const;

/** The `go` and `godebug default=` lines of k8s.io/kubernetes' own go.mod (a dependency's godebug is ignored). */
export const KUBERNETES_GO_DIRECTIVE = '1.26.0';
export const KUBERNETES_GODEBUG_DEFAULT = 'go1.26';

/** etcd server; kubeadm pairs Kubernetes 1.34–1.36 with 3.6.x. */
export const ETCD_VERSION = 'v3.6.16';

/** KWOK (fake kubelet): nodes and pods that look Ready/Running without running anything. Its go.mod says go 1.26.0. */
export const KWOK_VERSION = 'v0.8.0';

/** Oldest Go that builds all three (each go.mod says go 1.26.0); GOTOOLCHAIN=local forbids fetching another. */
export const MIN_GO_VERSION = [1, 26] as const;

/** @kubernetes/client-node in package.json is generated from this Kubernetes minor (2.0.x: release-1.36). */
export const CLIENT_NODE_KUBERNETES_MINOR = '1.36';

/**
 * KWOK stage files (paths inside the sigs.k8s.io/kwok module zip, under kustomize/stage). Standalone kwok
 * ships no built-in stages; these make nodes Ready with lease heartbeats, and pods Running/Ready, Succeeded
 * when their containers would exit, and gone when deleted.
 */
export const KWOK_STAGE_FILES = [
  'node/fast/node-initialize.yaml',
  'node/heartbeat-with-lease/node-heartbeat-with-lease.yaml',
  'pod/fast/pod-ready.yaml',
  'pod/fast/pod-complete.yaml',
  'pod/fast/pod-delete.yaml',
] as const;

/** Pod IPs KWOK hands out: loopback, so an accidental dial of a pod IP never leaves the machine. */
export const KWOK_POD_CIDR = '127.77.0.0/16';

/** Annotation that marks the nodes KWOK manages (the fake node carries it; no taint, so pods need no tolerations). */
export const KWOK_NODE_ANNOTATION = { key: 'kwok.x-k8s.io/node', value: 'fake' } as const;

/** ClusterIP range for Services (never dialled: there is no kube-proxy). */
export const SERVICE_CLUSTER_IP_RANGE = '10.96.0.0/24';

/** The binaries the build produces in <cache>/kube-<KUBERNETES_VERSION>/bin. */
export const KUBE_BINARIES = [
  'kube-apiserver',
  'kube-controller-manager',
  'kube-scheduler',
  'etcd',
  'kwok',
] as const;
export type KubeBinary = (typeof KUBE_BINARIES)[number];
