/**
 * The webhook server over real HTTPS on loopback: AdmissionReview v1 in, AdmissionReview out, the
 * errors the API server may meet, and a serving certificate swapped while running.
 */
import assert from 'node:assert/strict';
import { request } from 'node:https';
import { after, before, describe, test } from 'node:test';
import type { AdmissionRequest, AdmissionReview } from '../../../operator/src/runtime/admission.ts';
import { WebhookServer } from '../../../operator/src/runtime/webhook-server.ts';
import { loopbackCertificate } from '../../support/certificates.ts';

interface Answer {
  status: number;
  body: string;
}

function post(
  port: number,
  path: string,
  body: string,
  options: { ca: string; method?: string; contentType?: string },
): Promise<Answer> {
  return new Promise((resolvePromise, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path,
        method: options.method ?? 'POST',
        ca: options.ca,
        agent: false, // a new TLS handshake per request: sees the certificate served now
        headers: { 'Content-Type': options.contentType ?? 'application/json' },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolvePromise({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const admissionRequest = (uid: string): AdmissionRequest => ({
  uid,
  kind: { group: '', version: 'v1', kind: 'Pod' },
  resource: { group: '', version: 'v1', resource: 'pods' },
  namespace: 'apps',
  operation: 'CREATE',
  userInfo: { username: 'alice' },
  object: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'apps' } },
});

const reviewOf = (request: AdmissionRequest): string =>
  JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request });

describe('WebhookServer', () => {
  const first = loopbackCertificate('first');
  const ca = first.ca.certPem;
  let server: WebhookServer;
  let port: number;
  const seen: AdmissionRequest[] = [];

  before(async () => {
    server = new WebhookServer({
      port: 0,
      host: '127.0.0.1',
      certificate: { cert: first.server.certPem, key: first.server.keyPem },
      maxBodyBytes: 64 * 1024,
    });
    server.register('/mutate-pods', (req) => {
      seen.push(req);
      return {
        allowed: true,
        patch: [{ op: 'add', path: '/metadata/labels', value: { injected: 'yes' } }],
        warnings: ['mutated'],
      };
    });
    server.register('/deny', () => ({ allowed: false, status: { code: 403, message: 'not here' } }));
    server.register('/broken', async () => {
      throw new Error('handler bug');
    });
    port = await server.start();
  });

  after(() => server.stop());

  test('a mutating round trip: the handler sees the request, the response echoes its uid and carries a base64 JSON patch', async () => {
    const answer = await post(port, '/mutate-pods', reviewOf(admissionRequest('uid-1')), { ca });
    assert.equal(answer.status, 200);
    const review = JSON.parse(answer.body) as AdmissionReview;
    assert.equal(review.apiVersion, 'admission.k8s.io/v1');
    assert.equal(review.kind, 'AdmissionReview');
    assert.equal(review.response?.uid, 'uid-1');
    assert.equal(review.response?.allowed, true);
    assert.equal(review.response?.patchType, 'JSONPatch');
    assert.deepEqual(JSON.parse(Buffer.from(review.response?.patch ?? '', 'base64').toString('utf8')), [
      { op: 'add', path: '/metadata/labels', value: { injected: 'yes' } },
    ]);
    assert.deepEqual(review.response?.warnings, ['mutated']);
    assert.equal(seen.at(-1)?.userInfo.username, 'alice');
    assert.deepEqual(seen.at(-1)?.object, admissionRequest('uid-1').object);
  });

  test('a denial carries its status and no patch; a handler that throws denies with code 500', async () => {
    const denied = JSON.parse((await post(port, '/deny', reviewOf(admissionRequest('uid-2')), { ca })).body);
    assert.deepEqual(denied.response, {
      uid: 'uid-2',
      allowed: false,
      status: { code: 403, message: 'not here' },
    });
    const broken = await post(port, '/broken', reviewOf(admissionRequest('uid-3')), { ca });
    assert.equal(broken.status, 200, 'the API server needs a review to apply its failurePolicy to');
    assert.deepEqual(JSON.parse(broken.body).response, {
      uid: 'uid-3',
      allowed: false,
      status: { code: 500, message: 'handler bug' },
    });
  });

  test('what is not a v1 AdmissionReview POSTed as JSON to a registered path is refused', async () => {
    const body = reviewOf(admissionRequest('uid-4'));
    assert.equal((await post(port, '/nothing-here', body, { ca })).status, 404);
    assert.equal((await post(port, '/mutate-pods', '', { ca, method: 'GET' })).status, 405);
    assert.equal((await post(port, '/mutate-pods', body, { ca, contentType: 'text/plain' })).status, 415);
    assert.equal((await post(port, '/mutate-pods', '{not json', { ca })).status, 400);
    const v1beta1 = JSON.stringify({
      apiVersion: 'admission.k8s.io/v1beta1',
      kind: 'AdmissionReview',
      request: {},
    });
    assert.equal((await post(port, '/mutate-pods', v1beta1, { ca })).status, 400);
    const noUid = JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: {} });
    assert.equal((await post(port, '/mutate-pods', noUid, { ca })).status, 400);
    const huge = reviewOf({ ...admissionRequest('uid-5'), object: { data: 'x'.repeat(100 * 1024) } });
    assert.equal((await post(port, '/mutate-pods', huge, { ca })).status, 413);
  });

  test('the serving certificate is swapped for new connections; a certificate that does not match its key is refused', async () => {
    const second = loopbackCertificate('second');
    assert.throws(() => server.setCertificate({ cert: second.server.certPem, key: first.server.keyPem }));
    assert.equal(
      (await post(port, '/deny', reviewOf(admissionRequest('u6')), { ca })).status,
      200,
      'still the first',
    );
    server.setCertificate({ cert: second.server.certPem, key: second.server.keyPem });
    await assert.rejects(
      post(port, '/deny', reviewOf(admissionRequest('u7')), { ca }),
      /certificate/i,
      'the first CA no longer verifies it',
    );
    const answer = await post(port, '/deny', reviewOf(admissionRequest('u8')), { ca: second.ca.certPem });
    assert.equal(JSON.parse(answer.body).response.uid, 'u8');
    server.setCertificate({ cert: first.server.certPem, key: first.server.keyPem });
  });

  test('paths are unique and absolute', () => {
    assert.throws(() => server.register('/deny', () => ({ allowed: true })), /already registered/);
    assert.throws(() => server.register('mutate', () => ({ allowed: true })), /must start with/);
  });
});
