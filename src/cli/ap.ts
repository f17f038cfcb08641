/**
 * `sag ap run`: an access point (hub). Terminates the branch tunnels of its area
 * on one UDP port with one key, isolates CCNs (a routing domain and a network
 * namespace each), forwards branch -> branch inside a CCN and branch -> VPC where
 * the controller's policy allows, and shapes each branch to its instance's
 * bandwidth. Follows its configuration from the controller until SIGINT/SIGTERM,
 * then removes everything it created.
 */
import { chmodSync, renameSync, writeFileSync } from 'node:fs';
import { AccessPoint } from '../ap/index.js';
import { HttpControllerClient } from '../contract/client.js';
import type { ControllerTrust } from '../contract/trust.js';
import { DEFAULT_MTU, MAX_MTU, MIN_MTU } from '../native/facts.generated.js';
import { decodeKey } from '../wg/crypto.js';
import { stderrLogger, type Logger } from '../util/logger.js';
import { parseAddress } from '../net/validate.js';
import { UsageError, parseCommand, type CommandSpec, type FlagSpec, type ParsedArgs } from './args.js';
import { JOIN_FLAG, TRUST_FLAGS, controllerAccess, readJoin } from './controller-trust.js';
import { readSecretFlag } from './secret-flag.js';

export const AP_RUN_SUMMARY = 'run an access point (hub) that follows its configuration from the controller';
const CMD = 'sag ap run';

export const AP_RUN_FLAGS: FlagSpec[] = [
  JOIN_FLAG,
  { name: 'controller', kind: 'string', value: 'URL', help: "the controller's API (without a join string)" },
  ...TRUST_FLAGS,
  {
    name: 'id',
    kind: 'string',
    value: 'AP_ID',
    help: "this access point's id (sag ap list; without a join string)",
  },
  {
    name: 'token-file',
    kind: 'string',
    value: 'FILE',
    help: 'its token (sag ap token AP_ID --output FILE), one line, without a join string; warned about if others may read it',
  },
  {
    name: 'key-file',
    kind: 'string',
    value: 'FILE',
    required: true,
    help: 'its WireGuard private key ((umask 077; sag genkey > FILE)); register the public key with sag ap create/update --public-key',
  },
  {
    name: 'listen-port',
    kind: 'int',
    value: 'PORT',
    range: [1, 65535],
    help: 'WireGuard UDP port (default 51820)',
  },
  { name: 'listen-address', kind: 'string', value: 'ADDR', help: 'local address of the WireGuard socket' },
  {
    name: 'mtu',
    kind: 'int',
    value: 'MTU',
    range: [MIN_MTU, MAX_MTU],
    help: `TUN MTU (default ${DEFAULT_MTU})`,
  },
  {
    name: 'vpc',
    kind: 'list',
    value: 'VPC_ID=NETNS',
    help: 'reach VPC_ID through network namespace NETNS: a veth per CCN that may reach it is plugged in, with routes both ways',
  },
  {
    name: 'prefix',
    kind: 'string',
    value: 'NAME',
    help: 'prefix of the namespaces (NAME-<ccn-id>) and interfaces this access point creates, [a-z0-9]{1,6} (default sag); must be unique per host',
  },
  {
    name: 'link-octet',
    kind: 'int',
    value: 'N',
    range: [0, 255],
    help: 'VPC veths are addressed from 169.254.N.0/24 (default 0); give access points that share a VPC namespace different values',
  },
  {
    name: 'status-file',
    kind: 'string',
    value: 'FILE',
    help: 'write peers, counters and denied packets as JSON every second',
  },
];

const SPEC: CommandSpec = { command: CMD, summary: AP_RUN_SUMMARY, flags: AP_RUN_FLAGS };

interface ApArgs {
  controller: string;
  trust: ControllerTrust;
  id: string;
  token: string;
  privateKey: string;
  listenPort: number;
  listenAddress?: string;
  mtu: number;
  vpcs: Map<string, string>;
  prefix: string;
  linkOctet: number;
  statusFile?: string;
}

/**
 * The arguments of `sag ap run`, checked (files read, key decoded; `log` warns of a key or token
 * file others may read); undefined for --help.
 */
export function parseApArgs(
  argv: string[],
  out?: { write(text: string): unknown },
  log: Logger = stderrLogger('ap'),
): ApArgs | undefined {
  const args = parseCommand(argv, SPEC, out);
  return args && apArgs(args, (message) => log('warn', message));
}

