/**
 * Caps on open connections, applied as they are accepted: in all (the server's
 * maxConnections) and per source (an IPv4 address or an IPv6 /64), so one client
 * opening connections in a loop cannot take the slots the fleet needs. A refused
 * connection is closed at once, before a byte of it is parsed.
 */
import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import { addressIn, sourceKey } from '../../net/source.js';
import type { Cidr } from '../../net/cidr.js';
import type { ControllerLimits } from './limits.js';

export function guardConnections(
  server: Server,
  limits: Pick<ControllerLimits, 'maxConnections' | 'maxConnectionsPerSource'>,
  trustedProxies: readonly Cidr[],
): void {
  server.maxConnections = limits.maxConnections;
  // Only sources with a connection open are tracked: the table is bounded by maxConnections.
  const open = new Map<string, number>();
  server.on('connection', (socket: Socket) => {
    const address = socket.remoteAddress;
    // A proxy carries many clients on its connections; the total cap still bounds it.
    if (address === undefined || addressIn(address, trustedProxies)) return;
    const key = sourceKey(address);
    const count = open.get(key) ?? 0;
    if (count >= limits.maxConnectionsPerSource) {
      socket.destroy();
      return;
    }
    open.set(key, count + 1);
    socket.once('close', () => {
      const left = (open.get(key) ?? 1) - 1;
      if (left > 0) open.set(key, left);
      else open.delete(key);
    });
  });
}
