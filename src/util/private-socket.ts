/**
 * A unix socket only its owner may connect to, with no window in which others can: the socket
 * file is created under umask 077 (as wireguard-go does) instead of chmod'ed after listen().
 * Node binds synchronously inside listen(), so the process-wide umask is set and restored around
 * that one call; nothing else runs in between.
 */
import type { Server } from 'node:net';

export function listenPrivate(server: Server, path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => reject(err);
    server.once('error', onError);
    const umask = process.umask(0o077);
    try {
      server.listen(path, () => {
        server.off('error', onError);
        resolve();
      });
    } finally {
      process.umask(umask);
    }
  });
}
