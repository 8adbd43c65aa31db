/** Publish scenarios with the official Node client (`rocketmq-client-nodejs`, plaintext, its default). */

import { publishScenarios } from './support/publish-scenarios.ts';
import { nodePublisher } from './support/publishers.ts';
import { target } from './support/target.ts';

const { endpoint } = target();
publishScenarios('Node', async () => nodePublisher(endpoint));
