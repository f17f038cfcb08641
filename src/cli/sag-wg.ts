#!/usr/bin/env node
/**
 * `sag-wg`: reserved for the wireguard-go drop-in (userspace API over /var/run/wireguard/IFACE.sock).
 * Until that lands it says so plainly instead of pretending.
 */
process.stderr.write('sag-wg: the wireguard-go compatible daemon is not available in this version of sag\n');
process.exitCode = 1;
