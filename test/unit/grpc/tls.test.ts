import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { routeFor, TLS_HANDSHAKE_RECORD } from '../../../proxy/src/grpc/sniff.ts';
import { generateSelfSigned, loadTlsMaterial } from '../../../proxy/src/grpc/tls.ts';

describe('self-signed certificate', () => {
  const now = new Date('2026-11-29T12:00:00Z');
  const material = generateSelfSigned({ names: ['proxy.example', '10.1.2.3', 'fe80::1', '0.0.0.0'], now });
  const cert = new X509Certificate(material.certPem);

  test('is a valid X.509 certificate signed by its own key', () => {
    assert.ok(cert.verify(cert.publicKey));
    assert.equal(cert.issuer, cert.subject);
    assert.equal(material.selfSigned, true);
    assert.equal(cert.ca, false);
  });

  test('covers loopback, localhost and the requested names, but not the wildcard address', () => {
    for (const ip of ['127.0.0.1', '::1', '10.1.2.3', 'fe80::1']) assert.equal(cert.checkIP(ip), ip);
    for (const host of ['localhost', 'proxy.example']) assert.equal(cert.checkHost(host), host);
    assert.equal(cert.checkIP('0.0.0.0'), undefined);
  });

  test('is valid from an hour before now for ten years', () => {
    assert.equal(new Date(cert.validFrom).toISOString(), '2026-11-29T11:00:00.000Z');
    assert.equal(new Date(cert.validTo).getUTCFullYear(), 2036);
  });

  test('dates after 2049 use GeneralizedTime and still parse', () => {
    const late = new X509Certificate(
      generateSelfSigned({ now: new Date('2049-06-01T00:00:00Z'), validDays: 365 }).certPem,
    );
    assert.equal(new Date(late.validTo).getUTCFullYear(), 2050);
  });

  test('each start makes a new key and serial', () => {
    const other = new X509Certificate(generateSelfSigned().certPem);
    assert.notEqual(other.serialNumber, cert.serialNumber);
    assert.notEqual(other.fingerprint256, cert.fingerprint256);
  });
});

describe('loadTlsMaterial', () => {
  test('reads PEM files and names the bad one', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rmqp-tls-'));
    const good = generateSelfSigned();
    await writeFile(join(dir, 'c.pem'), good.certPem);
    await writeFile(join(dir, 'k.pem'), good.keyPem);
    await writeFile(join(dir, 'junk.pem'), 'not a pem');
    const loaded = await loadTlsMaterial(join(dir, 'c.pem'), join(dir, 'k.pem'));
    assert.equal(loaded.selfSigned, false);
    assert.equal(loaded.certPem, good.certPem);
    await assert.rejects(
      loadTlsMaterial(join(dir, 'junk.pem'), join(dir, 'k.pem')),
      /tls\.certFile .*junk\.pem: not a PEM certificate/,
    );
    await assert.rejects(
      loadTlsMaterial(join(dir, 'c.pem'), join(dir, 'junk.pem')),
      /tls\.keyFile .*junk\.pem: not a PEM private key/,
    );
    await assert.rejects(loadTlsMaterial(join(dir, 'missing.pem'), join(dir, 'k.pem')), /ENOENT/);
  });
});

describe('routeFor (first byte × tls.mode)', () => {
  const PREFACE = 'P'.charCodeAt(0); // "PRI * HTTP/2.0"
  const cases = [
    [TLS_HANDSHAKE_RECORD, 'permissive', 'tls'],
    [PREFACE, 'permissive', 'plaintext'],
    [TLS_HANDSHAKE_RECORD, 'enforcing', 'tls'],
    [PREFACE, 'enforcing', 'refuse'],
    [TLS_HANDSHAKE_RECORD, 'disabled', 'refuse'],
    [PREFACE, 'disabled', 'plaintext'],
  ] as const;
  for (const [byte, mode, expected] of cases) {
    test(`0x${byte.toString(16)} in ${mode} → ${expected}`, () => {
      const decision = routeFor(byte, mode);
      assert.equal('route' in decision ? decision.route : 'refuse', expected);
    });
  }
});
