/**
 * Certificate lifecycle as a pure decision: given the Secrets that exist, the names the proxy must answer
 * for and the clock, keep or (re)issue the CA and the serving certificate, and say when to look again.
 * The proxy does not reload certificates from disk, so a new serving certificate rolls the pods (its hash
 * goes into the pod template); renewal happens `renewBefore` ahead of expiry so the roll finishes in time.
 */
import { createHash, X509Certificate } from 'node:crypto';
import { canonicalIp, issueCertificate, type KeyPairPem, keyMatches } from './x509.ts';

export interface ExistingSecret {
  data: Record<string, string>;
}

export interface CertificateInputs {
  now: Date;
  /** Decoded data of <name>-ca (ca.crt, ca.key), if it exists. */
  ca: Record<string, string> | undefined;
  /** Decoded data of <name>-tls (tls.crt, tls.key, ca.crt), if it exists. */
  server: Record<string, string> | undefined;
  dnsNames: readonly string[];
  ipAddresses: readonly string[];
  validityMs: number;
  renewBeforeMs: number;
  caValidityMs: number;
  commonName: string;
}

export interface CertificatePlan {
  ca: KeyPairPem;
  server: KeyPairPem;
  caIssued: boolean;
  serverIssued: boolean;
  /** Why the serving certificate was (re)issued, for the Event; undefined when kept. */
  reason: string | undefined;
  notAfter: Date;
  renewAt: Date;
  caNotAfter: Date;
  /** sha256 of the serving certificate: the pod-template annotation that rolls pods on change. */
  hash: string;
}

/** CA replacement starts in the last third of its life, leaving time for clients to pick up the new one. */
const CA_RENEW_FRACTION = 1 / 3;

export function planCertificates(input: CertificateInputs): CertificatePlan {
  const now = input.now.getTime();
  let ca = usableCa(input.ca, now, input.caValidityMs);
  let caIssued = false;
  if (!ca) {
    ca = issueCertificate({
      commonName: `${input.commonName} CA`,
      notBefore: new Date(now - 60_000),
      notAfter: new Date(now + input.caValidityMs),
      isCa: true,
    });
    caIssued = true;
  }
  const wanted = sortedSans(input.dnsNames, input.ipAddresses);
  let reason = caIssued ? 'CA issued' : serverProblem(input.server, ca, wanted, now, input.renewBeforeMs);
  let server: KeyPairPem;
  if (reason === undefined && input.server) {
    server = { certPem: input.server['tls.crt']!, keyPem: input.server['tls.key']! };
  } else {
    reason ??= 'missing';
    server = issueCertificate({
      commonName: input.commonName,
      notBefore: new Date(now - 60_000),
      notAfter: new Date(now + input.validityMs),
      isCa: false,
      dnsNames: input.dnsNames,
      ipAddresses: input.ipAddresses,
      issuer: ca,
    });
  }
  const cert = new X509Certificate(server.certPem);
  const notAfter = new Date(cert.validTo);
  const caNotAfter = new Date(new X509Certificate(ca.certPem).validTo);
  return {
    ca,
    server,
    caIssued,
    serverIssued: reason !== undefined,
    reason,
    notAfter,
    renewAt: new Date(notAfter.getTime() - input.renewBeforeMs),
    caNotAfter,
    hash: createHash('sha256').update(server.certPem).digest('hex').slice(0, 16),
  };
}

function usableCa(
  data: Record<string, string> | undefined,
  now: number,
  validityMs: number,
): KeyPairPem | undefined {
  const certPem = data?.['ca.crt'];
  const keyPem = data?.['ca.key'];
  if (!certPem || !keyPem || !keyMatches(certPem, keyPem)) return undefined;
  try {
    const cert = new X509Certificate(certPem);
    if (!cert.ca) return undefined;
    if (Date.parse(cert.validTo) - now < validityMs * CA_RENEW_FRACTION) return undefined;
    return { certPem, keyPem };
  } catch {
    return undefined;
  }
}

/** Undefined when the existing serving certificate is fine; otherwise why it must be re-issued. */
function serverProblem(
  data: Record<string, string> | undefined,
  ca: KeyPairPem,
  wanted: string,
  now: number,
  renewBeforeMs: number,
): string | undefined {
  const certPem = data?.['tls.crt'];
  const keyPem = data?.['tls.key'];
  if (!certPem || !keyPem) return 'missing';
  if (!keyMatches(certPem, keyPem)) return 'key does not match';
  try {
    const cert = new X509Certificate(certPem);
    if (
      !cert.checkIssued(new X509Certificate(ca.certPem)) ||
      !cert.verify(new X509Certificate(ca.certPem).publicKey)
    ) {
      return 'not issued by the current CA';
    }
    if (sansOf(cert) !== wanted) return 'names changed';
    if (Date.parse(cert.validTo) - now <= renewBeforeMs) return 'expiring';
    return undefined;
  } catch {
    return 'unreadable';
  }
}

function sortedSans(dnsNames: readonly string[], ipAddresses: readonly string[]): string {
  return [...dnsNames.map((n) => `DNS:${n}`), ...ipAddresses.map((ip) => `IP:${canonicalIp(ip)}`)]
    .sort()
    .join(',');
}

/**
 * node:crypto renders SANs as "DNS:a, IP Address:1.2.3.4" and IPv6 as eight upper-case groups
 * ("IP Address:FD00:0:0:0:0:0:0:1"), so addresses are compared in canonical form: otherwise "fd00::1" in
 * the spec would never match its own certificate and every pass would re-issue it and roll the pods.
 */
export function sansOf(cert: X509Certificate): string {
  return (cert.subjectAltName ?? '')
    .split(', ')
    .filter(Boolean)
    .map((entry) =>
      entry.startsWith('IP Address:') ? `IP:${canonicalIp(entry.slice('IP Address:'.length))}` : entry,
    )
    .sort()
    .join(',');
}

/** Parses a Go duration (2160h, 1h30m, 90s, 500ms) into milliseconds. */
export function parseDuration(text: string): number {
  const units: Record<string, number> = { ns: 1e-6, us: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  const pattern = /([0-9]+(?:\.[0-9]+)?)(ns|us|ms|s|m|h)/gy;
  let total = 0;
  let consumed = 0;
  for (let match = pattern.exec(text); match; match = pattern.exec(text)) {
    total += Number(match[1]) * units[match[2]!]!;
    consumed = pattern.lastIndex;
  }
  if (consumed !== text.length || text.length === 0) throw new Error(`invalid duration "${text}"`);
  return total;
}
