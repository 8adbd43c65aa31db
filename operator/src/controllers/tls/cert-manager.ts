/**
 * tls.source CertManager: the operator applies a cert-manager Certificate (owned by the RocketMQProxy)
 * and mounts the Secret cert-manager issues from it. That Secret carries our labels (the Certificate's
 * secretTemplate), so issuance and renewals reach us through the Secret watch. Until it exists the pods
 * are not created: they could not start without it.
 */
import { X509Certificate } from 'node:crypto';
import type { ResolvedRocketMQProxy } from '../../api/types.ts';
import { buildCertificate } from '../../resources/integrations.ts';
import { childNames } from '../../resources/meta.ts';
import type { Applier } from '../../runtime/apply.ts';
import type { KubeClient } from '../../runtime/client.ts';
import type { KubeObject } from '../../runtime/informer.ts';
import type { CachedKind } from '../../runtime/source.ts';
import { Kinds } from '../kinds.ts';
import type { ExpiryGauge } from './expiry.ts';
import {
  certificateHash,
  readSecret,
  type SecretObject,
  type TlsOutcome,
  type TlsPass,
  type TlsSource,
} from './source.ts';

/** The annotation cert-manager puts on the Secrets it issues, naming their Certificate. */
const CERTIFICATE_NAME_ANNOTATION = 'cert-manager.io/certificate-name';

export interface CertManagerDeps {
  client: KubeClient;
  applier: Applier;
  secrets: CachedKind<SecretObject>;
  certificates: CachedKind<KubeObject & { status?: { renewalTime?: string } }>;
  expiry: ExpiryGauge;
}

export class CertManagerSource implements TlsSource {
  readonly #d: CertManagerDeps;

  constructor(deps: CertManagerDeps) {
    this.#d = deps;
  }

  async prepare({ proxy }: TlsPass): Promise<TlsOutcome> {
    const { namespace, name } = proxy.metadata;
    const names = childNames(name);
    if (!this.#d.certificates.available)
      return {
        state: 'failed',
        problem: {
          reason: 'CertManagerMissing',
          message:
            'spec.tls.source is CertManager but cert-manager.io/v1 Certificate is not served (is cert-manager installed?)',
        },
      };
    const certificate = buildCertificate(proxy);
    if (certificate) await this.#d.applier.apply(certificate);
    const secret =
      this.#d.secrets.get(namespace, names.tlsSecret) ??
      (await readSecret(this.#d.client, namespace, names.tlsSecret));
    const crt = secret?.data?.['tls.crt'];
    const issuedForUs = secret?.metadata.annotations?.[CERTIFICATE_NAME_ANNOTATION] === names.certificate;
    const notAfter = crt && secret?.data?.['tls.key'] && issuedForUs ? expiryOf(crt) : undefined;
    if (!crt || notAfter === undefined)
      return {
        state: 'waiting',
        reason: 'WaitingForCertificate',
        message: `waiting for cert-manager to issue Certificate ${names.certificate} into Secret ${names.tlsSecret}`,
      };
    const renewalTime = this.#d.certificates.get(namespace, names.certificate)?.status?.renewalTime;
    this.#d.expiry.set({ namespace, name }, notAfter.getTime() / 1000);
    return {
      state: 'ready',
      hash: certificateHash(crt),
      status: {
        secretName: names.tlsSecret,
        certificateName: names.certificate,
        notAfter: notAfter.toISOString(),
        ...(renewalTime ? { renewAt: renewalTime } : {}),
      },
    };
  }

  /** Deletes our Certificate (never one the operator does not control) when the source changes. */
  async retire(proxy: ResolvedRocketMQProxy): Promise<void> {
    if (!this.#d.certificates.available) return;
    const { namespace, name, uid } = proxy.metadata;
    await this.#d.applier.deleteOwned(
      Kinds.Certificate,
      this.#d.certificates.get(namespace, childNames(name).certificate),
      uid ?? '',
    );
  }
}

function expiryOf(base64Certificate: string): Date | undefined {
  try {
    return new Date(new X509Certificate(Buffer.from(base64Certificate, 'base64')).validTo);
  } catch {
    return undefined;
  }
}
