/**
 * tls.source Operator: the operator keeps its own CA and a serving certificate in two Secrets, issuing
 * and renewing them from a pure plan (resources/certificates.ts). Nothing polls: the pass asks to be
 * looked at again exactly when the certificate enters its renewal window.
 */
import type { ResolvedRocketMQProxy } from '../../api/types.ts';
import { parseDuration, planCertificates } from '../../resources/certificates.ts';
import { childNames, serviceDnsNames } from '../../resources/meta.ts';
import { buildCaSecret, buildTlsSecret } from '../../resources/workload.ts';
import type { Applier } from '../../runtime/apply.ts';
import type { EventRecorder } from '../../runtime/events.ts';
import type { CachedKind } from '../../runtime/source.ts';
import type { ExpiryGauge } from './expiry.ts';
import type { SecretObject, TlsOutcome, TlsPass, TlsSource } from './source.ts';

export interface OperatorCaDeps {
  secrets: CachedKind<SecretObject>;
  applier: Applier;
  events: EventRecorder;
  expiry: ExpiryGauge;
}

/** The longest a pass waits for the renewal time: a wrong clock or a lost timer is caught within a day. */
const MAX_RENEWAL_WAIT_MS = 24 * 3_600_000;

const decode = (secret: SecretObject | undefined): Record<string, string> | undefined =>
  secret?.data
    ? Object.fromEntries(
        Object.entries(secret.data).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]),
      )
    : undefined;

export class OperatorCaSource implements TlsSource {
  readonly #d: OperatorCaDeps;

  constructor(deps: OperatorCaDeps) {
    this.#d = deps;
  }

  async prepare({ proxy, regarding, now }: TlsPass): Promise<TlsOutcome> {
    const plan = this.#plan(proxy, now);
    const { namespace, name } = proxy.metadata;
    if (plan.caIssued) {
      await this.#d.applier.apply(buildCaSecret(proxy, plan));
      this.#d.events.record(
        regarding,
        'Normal',
        'CAIssued',
        'IssueCertificate',
        `CA valid until ${plan.caNotAfter.toISOString()}`,
      );
    }
    if (plan.serverIssued) {
      await this.#d.applier.apply(buildTlsSecret(proxy, plan));
      this.#d.events.record(
        regarding,
        'Normal',
        'CertificateIssued',
        'IssueCertificate',
        `serving certificate issued (${plan.reason}), valid until ${plan.notAfter.toISOString()}; the pods roll to load it`,
      );
    }
    this.#d.expiry.set({ namespace, name }, plan.notAfter.getTime() / 1000);
    const names = childNames(name);
    return {
      state: 'ready',
      hash: plan.hash,
      status: {
        secretName: names.tlsSecret,
        caSecretName: names.caSecret,
        notAfter: plan.notAfter.toISOString(),
        renewAt: plan.renewAt.toISOString(),
        caNotAfter: plan.caNotAfter.toISOString(),
      },
      requeueAfterMs: Math.max(
        1000,
        Math.min(plan.renewAt.getTime() - now.getTime() + 1000, MAX_RENEWAL_WAIT_MS),
      ),
    };
  }

  #plan(proxy: ResolvedRocketMQProxy, now: Date) {
    const { namespace, name } = proxy.metadata;
    const names = childNames(name);
    return planCertificates({
      now,
      ca: decode(this.#d.secrets.get(namespace, names.caSecret)),
      server: decode(this.#d.secrets.get(namespace, names.tlsSecret)),
      dnsNames: serviceDnsNames(proxy),
      ipAddresses: proxy.spec.tls.ipAddresses ?? [],
      validityMs: parseDuration(proxy.spec.tls.certificateValidity),
      renewBeforeMs: parseDuration(proxy.spec.tls.renewBefore),
      caValidityMs: parseDuration(proxy.spec.tls.caValidity),
      commonName: `${name}.${namespace}`,
    });
  }
}
