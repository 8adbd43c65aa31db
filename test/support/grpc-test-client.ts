/** A grpc-js client of MessagingService for unit and integration tests (plaintext, TLS verifying, TLS not verifying). */
import * as grpc from '@grpc/grpc-js';
import { MESSAGING_SERVICE } from '../../proxy/src/grpc/service-definition.ts';

export type Transport = 'plaintext' | 'tls-verify' | 'tls-insecure';

export interface CallResult<T> {
  readonly error?: grpc.ServiceError;
  readonly response?: T;
}

const Client = grpc.makeGenericClientConstructor(MESSAGING_SERVICE, 'MessagingService');

export class TestClient {
  readonly raw: grpc.Client & Record<string, (...args: unknown[]) => unknown>;

  constructor(port: number, transport: Transport, certPem?: string) {
    const credentials =
      transport === 'plaintext'
        ? grpc.credentials.createInsecure()
        : transport === 'tls-verify'
          ? grpc.credentials.createSsl(Buffer.from(certPem ?? ''))
          : grpc.credentials.createSsl(null, null, null, { rejectUnauthorized: false });
    this.raw = new Client(`127.0.0.1:${port}`, credentials, {
      // Verify the certificate against the name "localhost" (in the self-signed SANs) rather than an IP.
      'grpc.ssl_target_name_override': 'localhost',
      'grpc.default_authority': 'localhost',
      'grpc.initial_reconnect_backoff_ms': 100,
    }) as grpc.Client & Record<string, (...args: unknown[]) => unknown>;
  }

  unary<T>(
    method: string,
    request: object,
    headers: Record<string, string> = {},
    deadlineMs = 3000,
  ): Promise<CallResult<T>> {
    const metadata = new grpc.Metadata();
    for (const [key, value] of Object.entries(headers)) metadata.set(key, value);
    return new Promise((resolve) => {
      this.raw[method]!(
        request,
        metadata,
        { deadline: Date.now() + deadlineMs },
        (error: grpc.ServiceError | null, response: T) => resolve(error ? { error } : { response }),
      );
    });
  }

  /** Opens a server-streaming or bidi call and resolves with its final error (or undefined on OK). */
  streamError(
    method: string,
    request: object | undefined,
    deadlineMs = 3000,
  ): Promise<grpc.ServiceError | undefined> {
    const options = { deadline: Date.now() + deadlineMs };
    const call = (
      request === undefined
        ? this.raw[method]!(new grpc.Metadata(), options)
        : this.raw[method]!(request, new grpc.Metadata(), options)
    ) as grpc.ClientReadableStream<unknown>;
    return new Promise((resolve) => {
      call.on('data', () => {});
      call.on('error', (error: grpc.ServiceError) => resolve(error));
      call.on('end', () => resolve(undefined));
    });
  }

  close(): void {
    this.raw.close();
  }
}
