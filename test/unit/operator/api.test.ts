/**
 * The CRD in crds/ is generated from the same schema the TypeScript types are inferred from; these tests
 * keep the committed YAML in step with the schema and check the schema teaches every field.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { parse } from 'yaml';
import { MANAGED_CONFIG_KEYS } from '../../../operator/src/api/constants.ts';
import { buildCrd, CRD_FILE, renderCrdYaml } from '../../../operator/src/api/crd.ts';
import { rocketMQProxySchema, specSchema } from '../../../operator/src/api/schema.ts';
import { schemaPaths } from '../../../operator/src/api/schema-kit.ts';
import { type RocketMQProxySpec, resolveSpec } from '../../../operator/src/api/types.ts';
import { CONFIG_KEYS } from '../../../proxy/src/config/keys.ts';

describe('RocketMQProxy API', () => {
  test('the committed CRD is exactly the rendering of the schema (run `make crds` after editing it)', () => {
    assert.equal(readFileSync(CRD_FILE, 'utf8'), renderCrdYaml());
    assert.deepEqual(parse(readFileSync(CRD_FILE, 'utf8')), buildCrd());
  });

  test('every field below the root has a description (kubectl explain)', () => {
    const missing = schemaPaths(rocketMQProxySchema)
      .filter(({ path, schema }) => path !== 'metadata' && !('description' in schema && schema.description))
      .map(({ path }) => path);
    assert.deepEqual(missing, []);
  });

  test('spec.config offers every proxy key except the ones the operator manages', () => {
    const offered = Object.keys(specSchema.properties.config.properties).sort();
    const expected = CONFIG_KEYS.map((k) => k.path)
      .filter((path) => !(MANAGED_CONFIG_KEYS as readonly string[]).includes(path))
      .sort();
    assert.deepEqual(offered, expected);
    for (const managed of MANAGED_CONFIG_KEYS) {
      assert.ok(
        CONFIG_KEYS.some((k) => k.path === managed),
        `${managed} is a real proxy key`,
      );
    }
  });

  test('resolveSpec fills the same defaults the API server applies, without inventing optional objects', () => {
    const spec: RocketMQProxySpec = { nameServers: { addresses: ['ns:9876'] }, tls: { enabled: false } };
    const resolved = resolveSpec(spec);
    assert.equal(resolved.mode, 'Cluster');
    assert.equal(resolved.ports.grpc, 8081);
    assert.equal(resolved.ports.admin, 8082);
    assert.equal(resolved.tls.enabled, false, 'a given value wins over the default');
    assert.equal(resolved.tls.mode, 'Permissive', 'defaults fill in beside given values');
    assert.equal(resolved.rollout.maxSurge, '25%');
    assert.equal(resolved.autoscaling, undefined, 'optional objects without a default stay absent');
    assert.equal(resolved.replicas, undefined);
    assert.deepEqual(
      spec,
      { nameServers: { addresses: ['ns:9876'] }, tls: { enabled: false } },
      'input untouched',
    );
  });

  test('object defaults are complete, so the CEL rules on them evaluate (the API server checks this)', () => {
    const rollout = specSchema.properties.rollout.default as Record<string, unknown>;
    assert.equal(rollout['terminationGracePeriodSeconds'], 60);
    const tls = specSchema.properties.tls.default as Record<string, unknown>;
    assert.equal(tls['certificateValidity'], '2160h');
  });

  test('the CRD has the status and scale subresources, short name and printer columns', () => {
    const crd = buildCrd() as {
      spec: { names: { shortNames: string[] }; versions: Record<string, unknown>[] };
    };
    const version = crd.spec.versions[0] as {
      subresources: { scale: Record<string, string> };
      additionalPrinterColumns: { name: string }[];
    };
    assert.deepEqual(crd.spec.names.shortNames, ['rmqp']);
    assert.equal(version.subresources.scale['specReplicasPath'], '.spec.replicas');
    assert.equal(version.subresources.scale['labelSelectorPath'], '.status.labelSelector');
    const columns = version.additionalPrinterColumns.map((c) => c.name);
    for (const name of ['Mode', 'Desired', 'Ready', 'Available', 'Image', 'Endpoint', 'Age']) {
      assert.ok(columns.includes(name), name);
    }
  });
});
