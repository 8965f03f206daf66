/** Listening and closing for the local servers (dynalite stores, regional endpoints, gateway). */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Loopback only: the local control plane must never be reachable from another machine. */
export function assertLoopback(host: string): void {
  if (!/^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host)) {
    throw new Error(`refusing to listen on ${host}: the local control plane binds 127.x addresses only`);
  }
}

/** Starts listening and resolves with the bound port; bind errors become messages that say what to do. */
export async function listen(server: Server, host: string, port: number, what: string): Promise<number> {
  assertLoopback(host);
  await new Promise<void>((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      server.off('listening', onListening);
      reject(new Error(bindMessage(error, host, port, what), { cause: error }));
    };
    const onListening = () => {
      server.off('error', onError);
      resolve();
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(port, host);
  });
  return (server.address() as AddressInfo).port;
}

function bindMessage(error: NodeJS.ErrnoException, host: string, port: number, what: string): string {
  const where = `${host}:${port}`;
  switch (error.code) {
    case 'EADDRNOTAVAIL':
      // Linux routes all of 127.0.0.0/8 to lo; macOS only 127.0.0.1 unless aliases are added.
      return (
        `cannot bind ${what} on ${where}: address ${host} is not configured on the loopback interface ` +
        `(on macOS run: sudo ifconfig lo0 alias ${host} up)`
      );
    case 'EADDRINUSE':
      return `cannot bind ${what} on ${where}: the port is already in use (choose another with --port, or 0)`;
    case 'EACCES':
      return `cannot bind ${what} on ${where}: permission denied (ports below 1024 need privileges)`;
    default:
      return `cannot bind ${what} on ${where}: ${error.message}`;
  }
}

/**
 * Stops accepting connections, drops idle keep-alive ones, and resolves once every request in
 * flight has finished; connections still open after `graceMs` are cut.
 */
export async function closeServer(server: Server, graceMs = 2_000): Promise<void> {
  if (!server.listening) return;
  const cut = setTimeout(() => server.closeAllConnections(), graceMs);
  cut.unref();
  try {
    await new Promise<void>((resolve, reject) => {
      server.close((error) => (error ? reject(error) : resolve()));
      server.closeIdleConnections();
    });
  } finally {
    clearTimeout(cut);
  }
}
