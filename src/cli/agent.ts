/**
 * `sag agent`: the device side of the control plane. Activates once with a serial number and code
 * (the private key is made here and never leaves the state directory), then follows the compiled
 * configuration, keeps the TUN device's address and routes in step with it, and runs until
 * SIGINT/SIGTERM.
 */
import { parseUplinkBinding, runAgent, type UplinkBinding } from '../agent/index.js';
import type { DeviceConfig } from '../contract/config.js';
import { SagError } from '../errors.js';
import { addAddress, addRoute, setMtu, setUp } from '../net/link.js';
import { type Logger, stderrLogger } from '../util/logger.js';
import { parseInterfaceName, parsePort } from '../util/parse.js';

const USAGE = `usage: sag agent --controller URL --state-dir DIR [--serial SERIAL --code CODE]
                 [--tun NAME] [--listen-port PORT] [--mtu MTU]
                 [--uplink NAME=ADDRESS | --uplink NAME=dev:IFACE[@ADDRESS]]...
  --uplink binds an uplink of the configuration (multipath) to a local address or interface;
  uplinks of the configuration not bound are skipped.
`;

class AgentUsageError extends SagError {
  constructor(message: string) {
    super('ERR_SAG_USAGE', `${message}\n${USAGE}`);
  }
}

interface AgentArgs {
  controller: string;
  stateDir: string;
  serial?: string;
  code?: string;
  tun: string;
  listenPort?: number;
  mtu: number;
  uplinks: Record<string, UplinkBinding>;
}

function parseArgs(argv: string[]): AgentArgs {
  const values = new Map<string, string>();
  const uplinks: Record<string, UplinkBinding> = {};
  for (let i = 0; i < argv.length; i += 2) {
    const flag = argv[i]!;
    if (!flag.startsWith('--') || argv[i + 1] === undefined)
      throw new AgentUsageError(`bad argument '${flag}'`);
    if (flag === '--uplink') {
      const [name, binding] = parseBinding(argv[i + 1]!);
      if (uplinks[name]) throw new AgentUsageError(`uplink ${name} is bound twice`);
      uplinks[name] = binding;
    } else values.set(flag.slice(2), argv[i + 1]!);
  }
  const known = ['controller', 'state-dir', 'serial', 'code', 'tun', 'listen-port', 'mtu'];
  for (const k of values.keys()) if (!known.includes(k)) throw new AgentUsageError(`unknown option --${k}`);
  const controller = values.get('controller');
  const stateDir = values.get('state-dir');
  if (!controller || !stateDir) throw new AgentUsageError('--controller and --state-dir are required');
  if (values.has('serial') !== values.has('code'))
    throw new AgentUsageError('--serial and --code go together');
  return {
    controller,
    stateDir,
    ...(values.has('serial') ? { serial: values.get('serial')!, code: values.get('code')! } : {}),
    tun: parseInterfaceName(values.get('tun') ?? 'sag0', '--tun'),
    ...(values.has('listen-port')
      ? { listenPort: parsePort(Number(values.get('listen-port')), '--listen-port', true) }
      : {}),
    mtu: Number(values.get('mtu') ?? 1420),
    uplinks,
  };
}

function parseBinding(text: string): [string, UplinkBinding] {
  try {
    return parseUplinkBinding(text);
  } catch (error) {
    throw new AgentUsageError(`--uplink: ${(error as Error).message}`);
  }
}

/** Keeps the interface's address and routes as the configuration says (they only grow here). */
function linkFollower(tun: string, mtu: number, log: Logger): (config: DeviceConfig) => Promise<void> {
  let address: string | undefined;
  const routes = new Set<string>();
  return async (config) => {
    if (address === undefined) {
      await setMtu(tun, mtu);
      await setUp(tun);
    }
    if (config.address !== address) {
      await addAddress(tun, config.address);
      address = config.address;
    }
    for (const prefix of config.allowedIps) {
      if (routes.has(prefix) || prefix === config.address) continue;
      await addRoute(tun, prefix);
      routes.add(prefix);
    }
    log(
      'info',
      `configuration ${config.version.slice(0, 12)} applied: ${config.allowedIps.length} prefixes via ${tun}`,
    );
  };
}

export async function agentMain(argv: string[]): Promise<number> {
  const args = parseArgs(argv);
  const log = stderrLogger('agent');
  const agent = await runAgent({
    controllerUrl: args.controller,
    stateDir: args.stateDir,
    tun: args.tun,
    mtu: args.mtu,
    logger: log,
    ...(args.serial ? { activation: { serial: args.serial, code: args.code! } } : {}),
    ...(args.listenPort !== undefined ? { listenPort: args.listenPort } : {}),
    ...(Object.keys(args.uplinks).length > 0 ? { uplinks: args.uplinks } : {}),
  });
  const follow = linkFollower(args.tun, args.mtu, log);
  let applying = Promise.resolve();
  const onConfig = ({ config }: { config: DeviceConfig }) => {
    applying = applying
      .then(() => follow(config))
      .catch((err: Error) => log('error', `cannot configure ${args.tun}: ${err.message}`));
  };
  agent.on('config:applied', onConfig);
  if (agent.config) onConfig({ config: agent.config });
  agent.on('controller:unreachable', () =>
    log('warn', 'controller unreachable: running on the last good configuration'),
  );
  await new Promise<void>((resolve) => {
    for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => resolve());
  });
  await agent.stop();
  return 0;
}
