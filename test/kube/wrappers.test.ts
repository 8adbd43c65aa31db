/**
 * The committed wrapper modules under test/peers/k8s must be exactly what versions.ts generates (versions
 * are pinned in one place), and the generator must encode the staging-replace recipe correctly. No Go,
 * no network: safe for any test run.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { checkWrappers } from '../harness/kube/build.ts';
import {
  etcdWrapper,
  kubernetesWrapper,
  kwokWrapper,
  ldflags,
  stagingVersion,
} from '../harness/kube/gomod.ts';
import { KUBERNETES_STAGING_MODULES, KUBERNETES_VERSION } from '../harness/kube/versions.ts';

describe('Kubernetes wrapper modules', () => {
  test('the committed go.mod files match versions.ts', () => {
    assert.doesNotThrow(() => checkWrappers());
  });

  test('staging modules are replaced with the v0 twin of the release', () => {
    assert.equal(stagingVersion('v1.36.3'), 'v0.36.3');
    assert.equal(stagingVersion('v1.4.10'), 'v0.4.10');
    assert.throws(() => stagingVersion('1.36.3'), /v1\.<minor>\.<patch>/);
    assert.throws(() => stagingVersion('v1.36.3-rc.0'), /v1\.<minor>\.<patch>/);

    const goMod = kubernetesWrapper('v1.35.7').goMod;
    assert.match(goMod, /^\tk8s\.io\/kubernetes v1\.35\.7$/m);
    for (const module of KUBERNETES_STAGING_MODULES) {
      assert.match(goMod, new RegExp(`^\\tk8s\\.io/${module} => k8s\\.io/${module} v0\\.35\\.7$`, 'm'));
    }
    // Exactly one replace line per staging module, nothing else replaced.
    assert.equal(goMod.match(/ => /g)?.length, KUBERNETES_STAGING_MODULES.length);
  });

  test('the binaries report the pinned version and are stripped', () => {
    const flags = ldflags(kubernetesWrapper());
    assert.match(flags, /^-s -w /);
    assert.ok(flags.includes(`-X k8s.io/component-base/version.gitVersion=${KUBERNETES_VERSION}`));
    assert.ok(
      flags.includes(`-X k8s.io/component-base/version.gitMinor=${KUBERNETES_VERSION.split('.')[1]}`),
    );
    assert.equal(ldflags(etcdWrapper()), '-s -w');
  });

  test('every wrapper names its commands as tools and builds one binary per package', () => {
    for (const wrapper of [kubernetesWrapper(), etcdWrapper(), kwokWrapper()]) {
      for (const pkg of wrapper.packages) {
        assert.match(wrapper.goMod, new RegExp(`^\\t${pkg.path.replaceAll('.', '\\.')}$`, 'm'));
      }
      assert.equal(new Set(wrapper.packages.map((pkg) => pkg.binary)).size, wrapper.packages.length);
    }
    // etcd's main package path ends in /v3: the binary must still be called etcd.
    assert.deepEqual(etcdWrapper().packages, [{ path: 'go.etcd.io/etcd/server/v3', binary: 'etcd' }]);
  });
});
