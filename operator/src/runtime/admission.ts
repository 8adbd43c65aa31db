/**
 * admission.k8s.io/v1 AdmissionReview: the request the API server sends a webhook and the response it
 * expects back. A handler sees only the request and returns a verdict; this module checks the review's
 * shape, echoes the request uid (the API server rejects a response without it) and encodes a JSON patch
 * the way the API server wants it (base64, patchType JSONPatch).
 */

export const ADMISSION_API_VERSION = 'admission.k8s.io/v1';

export interface GroupVersionKind {
  group: string;
  version: string;
  kind: string;
}

export interface AdmissionRequest {
  uid: string;
  kind: GroupVersionKind;
  resource: { group: string; version: string; resource: string };
  subResource?: string;
  name?: string;
  namespace?: string;
  operation: 'CREATE' | 'UPDATE' | 'DELETE' | 'CONNECT';
  userInfo: { username?: string; uid?: string; groups?: string[]; extra?: Record<string, string[]> };
  object?: unknown;
  oldObject?: unknown;
  dryRun?: boolean;
  options?: unknown;
}

/** RFC 6902 operation. */
export interface JsonPatchOperation {
  op: 'add' | 'remove' | 'replace' | 'move' | 'copy' | 'test';
  path: string;
  value?: unknown;
  from?: string;
}

export interface AdmissionVerdict {
  allowed: boolean;
  /** Shown to the client when the request is denied. */
  status?: { code?: number; reason?: string; message?: string };
  /** Mutating webhooks only; ignored when empty. */
  patch?: readonly JsonPatchOperation[];
  warnings?: readonly string[];
  auditAnnotations?: Record<string, string>;
}

export type AdmissionHandler = (request: AdmissionRequest) => AdmissionVerdict | Promise<AdmissionVerdict>;

export interface AdmissionResponse {
  uid: string;
  allowed: boolean;
  status?: { code?: number; reason?: string; message?: string };
  patch?: string;
  patchType?: 'JSONPatch';
  warnings?: string[];
  auditAnnotations?: Record<string, string>;
}

export interface AdmissionReview {
  apiVersion: typeof ADMISSION_API_VERSION;
  kind: 'AdmissionReview';
  request?: AdmissionRequest;
  response?: AdmissionResponse;
}

/** A body that is not an AdmissionReview v1 with a request: the server answers 400. */
export class InvalidReviewError extends Error {
  override readonly name = 'InvalidReviewError';
}

export function parseReview(body: unknown): AdmissionRequest {
  const review = body as Partial<AdmissionReview> | null;
  if (typeof review !== 'object' || review === null || Array.isArray(review))
    throw new InvalidReviewError('the body is not a JSON object');
  if (review.apiVersion !== ADMISSION_API_VERSION || review.kind !== 'AdmissionReview')
    throw new InvalidReviewError(
      `expected ${ADMISSION_API_VERSION} AdmissionReview, got ${String(review.apiVersion)} ${String(review.kind)}`,
    );
  const request = review.request;
  if (typeof request !== 'object' || request === null || typeof request.uid !== 'string' || !request.uid)
    throw new InvalidReviewError('the AdmissionReview has no request with a uid');
  return request;
}

/** Runs the handler; a handler that throws denies the request with code 500 rather than failing the call. */
export async function review(request: AdmissionRequest, handler: AdmissionHandler): Promise<AdmissionReview> {
  let verdict: AdmissionVerdict;
  try {
    verdict = await handler(request);
  } catch (error) {
    verdict = {
      allowed: false,
      status: { code: 500, message: error instanceof Error ? error.message : String(error) },
    };
  }
  const response: AdmissionResponse = { uid: request.uid, allowed: verdict.allowed };
  if (verdict.status) response.status = verdict.status;
  if (verdict.patch && verdict.patch.length > 0) {
    response.patch = Buffer.from(JSON.stringify(verdict.patch)).toString('base64');
    response.patchType = 'JSONPatch';
  }
  if (verdict.warnings && verdict.warnings.length > 0) response.warnings = [...verdict.warnings];
  if (verdict.auditAnnotations) response.auditAnnotations = verdict.auditAnnotations;
  return { apiVersion: ADMISSION_API_VERSION, kind: 'AdmissionReview', response };
}
