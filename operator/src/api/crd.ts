/** Builds the RocketMQProxy CustomResourceDefinition from the schema (crds/ holds its YAML rendering). */
import { stringify } from 'yaml';
import { CRD_NAME, GROUP, KIND, PLURAL, SHORT_NAMES, SINGULAR, VERSION } from './constants.ts';
import { rocketMQProxySchema } from './schema.ts';

export function buildCrd(): Record<string, unknown> {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: {
      name: CRD_NAME,
      labels: {
        'app.kubernetes.io/name': 'rocketmq-proxy-operator',
        'app.kubernetes.io/part-of': 'rmqproxy',
      },
    },
    spec: {
      group: GROUP,
      scope: 'Namespaced',
      names: {
        kind: KIND,
        listKind: `${KIND}List`,
        plural: PLURAL,
        singular: SINGULAR,
        shortNames: [...SHORT_NAMES],
        categories: ['rocketmq'],
      },
      versions: [
        {
          name: VERSION,
          served: true,
          storage: true,
          schema: { openAPIV3Schema: rocketMQProxySchema },
          subresources: {
            status: {},
            scale: {
              specReplicasPath: '.spec.replicas',
              statusReplicasPath: '.status.replicas',
              labelSelectorPath: '.status.labelSelector',
            },
          },
          additionalPrinterColumns: [
            { name: 'Mode', type: 'string', jsonPath: '.spec.mode' },
            { name: 'Desired', type: 'integer', jsonPath: '.status.desiredReplicas' },
            { name: 'Ready', type: 'integer', jsonPath: '.status.readyReplicas' },
            { name: 'Available', type: 'integer', jsonPath: '.status.availableReplicas' },
            { name: 'Status', type: 'string', jsonPath: '.status.conditions[?(@.type=="Ready")].reason' },
            { name: 'Image', type: 'string', jsonPath: '.status.currentImage' },
            { name: 'Endpoint', type: 'string', jsonPath: '.status.endpoint', priority: 1 },
            { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
          ],
        },
      ],
    },
  };
}

export const CRD_FILE = 'crds/rocketmqproxies.rmqproxy.io.yaml';

export function renderCrdYaml(): string {
  return `# Generated from operator/src/api/schema.ts by \`make crds\`; do not edit by hand.\n${stringify(buildCrd(), { lineWidth: 0 })}`;
}