function apArgs(args: ParsedArgs, warn: (message: string) => void): ApArgs {
  const vpcs = new Map<string, string>();
  for (const value of args.list('vpc')) {
    const m = /^(vpc-[a-z0-9-]+)=([A-Za-z0-9_.-]{1,64})$/.exec(value);
    if (!m) throw new UsageError(`--vpc ${value}: expected VPC_ID=NETNS, e.g. vpc-prod=vpcns`, CMD);
    if (vpcs.has(m[1]!)) throw new UsageError(`--vpc ${m[1]} given twice`, CMD);
    vpcs.set(m[1]!, m[2]!);
  }
  const join = readJoin(args, process.env, CMD);
  if (join !== undefined && !('token' in join))
    throw new UsageError(
      "the join string is a device's (sag device activation); an access point needs sag ap token's",
      CMD,
    );
  for (const flag of ['id', 'token-file'])
    if (join !== undefined ? args.has(flag) : !args.has(flag))
      throw new UsageError(
        join !== undefined
          ? `--${flag} and a join string exclude each other`
          : `--${flag} (or --join-file) is required`,
        CMD,
      );
  const { url, trust } = controllerAccess(args, process.env, CMD, join);
  const id = join?.id ?? args.need('id');
  if (!/^[a-z]{2,3}-[a-z0-9-]+$/.test(id))
    throw new UsageError(`--id ${id} is not an access point id (e.g. ap-hz1)`, CMD);
  const prefix = args.string('prefix') ?? 'sag';
  if (!/^[a-z0-9]{1,6}$/.test(prefix))
    throw new UsageError(`--prefix ${prefix}: use 1 to 6 of a-z and 0-9`, CMD);
  const privateKey = readSecretFlag(args.need('key-file'), 'key file', CMD, warn);
  try {
    decodeKey(privateKey);
  } catch {
    throw new UsageError(
      `key file ${args.need('key-file')} does not hold a base64 WireGuard private key (make one with sag genkey)`,
      CMD,
    );
  }
  const listenAddress = args.string('listen-address');
  if (listenAddress !== undefined) {
    try {
      parseAddress(listenAddress, '--listen-address');
    } catch (err) {
      throw new UsageError((err as Error).message, CMD);
    }
  }
  const statusFile = args.string('status-file');
  return {
    controller: url,
    trust,
    id,
    token: join?.token ?? readSecretFlag(args.need('token-file'), 'token file', CMD, warn),
    privateKey,
    listenPort: args.int('listen-port') ?? 51820,
    ...(listenAddress === undefined ? {} : { listenAddress }),
    mtu: args.int('mtu') ?? DEFAULT_MTU,
    vpcs,
    prefix,
    linkOctet: args.int('link-octet') ?? 0,
    ...(statusFile === undefined ? {} : { statusFile }),
  };
}

export async function apMain(argv: string[]): Promise<number> {
  const args = parseApArgs(argv);
  if (!args) return 0;
  let controller: HttpControllerClient;
  try {
    controller = new HttpControllerClient({ url: args.controller, trust: args.trust });
  } catch (err) {
    throw new UsageError((err as Error).message, CMD);
  }
  const log = stderrLogger('ap');
  const ap = new AccessPoint({
    id: args.id,
    token: args.token,
    privateKey: args.privateKey,
    controller,
    names: { prefix: args.prefix, linkOctet: args.linkOctet },
    vpcs: args.vpcs,
    listenPort: args.listenPort,
    mtu: args.mtu,
    logger: log,
    ...(args.listenAddress === undefined ? {} : { listenAddress: args.listenAddress }),
  });
  await ap.start();
  log(
    'info',
    `ap ${args.id}: listening on UDP ${ap.gateway!.listenPort}, public key ${ap.gateway!.publicKey}`,
  );
  const timer =
    args.statusFile === undefined
      ? undefined
      : setInterval(() => void writeStatus(ap, args.statusFile!), 1000);
  await new Promise<void>((resolve) => {
    for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => resolve());
  });
  if (timer) clearInterval(timer);
  await ap.stop();
  log('info', `ap ${args.id}: stopped, namespaces and interfaces removed`);
  return 0;
}

async function writeStatus(ap: AccessPoint, file: string): Promise<void> {
  try {
    const status = await ap.status();
    writeFileSync(`${file}.new`, `${JSON.stringify(status, null, 2)}\n`, { mode: 0o600 });
    chmodSync(`${file}.new`, 0o600);
    renameSync(`${file}.new`, file);
  } catch {
    // stopping, or the disk is full: the next second tries again
  }
}
