/**
 * Kubernetes test control plane command line:
 *   node test/harness/kube/cli.ts build [--force]   build/cache the binaries (`make kube-peers`)
 *   node test/harness/kube/cli.ts up [--keep]       run etcd + apiserver + controller-manager + scheduler + KWOK until Ctrl-C
 *   node test/harness/kube/cli.ts pin               regenerate test/peers/k8s/*\/go.{mod,sum} from versions.ts
 */
import { Command } from 'commander';
import { ensureKubeBinaries, pinWrappers } from './build.ts';
import { startControlPlane } from './controlplane.ts';
import { ETCD_VERSION, KUBERNETES_VERSION, KWOK_VERSION } from './versions.ts';

const log = (line: string): void => {
  process.stderr.write(`${line}\n`);
};

async function buildCommand(options: { force?: boolean }): Promise<void> {
  const binaries = await ensureKubeBinaries({ force: options.force, log });
  log(
    `Kubernetes ${KUBERNETES_VERSION}, etcd ${ETCD_VERSION}, kwok ${KWOK_VERSION} binaries ready in ${binaries.binDir}`,
  );
}

async function upCommand(options: { keep?: boolean }): Promise<void> {
  const kube = await startControlPlane({ keep: options.keep, log });
  let stopping = false;
  const shutdown = (signal: NodeJS.Signals): void => {
    if (stopping) {
      // Second Ctrl-C: give up waiting; the exit hook SIGKILLs the components.
      log(`${signal} again: killing the control plane`);
      process.exit(130);
    }
    stopping = true;
    log(`${signal}: stopping the control plane (Ctrl-C again to kill)`);
    kube.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        log(`stop failed: ${error instanceof Error ? error.message : String(error)}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
  process.on('SIGHUP', shutdown);

  // Machine-readable on stdout; commentary on stderr.
  process.stdout.write(`KUBECONFIG=${kube.kubeconfigPath}\n`);
  const memory = Object.entries(kube.memory())
    .map(([name, bytes]) => `${name} ${Math.round(bytes / 1048576)} MiB`)
    .join(', ');
  log(`control plane up at ${kube.server} (RSS: ${memory}); Ctrl-C to stop`);
  setInterval(() => {}, 1 << 30);
}

const program = new Command('rmqp-kube').description(
  'Kubernetes test control plane for the rmqproxy operator',
);
program
  .command('build')
  .description(
    `build Kubernetes ${KUBERNETES_VERSION}, etcd ${ETCD_VERSION} and kwok ${KWOK_VERSION} into the cache`,
  )
  .option('--force', 'rebuild even if the cache is complete')
  .action(buildCommand);
program
  .command('up')
  .description(
    'start the control plane on 127.0.0.1 with one fake node, print KUBECONFIG=…, run until Ctrl-C',
  )
  .option('--keep', 'keep the run directory (etcd data, logs) after stopping')
  .action(upCommand);
program
  .command('pin')
  .description('rewrite the wrapper go.mod/go.sum files under test/peers/k8s from versions.ts')
  .action(() => pinWrappers({ log }));

try {
  await program.parseAsync(process.argv);
} catch (error) {
  log(error instanceof Error ? error.message : String(error));
  process.exitCode = 1;
}
