/**
 * The serving certificates' expiry as a metric, so an alert can fire before one lapses (say, cert-manager
 * stopped renewing). It lives with the TLS sources that set it, on the manager's registry.
 */
import { Gauge, type Registry } from 'prom-client';
import { METRICS_PREFIX } from '../../api/constants.ts';

export type ExpiryGauge = Gauge<'namespace' | 'name'>;

export function certificateExpiryGauge(registry: Registry): ExpiryGauge {
  return new Gauge({
    name: `${METRICS_PREFIX}_certificate_expiry_timestamp_seconds`,
    help: 'notAfter of the serving certificate of each RocketMQProxy (issued by the operator or cert-manager).',
    labelNames: ['namespace', 'name'] as const,
    registers: [registry],
  });
}
