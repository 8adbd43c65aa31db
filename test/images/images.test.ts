/**
 * The container images without a container engine: the Dockerfiles in images/ are emulated (test/images/
 * dockerfile.ts: every stage's COPY and RUN, so `npm ci --omit=dev` and the protobuf generator really
 * run), the final stage's tree gets Node at /nodejs/bin/node as in the distroless base, is made read-only,
 * and the ENTRYPOINT is started from it as the image's USER (uid 65532 when this runs as root) — the proxy
 * with the configuration the operator renders until /livez answers, the operator CLI until it has loaded
 * every module. Also checks what the manifests and the operator assume about the images (names, tags, uid).
 *
 * Run: make test-images (≈1 min: two npm installs from the npm cache).
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  linkSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { DEFAULT_PROXY_IMAGE } from '../../operator/src/api/constants.ts';
import { resolve } from '../../operator/src/api/types.ts';
import { renderConfig } from '../../operator/src/resources/config.ts';
import { buildDeployment } from '../../operator/src/resources/workload.ts';
import { assembleStage, type ImageConfig, imageConfig, readDockerfile, type Stage } from './dockerfile.ts';

const REPO = process.cwd();
const IMAGE_UID = 65532;
const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as {
  version: string;
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};

interface BuiltImage {
  stages: Stage[];
  text: string;
  config: ImageConfig;
  root: string;
}

function freePort(): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolvePromise(port));
    });
  });
}

/** The image name a Dockerfile declares in its header ("Image: name:tag"). */
const declaredImage = (text: string): string | undefined => /^# .*Image: (\S+?)[ (]/m.exec(text)?.[1];

/** chmod -R: directories r-x, files r-- (x kept where set): nobody, not even the owner, can write. */
function makeReadOnly(path: string): void {
  const walk = (p: string): void => {
    const stat = readdirStat(p);
    if (stat.isDirectory) {
      for (const entry of stat.entries) walk(join(p, entry));
      chmodSync(p, 0o555);
    } else if (!stat.isSymlink) chmodSync(p, stat.mode & 0o111 ? 0o555 : 0o444);
  };
  walk(path);
}

function readdirStat(p: string): {
  isDirectory: boolean;
  isSymlink: boolean;
  mode: number;
  entries: string[];
} {
  const stat = lstatSync(p);
  return {
    isDirectory: stat.isDirectory(),
    isSymlink: stat.isSymbolicLink(),
    mode: stat.mode,
    entries: stat.isDirectory() ? readdirSync(p) : [],
  };
}

function makeWritable(path: string): void {
  const walk = (p: string): void => {
    const stat = readdirStat(p);
    if (stat.isSymlink) return;
    chmodSync(p, stat.isDirectory ? 0o755 : 0o644 | (stat.mode & 0o111));
    for (const entry of stat.entries) walk(join(p, entry));
  };
  if (existsSync(path)) walk(path);
}

/** Starts the image's ENTRYPOINT (Node from /nodejs/bin/node inside the tree) with `args` in place of CMD. */
function runImage(image: BuiltImage, args: string[], scratch: string): ChildProcess {
  const [entry, ...entryArgs] = image.config.entrypoint;
  assert.equal(entry, '/nodejs/bin/node', 'the distroless Node path');
  const asImageUser = process.getuid?.() === 0;
  return spawn(join(image.root, entry), [...entryArgs, ...args], {
    cwd: join(image.root, image.config.workdir),
    env: { ...image.config.env, HOME: '/home/nonroot', TMPDIR: scratch, PATH: '/usr/bin:/bin' },
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(asImageUser ? { uid: IMAGE_UID, gid: IMAGE_UID } : {}),
  });
}

function collect(child: ChildProcess): { output: () => string; exit: Promise<number | null> } {
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exit = new Promise<number | null>((resolvePromise) =>
    child.on('exit', (code) => resolvePromise(code)),
  );
  return { output: () => output, exit };
}

