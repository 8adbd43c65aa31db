/**
 * tls.source Secret: the user owns a kubernetes.io/tls Secret and the operator only mounts it. That
 * Secret carries none of our labels, so no informer sees it change: the pass looks again every minute
 * and the certificate hash rolls the pods when tls.crt changes.
 */
import type { KubeClient } from '../../runtime/client.ts';
import { certificateHash, readSecret, type TlsOutcome, type TlsPass, type TlsSource } from './source.ts';

const ROTATION_CHECK_MS = 60_000;
const RETRY_INVALID_MS = 30_000;

export class UserSecretSource implements TlsSource {
  readonly #client: KubeClient;

  constructor(client: KubeClient) {
    this.#client = client;
  }

  async prepare({ proxy }: TlsPass): Promise<TlsOutcome> {
    const secretName = proxy.spec.tls.secretName ?? '';
    const invalid = (why: string): TlsOutcome => ({
      state: 'failed',
      problem: {
        reason: 'TLSSecretInvalid',
        message: `spec.tls.secretName ${secretName}: ${why}`,
        requeueAfterMs: RETRY_INVALID_MS,
      },
    });
    let secret: Awaited<ReturnType<typeof readSecret>>;
    try {
      secret = await readSecret(this.#client, proxy.metadata.namespace, secretName);
    } catch (error) {
      return invalid(String(error));
    }
    if (!secret) return invalid('Secret not found');
    const crt = secret.data?.['tls.crt'];
    if (!crt || !secret.data?.['tls.key']) return invalid('missing tls.crt or tls.key');
    return {
      state: 'ready',
      hash: certificateHash(crt),
      status: { secretName },
      requeueAfterMs: ROTATION_CHECK_MS,
    };
  }
}
