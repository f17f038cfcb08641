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
import { parseCommand, usageExit, type CommandSpec } from './args.js';

const SPEC: CommandSpec = {
  command: 'sag-wg',
  summary:
    'a drop-in for wireguard-go: the TUN device and its userspace API socket, served by the sag dataplane',
  positionals: [{ name: 'INTERFACE-NAME', help: 'the TUN device to create' }],
  flags: [
    {
      name: 'foreground',
      short: 'f',
      kind: 'bool',
      help: 'stay in the foreground (or WG_PROCESS_FOREGROUND=1)',
    },
  ],
};

async function main(argv: string[]): Promise<number> {
  const args = parseCommand(argv, SPEC);
  if (!args) return 0;
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
    const usage = usageExit(SPEC.command, err);
    if (usage === undefined)
      process.stderr.write(`sag-wg: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(usage ?? 1);
  },
);
