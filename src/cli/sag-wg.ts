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
import { USAGE_EXIT_STATUS, UsageError, formatHelp, parseArgs, usageMessage, type FlagSpec } from './args.js';

const CMD = 'sag-wg';
const SUMMARY =
  'a drop-in for wireguard-go: the TUN device and its userspace API socket, served by the sag dataplane';
const POSITIONALS = [{ name: 'INTERFACE-NAME', help: 'the TUN device to create' }];
const FLAGS: FlagSpec[] = [
  {
    name: 'foreground',
    short: 'f',
    kind: 'bool',
    help: 'stay in the foreground (or WG_PROCESS_FOREGROUND=1)',
  },
  { name: 'help', kind: 'bool', help: 'show this help' },
];

async function main(argv: string[]): Promise<number> {
  const args = parseArgs(argv, POSITIONALS, FLAGS, CMD);
  if (args.bool('help')) {
    process.stdout.write(formatHelp(CMD, SUMMARY, POSITIONALS, FLAGS, []));
    return 0;
  }
  const iface = parseInterfaceName(args.positionals[0], 'interface name');
  if (!args.bool('foreground') && process.env.WG_PROCESS_FOREGROUND !== '1') {
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
    if (err instanceof UsageError) {
      process.stderr.write(usageMessage(CMD, err));
      process.exit(USAGE_EXIT_STATUS);
    }
    process.stderr.write(`sag-wg: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
