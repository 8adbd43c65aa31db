import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { describe, test } from 'node:test';
import { planCertificates, sansOf } from '../../../operator/src/resources/certificates.ts';
import { canonicalIp, ipBytes } from '../../../operator/src/resources/x509.ts';

const day = 86_400_000;
const base = {
  dnsNames: ['p.ns.svc'],
  validityMs: 30 * day,
  renewBeforeMs: day,
  caValidityMs: 365 * day,
  commonName: 'p.ns',
};
const issue = (ipAddresses: string[]) =>
  planCertificates({ ...base, now: new Date(), ca: undefined, server: undefined, ipAddresses });
const again = (first: ReturnType<typeof issue>, ipAddresses: string[]) =>
  planCertificates({
    ...base,
    now: new Date(),
    ipAddresses,
    ca: { 'ca.crt': first.ca.certPem, 'ca.key': first.ca.keyPem },
    server: { 'tls.crt': first.server.certPem, 'tls.key': first.server.keyPem },
  });

describe('IP SANs', () => {
  test('ipBytes: IPv4, compressed IPv6, embedded IPv4 tail; malformed input is refused', () => {
    assert.deepEqual([...ipBytes('10.1.2.3')], [10, 1, 2, 3]);
    assert.equal(ipBytes('fd00::1').toString('hex'), 'fd000000000000000000000000000001');
    assert.equal(ipBytes('::ffff:10.0.0.1').toString('hex'), '00000000000000000000ffff0a000001');
    assert.equal(ipBytes('2001:DB8::').toString('hex'), '20010db8000000000000000000000000');
    for (const bad of ['bogus', '10.0.0', '1::2::3', 'fd00::1/64', ''])
      assert.throws(() => ipBytes(bad), /not an IP address/, bad);
  });

  test('every spelling of one IPv6 address has one canonical form (what node:crypto prints, lower-cased)', () => {
    const forms = ['fd00::1', 'FD00::1', 'fd00:0:0:0:0:0:0:1', 'fd00:0000::0001', 'FD00:0:0:0:0:0:0:1'];
    assert.deepEqual(new Set(forms.map(canonicalIp)), new Set(['fd00:0:0:0:0:0:0:1']));
    assert.equal(canonicalIp('::ffff:10.0.0.1'), '0:0:0:0:0:ffff:a00:1');
  });

  test('an issued certificate with IPv6 SANs matches its own spec: no re-issue (no endless rolls)', () => {
    const ips = ['fd00::1', '10.0.0.1', '2001:db8::ff'];
    const first = issue(ips);
    // node:crypto renders IPv6 SANs in full upper-case form; the comparison must see through that.
    assert.match(
      new X509Certificate(first.server.certPem).subjectAltName ?? '',
      /IP Address:FD00:0:0:0:0:0:0:1/,
    );
    const second = again(first, ips);
    assert.equal(second.serverIssued, false, `kept (reason: ${second.reason})`);
    assert.equal(second.hash, first.hash);
    // Another spelling of the same addresses is the same set of names.
    assert.equal(again(first, ['FD00:0::1', '10.0.0.1', '2001:DB8:0:0:0:0:0:FF']).serverIssued, false);
  });

  test('a really different IPv6 address re-issues with reason "names changed"', () => {
    const first = issue(['fd00::1']);
    const changed = again(first, ['fd00::2']);
    assert.equal(changed.serverIssued, true);
    assert.equal(changed.reason, 'names changed');
    assert.match(sansOf(new X509Certificate(changed.server.certPem)), /IP:fd00:0:0:0:0:0:0:2/);
  });
});
