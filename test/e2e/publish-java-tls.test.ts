/** Publish scenarios with the official Java client and TLS on (its default). */

import { publishScenarios } from './support/publish-scenarios.ts';
import { javaPublisher } from './support/publishers.ts';
import { target } from './support/target.ts';

const { endpoint } = target();
publishScenarios('Java (TLS)', () => javaPublisher(endpoint, true));