describe('container images (emulated Dockerfiles, read-only tree, image user)', {
  timeout: 15 * 60_000,
}, () => {
  const cache = new Map<string, string>();
  const images: Record<'proxy' | 'operator', BuiltImage> = {} as Record<'proxy' | 'operator', BuiltImage>;
  let scratch: string;

  before(
    () => {
      const env = { ...process.env, npm_config_prefer_offline: 'true', npm_config_update_notifier: 'false' };
      for (const name of ['proxy', 'operator'] as const) {
        const { stages, text } = readDockerfile(`images/${name}/Dockerfile`);
        const root = assembleStage(stages, stages.length - 1, {
          context: REPO,
          env,
          cache,
          log: (line) => process.stderr.write(`[${name}] ${line}\n`),
        });
        // The base image's Node, where the distroless image has it.
        mkdirSync(join(root, 'nodejs/bin'), { recursive: true });
        try {
          linkSync(process.execPath, join(root, 'nodejs/bin/node'));
        } catch {
          copyFileSync(process.execPath, join(root, 'nodejs/bin/node'));
          chmodSync(join(root, 'nodejs/bin/node'), 0o755);
        }
        makeReadOnly(root);
        images[name] = { stages, text, config: imageConfig(stages.at(-1)!), root };
      }
      scratch = mkdtempSync(join(tmpdir(), 'rmqp-image-tmp-'));
      chmodSync(scratch, 0o777);
    },
    { timeout: 15 * 60_000 },
  );

  after(() => {
    for (const dir of [...cache.values(), scratch]) {
      if (!dir) continue;
      makeWritable(dir);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('names, tags and user agree with the operator defaults and the manifests; bases pinned; multi-stage', () => {
    const operatorManifest = parseAllDocuments(readFileSync('manifests/operator.yaml', 'utf8')).map((d) =>
      d.toJS(),
    )[0] as {
      spec: {
        template: {
          spec: { securityContext: { runAsUser: number }; containers: { image: string }[] };
        };
      };
    };
    assert.equal(declaredImage(images.proxy.text), DEFAULT_PROXY_IMAGE, 'proxy image = default spec.image');
    assert.equal(
      declaredImage(images.operator.text),
      operatorManifest.spec.template.spec.containers[0]?.image,
      'operator image = manifests/operator.yaml',
    );
    for (const image of [DEFAULT_PROXY_IMAGE, operatorManifest.spec.template.spec.containers[0]!.image])
      assert.ok(image.endsWith(`:${pkg.version}`), `${image} is tagged with the package version`);
    assert.equal(operatorManifest.spec.template.spec.securityContext.runAsUser, IMAGE_UID);
    const deployment = buildDeployment(
      resolve({
        apiVersion: 'rmqproxy.io/v1alpha1',
        kind: 'RocketMQProxy',
        metadata: { name: 'p', namespace: 'ns', uid: 'u' },
        spec: { nameServers: { addresses: ['n.ns.svc:9876'] } },
      }),
      { configHash: 'h', certificateHash: undefined },
    );
    assert.equal(deployment.spec?.template.spec?.securityContext?.runAsUser, IMAGE_UID);
    for (const image of Object.values(images)) {
      assert.ok(image.stages.length >= 2, 'multi-stage');
      for (const stage of image.stages.slice(0, -1))
        assert.match(
          stage.base,
          /^node:24\.\d+\.\d+-[a-z-]+$/,
          'build stages: official Node 24, exact version',
        );
      assert.match(image.stages.at(-1)!.base, /^gcr\.io\/distroless\/nodejs24-debian1\d:nonroot$/);
      assert.equal(image.config.user, `${IMAGE_UID}:${IMAGE_UID}`, 'non-root');
      assert.equal(image.config.env['NODE_ENV'], 'production');
    }
  });

  test('only production dependencies ship (package-lock "dev" entries absent); generated protobuf code in the proxy image', () => {
    const lock = JSON.parse(readFileSync('package-lock.json', 'utf8')) as {
      packages: Record<string, { dev?: boolean; optional?: boolean }>;
    };
    const devOnly = Object.entries(lock.packages).filter(([path, entry]) => path && entry.dev);
    const production = Object.entries(lock.packages).filter(
      ([path, entry]) => path && !entry.dev && !entry.optional,
    );
    assert.ok(devOnly.length > 0 && production.length > 0);
    for (const [name, image] of Object.entries(images)) {
      const app = join(image.root, image.config.workdir);
      for (const [path] of production) assert.ok(existsSync(join(app, path)), `${name}: ${path} present`);
      for (const [path] of devOnly)
        assert.ok(!existsSync(join(app, path)), `${name}: dev-only ${path} absent`);
      for (const dev of Object.keys(pkg.devDependencies).filter((d) =>
        devOnly.some(([p]) => p === `node_modules/${d}`),
      ))
        assert.ok(!existsSync(join(app, 'node_modules', dev)), `${name}: ${dev} absent`);
    }
    assert.ok(existsSync(join(images.proxy.root, 'app/proxy/gen/proto/rocketmq.js')));
    assert.ok(!existsSync(join(images.proxy.root, 'app/test')), 'no tests in the image');
    assert.ok(
      !existsSync(join(images.operator.root, 'app/proxy/gen')),
      'the operator needs no generated code',
    );
  });

  test('the proxy starts from the read-only image with the operator-rendered config and answers /livez', async () => {
    const [grpcPort, adminPort, deadPort] = await Promise.all([freePort(), freePort(), freePort()]);
    // What the operator puts in the ConfigMap (TLS off here: no Secret volume), ports moved off the defaults.
    const rendered = renderConfig(
      resolve({
        apiVersion: 'rmqproxy.io/v1alpha1',
        kind: 'RocketMQProxy',
        metadata: { name: 'p', namespace: 'ns' },
        spec: { nameServers: { addresses: [`127.0.0.1:${deadPort}`] }, tls: { enabled: false } },
      }).spec,
    );
    const configFile = join(scratch, 'proxy.yaml');
    writeFileSync(configFile, rendered.yaml, { mode: 0o444 });
    const child = runImage(
      images.proxy,
      [
        'serve',
        '--config',
        configFile,
        '--host',
        '127.0.0.1',
        '--port',
        String(grpcPort),
        '--admin-port',
        String(adminPort),
        '--set',
        'admin.host=127.0.0.1',
      ],
      scratch,
    );
    const { output, exit } = collect(child);
    try {
      const deadline = Date.now() + 30_000;
      let live = false;
      while (!live && Date.now() < deadline && child.exitCode === null) {
        live = await fetch(`http://127.0.0.1:${adminPort}/livez`).then(
          (r) => r.status === 200,
          () => false,
        );
        if (!live) await new Promise((r) => setTimeout(r, 200));
      }
      assert.ok(live, `/livez answered 200 (output: ${output().slice(-2000)})`);
    } finally {
      child.kill('SIGTERM');
    }
    assert.equal(await exit, 0, `clean exit on SIGTERM (output: ${output().slice(-2000)})`);
  });

  test('the operator CLI loads every module from the read-only image', async () => {
    const help = runImage(images.operator, ['run', '--help'], scratch);
    const { output, exit } = collect(help);
    assert.equal(await exit, 0, output());
    assert.match(output(), /--namespaces/);
    // A start that fails late (after every import): one line, exit 2 — not a missing-module crash.
    const bad = runImage(
      images.operator,
      ['run', '--kubeconfig', join(scratch, 'missing'), '--http-port', '0'],
      scratch,
    );
    const failed = collect(bad);
    assert.equal(await failed.exit, 2, failed.output());
    assert.doesNotMatch(failed.output(), /ERR_MODULE_NOT_FOUND|Cannot find (module|package)/);
  });
});
