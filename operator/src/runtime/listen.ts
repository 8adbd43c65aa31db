/** Listening and closing for the manager's servers (health and webhook), the same way for both. */
import type { Server } from 'node:net';

/** Resolves with the bound port (useful with port 0), rejects if the port is taken. */
export function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const address = server.address();
      resolvePromise(typeof address === 'object' && address ? address.port : port);
    });
  });
}

/** Stops accepting and resolves once open connections are gone (idle keep-alive ones are closed at once). */
export function closeServer(server: Server & { closeIdleConnections?: () => void }): Promise<void> {
  return new Promise((resolvePromise) => {
    server.close(() => resolvePromise());
    server.closeIdleConnections?.();
  });
}
