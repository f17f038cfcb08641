/**
 * `sag ap run`: an access point (hub). Terminates the branch tunnels of its area
 * on one UDP port with one key, isolates CCNs (a routing domain and a network
 * namespace each), forwards branch -> branch inside a CCN and branch -> VPC where
 * the controller's policy allows, and shapes each branch to its instance's
 * bandwidth. Follows its configuration from the controller until SIGINT/SIGTERM,
 * then removes everything it created.
 */
import { chmodSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { AccessPoint } from '../ap/index.js';
import { HttpControllerClient } from '../contract/client.js';
import { SagError } from '../errors.js';
import { decodeKey } from '../wg/crypto.js';
import { stderrLogger } from '../util/logger.js';
import { parseIntInRange, parsePort } from '../util/parse.js';
import { parseAddress } from '../net/validate.js';

export const AP_RUN_USAGE = `usage: sag ap run --controller URL --id AP_ID --token-file FILE --key-file FILE
                  [--listen-port PORT] [--listen-address ADDR] [--mtu MTU]
                  [--vpc VPC_ID=NETNS]... [--prefix NAME] [--link-octet N]
                  [--status-file FILE]

  --controller URL     the controller's API
  --id AP_ID           this access point's id (sag ap list)
  --token-file FILE    its token (sag ap token AP_ID), one line
  --key-file FILE      its WireGuard private key (sag genkey > FILE); register the
                       public key with sag ap create/update --public-key
  --listen-port PORT   WireGuard UDP port (default 51820)
  --vpc VPC_ID=NETNS   reach VPC_ID through network namespace NETNS: a veth per CCN
                       that may reach it is plugged in, with routes both ways
                       (repeatable)
  --prefix NAME        prefix of the namespaces (NAME-<ccn-id>) and interfaces this
                       access point creates, [a-z0-9]{1,6} (default sag); must be
                       unique per host
  --link-octet N       VPC veths are addressed from 169.254.N.0/24 (default 0); give
                       access points that share a VPC namespace different values
  --status-file FILE   write peers, counters and denied packets as JSON every second
`;

class ApUsageError extends SagError {
  constructor(message: string) {
    super('ERR_SAG_USAGE', `${message}\n${AP_RUN_USAGE}`);
  }
}

interface ApArgs {
  controller: string;
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

const SINGLE = [
  'controller',
  'id',
  'token-file',
  'key-file',
  'listen-port',
  'listen-address',
  'mtu',
  'prefix',
  'link-octet',
  'status-file',
];

function readSecret(file: string, what: string): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8').trim();
  } catch (cause) {
    throw new ApUsageError(
      `cannot read ${what} ${file}: ${(cause as NodeJS.ErrnoException).code ?? (cause as Error).message}`,
    );
  }
  if (text === '') throw new ApUsageError(`${what} ${file} is empty`);
  return text;
}

export function parseApArgs(argv: string[]): ApArgs {
  const values = new Map<string, string>();
  const vpcs = new Map<string, string>();
  for (let i = 0; i < argv.length; i += 2) {
    const flag = argv[i]!;
    const value = argv[i + 1];
    if (!flag.startsWith('--') || value === undefined)
      throw new ApUsageError(
        `bad argument '${flag}'${value === undefined && flag.startsWith('--') ? ': it needs a value' : ''}`,
      );
    const name = flag.slice(2);
    if (name === 'vpc') {
      const m = /^(vpc-[a-z0-9-]+)=([A-Za-z0-9_.-]{1,64})$/.exec(value);
      if (!m) throw new ApUsageError(`--vpc ${value}: expected VPC_ID=NETNS, e.g. vpc-prod=vpcns`);
      if (vpcs.has(m[1]!)) throw new ApUsageError(`--vpc ${m[1]} given twice`);
      vpcs.set(m[1]!, m[2]!);
      continue;
    }
    if (!SINGLE.includes(name)) throw new ApUsageError(`unknown option --${name}`);
    if (values.has(name)) throw new ApUsageError(`--${name} given twice`);
    values.set(name, value);
  }
  for (const required of ['controller', 'id', 'token-file', 'key-file']) {
    if (!values.has(required)) throw new ApUsageError(`--${required} is required`);
  }
  const id = values.get('id')!;
  if (!/^[a-z]{2,3}-[a-z0-9-]+$/.test(id))
    throw new ApUsageError(`--id ${id} is not an access point id (e.g. ap-hz1)`);
  const prefix = values.get('prefix') ?? 'sag';
  if (!/^[a-z0-9]{1,6}$/.test(prefix))
    throw new ApUsageError(`--prefix ${prefix}: use 1 to 6 of a-z and 0-9`);
  const privateKey = readSecret(values.get('key-file')!, 'key file');
  try {
    decodeKey(privateKey);
  } catch {
    throw new ApUsageError(
      `key file ${values.get('key-file')} does not hold a base64 WireGuard private key (make one with sag genkey)`,
    );
  }
  const num = (name: string, min: number, max: number, dflt: number) => {
    const text = values.get(name);
    if (text === undefined) return dflt;
    if (!/^[0-9]+$/.test(text)) throw new ApUsageError(`--${name} ${text} is not a number`);
    try {
      return parseIntInRange(Number(text), `--${name}`, min, max);
    } catch (err) {
      throw new ApUsageError((err as Error).message);
    }
  };
  const listenAddress = values.get('listen-address');
  if (listenAddress !== undefined) {
    try {
      parseAddress(listenAddress, '--listen-address');
    } catch (err) {
      throw new ApUsageError((err as Error).message);
    }
  }
  const listenPort = num('listen-port', 1, 65535, 51820);
  parsePort(listenPort, '--listen-port', false);
  return {
    controller: values.get('controller')!,
    id,
    token: readSecret(values.get('token-file')!, 'token file'),
    privateKey,
    listenPort,
    ...(listenAddress === undefined ? {} : { listenAddress }),
    mtu: num('mtu', 576, 65503, 1420),
    vpcs,
    prefix,
    linkOctet: num('link-octet', 0, 255, 0),
    ...(values.has('status-file') ? { statusFile: values.get('status-file')! } : {}),
  };
}

export async function apMain(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(AP_RUN_USAGE);
    return 0;
  }
  const args = parseApArgs(argv);
  let controller: HttpControllerClient;
  try {
    controller = new HttpControllerClient({ url: args.controller });
  } catch (err) {
    throw new ApUsageError((err as Error).message);
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
