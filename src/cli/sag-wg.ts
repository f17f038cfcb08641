#!/usr/bin/env node
/**
 * `sag-wg [-f|--foreground] IFACE`: a drop-in for wireguard-go. Creates the TUN device IFACE and
 * the userspace API socket /var/run/wireguard/IFACE.sock that `wg` and `wg-quick` speak, runs the
 * sag dataplane behind it, and exits when IFACE is deleted or on SIGTERM. It daemonizes unless
 * -f or WG_PROCESS_FOREGROUND=1 is given, as wireguard-go does.
 */
import { Gateway } from '../gateway/gateway.js';
import { daemonize, serveUntilDone, signalReady, testRekeyOption } from './daemon.js';
import { stderrLogger } from '../util/logger.js';
import { parseInterfaceName } from '../util/parse.js';

const USAGE = 'usage: sag-wg [-f/--foreground] INTERFACE-NAME\n';

async function main(argv: string[]): Promise<number> {
  const foregroundFlag = argv[0] === '-f' || argv[0] === '--foreground';
  const rest = foregroundFlag ? argv.slice(1) : argv;
  if (rest.length !== 1 || rest[0]!.startsWith('-')) {
    process.stderr.write(USAGE);
    return 2;
  }
  const iface = parseInterfaceName(rest[0], 'interface name');
  if (!foregroundFlag && process.env.WG_PROCESS_FOREGROUND !== '1') {
    return daemonize([process.argv[1]!, '--foreground', iface]);
  }
  const log = stderrLogger(iface);
  const gateway = new Gateway({ tun: iface, logger: log, ...testRekeyOption() });
  try {
    await gateway.start();
  } catch (err) {
    await gateway.stop();
    throw err;
  }
  await serveUntilDone(gateway, iface, log, signalReady);
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`sag-wg: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
