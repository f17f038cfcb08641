/**
 * `sag agent`: the device side of the control plane. Activates once with a serial number and the
 * code from a file (the private key is made here and never leaves the state directory), then
 * follows the compiled configuration, keeps the TUN device's address and routes in step with it,
 * and runs until SIGINT/SIGTERM.
 */
import { AgentStateDir, parseUplinkBinding, runAgent, type UplinkBinding } from '../agent/index.js';
import type { DeviceConfig } from '../contract/config.js';
import type { ControllerTrust } from '../contract/trust.js';
import { DEFAULT_MTU, MAX_MTU, MIN_MTU } from '../native/facts.generated.js';
import { addAddress, addRoute, setMtu, setUp } from '../net/link.js';
import { type Logger, stderrLogger } from '../util/logger.js';
import { parseInterfaceName } from '../util/parse.js';
import { UsageError, parseCommand, type CommandSpec, type FlagSpec, type ParsedArgs } from './args.js';
import { JOIN_FLAG, TRUST_FLAGS, controllerAccess, readJoin } from './controller-trust.js';
import { readSecretFlag, refusedSecretFlag } from './secret-flag.js';

export const AGENT_SUMMARY = 'run the device agent: activate once, then follow the configuration';
const CMD = 'sag agent';

export const AGENT_FLAGS: FlagSpec[] = [
  JOIN_FLAG,
  { name: 'controller', kind: 'string', value: 'URL', help: "the controller's API (without a join string)" },
  ...TRUST_FLAGS,
  {
    name: 'state-dir',
    kind: 'string',
    value: 'DIR',
    required: true,
    help: 'private key, identity and last good configuration (created 0700)',
  },
  {
    name: 'serial',
    kind: 'string',
    value: 'SERIAL',
    help: 'activate first as this device (with --code-file)',
  },
  {
    name: 'code-file',
    kind: 'string',
    value: 'FILE',
    help: 'file holding the activation code (sag device code --output FILE), with --serial',
  },
  refusedSecretFlag('code', '--code-file FILE'),
  { name: 'tun', kind: 'string', value: 'NAME', help: 'TUN device (default sag0)' },
  {
    name: 'listen-port',
    kind: 'int',
    value: 'PORT',
    range: [0, 65535],
    help: 'WireGuard UDP port (default 0: the kernel picks one)',
  },
  {
    name: 'mtu',
    kind: 'int',
    value: 'MTU',
    range: [MIN_MTU, MAX_MTU],
    help: `TUN MTU (default ${DEFAULT_MTU})`,
  },
  {
    name: 'uplink',
    kind: 'list',
    value: 'NAME=ADDRESS|NAME=dev:IFACE[@ADDRESS]',
    help: 'bind an uplink of the configuration (multipath) to a local address or interface; uplinks not bound are skipped',
  },
];

const SPEC: CommandSpec = { command: CMD, summary: AGENT_SUMMARY, flags: AGENT_FLAGS };

interface AgentArgs {
  controller: string;
  trust: ControllerTrust;
  /** The serial and code came from a join string (which stays in place across restarts). */
  joined: boolean;
  stateDir: string;
  serial?: string;
  code?: string;
  tun: string;
  listenPort?: number;
  mtu: number;
  uplinks: Record<string, UplinkBinding>;
}

function agentArgs(args: ParsedArgs, env: NodeJS.ProcessEnv, log: Logger): AgentArgs {
  const uplinks: Record<string, UplinkBinding> = {};
  for (const text of args.list('uplink')) {
    const [name, binding] = parseBinding(text);
    if (uplinks[name]) throw new UsageError(`uplink ${name} is bound twice`, CMD);
    uplinks[name] = binding;
  }
  if (args.has('serial') !== args.has('code-file'))
    throw new UsageError('--serial and --code-file go together', CMD);
  const join = readJoin(args, env, CMD);
  if (join !== undefined && !('serial' in join))
    throw new UsageError(
      "the join string is an access point's (sag ap token); a device needs sag device activation's",
      CMD,
    );
  if (join !== undefined && args.has('serial'))
    throw new UsageError('--serial/--code-file and a join string exclude each other', CMD);
  const { url, trust } = controllerAccess(args, env, CMD, join);
  const activation =
    join ??
    (args.has('serial')
      ? {
          serial: args.need('serial'),
          code: readSecretFlag(args.need('code-file'), 'code file', CMD, (m) => log('warn', m)),
        }
      : undefined);
  const listenPort = args.int('listen-port');
  return {
    controller: url,
    trust,
    joined: join !== undefined,
    stateDir: args.need('state-dir'),
    ...(activation ? { serial: activation.serial, code: activation.code } : {}),
    tun: parseInterfaceName(args.string('tun') ?? 'sag0', '--tun'),
    ...(listenPort === undefined ? {} : { listenPort }),
    mtu: args.int('mtu') ?? DEFAULT_MTU,
    uplinks,
  };
}

function parseBinding(text: string): [string, UplinkBinding] {
  try {
    return parseUplinkBinding(text);
  } catch (error) {
    throw new UsageError(`--uplink: ${(error as Error).message}`, CMD);
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
  const parsed = parseCommand(argv, SPEC);
  if (!parsed) return 0;
  const log = stderrLogger('agent');
  const args = agentArgs(parsed, process.env, log);
  // A join string stays in place across restarts; its code is spent once this device is activated.
  const activated = (await new AgentStateDir(args.stateDir).readIdentity().catch(() => undefined))?.serial;
  const activate = args.serial !== undefined && !(args.joined && activated === args.serial);
  const agent = await runAgent({
    controllerUrl: args.controller,
    trust: args.trust,
    stateDir: args.stateDir,
    tun: args.tun,
    mtu: args.mtu,
    logger: log,
    ...(activate ? { activation: { serial: args.serial!, code: args.code! } } : {}),
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
