/** Certificates for tests that serve TLS on the loopback interface (the operator's webhook and manager). */
import { issueCertificate, type KeyPairPem } from '../../operator/src/resources/x509.ts';

/** A CA and a serving certificate for 127.0.0.1/localhost, valid for an hour. */
export function loopbackCertificate(commonName = 'test'): { ca: KeyPairPem; server: KeyPairPem } {
  const now = Date.now();
  const ca = issueCertificate({
    commonName: `${commonName} CA`,
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + 3_600_000),
    isCa: true,
  });
  const server = issueCertificate({
    commonName,
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + 3_600_000),
    isCa: false,
    dnsNames: ['localhost'],
    ipAddresses: ['127.0.0.1'],
    issuer: ca,
  });
  return { ca, server };
}
