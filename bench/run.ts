/** `npm run bench`: every benchmark, each beside its reference. */
import { runAllowedIps } from './allowed-ips.js';
import { runCrypto } from './crypto.js';
import { runHandshake } from './handshake.js';
import { runTunnel } from './tunnel.js';

runCrypto();
runAllowedIps();
await runTunnel();
await runHandshake();
