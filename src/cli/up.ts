/**
 * `sag up CONFIG`: brings up a tunnel from a wg-quick style file in the foreground, in wg-quick's
 * order — PreUp, the TUN device, its addresses and MTU, the peers, DNS, routes by Table (policy
 * routing for a full tunnel), PostUp — serves the userspace API (so `wg show` and `sag show` see
 * it), and on SIGINT/SIGTERM or the interface's deletion runs PreDown, removes all of it, then
 * PostDown. A broken file is refused before anything is created; a failure half-way removes what
 * was made.
 */
import { lookup } from 'node:dns/promises';
import { existsSync, readFileSync } from 'node:fs';
import { basename } from 'node:path';
import {
  ConfigError,
  interfaceNameFromPath,
  parseConfig,
  type ConfigPeer,
  type WgQuickConfig,
} from '../config/index.js';
import { runHooks } from '../config/hooks.js';
import { AlreadyExistsError, SystemError } from '../errors.js';
import { Gateway } from '../gateway/gateway.js';
import { DEFAULT_MTU } from '../native/facts.generated.js';
import { formatCidr, formatIp } from '../net/cidr.js';
import { addAddress, setMtu, setUp } from '../net/link.js';
import { serveUntilDone, stopSignal, testRekeyOption } from './daemon.js';
import {
  addDnsServers,
  addRoutes,
  fullTunnelTable,
  unsupportedKeyWarnings,
  UndoStack,
} from './wg-quick-keys.js';
import { type Logger, stderrLogger } from '../util/logger.js';
import { warnIfExposed } from '../util/secret-file.js';

export async function loadConfig(path: string): Promise<{ config: WgQuickConfig; iface: string }> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (cause) {
    throw new ConfigError(path, 0, `cannot read the file: ${(cause as Error).message}`, { cause });
  }
  const config = parseConfig(text, basename(path));
  const iface = interfaceNameFromPath(path);
  if (!iface)
    throw new ConfigError(
      config.file,
      0,
      'the file name must be INTERFACE.conf with a valid interface name (e.g. wg0.conf)',
    );
  if (!config.interface.privateKey) throw new ConfigError(config.file, 1, '[Interface] has no PrivateKey');
  return { config, iface };
}

type ConfigEndpointOf = NonNullable<ConfigPeer['endpoint']>;

async function resolveEndpoint(
  peer: ConfigPeer,
  file: string,
  ep: ConfigEndpointOf | undefined = peer.endpoint,
): Promise<{ address: string; port: number } | undefined> {
  if (!ep) return undefined;
  if (ep.address) return { address: formatIp(ep.address), port: ep.port };
  try {
    const { address } = await lookup(ep.host);
    return { address, port: ep.port };
  } catch (cause) {
    throw new ConfigError(
      file,
      peer.line,
      `cannot resolve Endpoint host ${ep.host}: ${(cause as Error).message}`,
      { cause },
    );
  }
}

/** Thrown inside the bring-up when a stop signal arrived meanwhile: undo, then end quietly. */
class Interrupted extends Error {}

async function resolveEndpoints(config: WgQuickConfig) {
  const endpoints = await Promise.all(config.peers.map((p) => resolveEndpoint(p, config.file)));
  // Multipath: every endpoint of a peer, each with the uplink it is tied to.
  const endpointLists = await Promise.all(
    config.peers.map(
      (p) =>
        p.endpoints &&
        Promise.all(
          p.endpoints.map(async (e) => ({
            ...(await resolveEndpoint(p, config.file, e))!,
            ...(e.uplink ? { uplink: e.uplink } : {}),
          })),
        ),
    ),
  );
  return { endpoints, endpointLists };
}

function newGateway(config: WgQuickConfig, iface: string, fwmark: number | undefined, log: Logger): Gateway {
  const i = config.interface;
  return new Gateway({
    privateKey: i.privateKey!,
    tun: iface,
    logger: log,
    ...(i.listenPort !== undefined ? { listenPort: i.listenPort } : {}),
    ...(fwmark ? { fwmark } : {}),
    ...(i.mtu !== undefined ? { mtu: i.mtu } : {}),
    ...testRekeyOption(),
    uplinks: config.uplinks.map(({ line: _line, ...u }) => u),
    classes: config.classes.map(({ line: _line, ...c }) => c),
    paths: config.pathTuning,
  });
}

/** The device: TUN, addresses, MTU, peers, link up. */
async function startDevice(
  gateway: Gateway,
  config: WgQuickConfig,
  iface: string,
  { endpoints, endpointLists }: Awaited<ReturnType<typeof resolveEndpoints>>,
): Promise<void> {
  const i = config.interface;
  await gateway.start();
  for (const a of i.addresses) await addAddress(iface, `${formatIp(a.address)}/${a.prefix}`);
  await setMtu(iface, i.mtu ?? DEFAULT_MTU);
  config.peers.forEach((p, n) => {
    const endpoint = endpoints[n];
    gateway.addPeer({
      publicKey: p.publicKey,
      allowedIps: p.allowedIps.map(formatCidr),
      ...(p.presharedKey ? { presharedKey: p.presharedKey } : {}),
      ...(endpoint ? { endpoint } : {}),
      ...(endpointLists[n] ? { endpoints: endpointLists[n] } : {}),
      ...(p.persistentKeepalive ? { persistentKeepalive: p.persistentKeepalive } : {}),
    });
  });
  await setUp(iface);
}

export async function up(path: string, log: Logger = stderrLogger('sag')): Promise<void> {
  const { config, iface } = await loadConfig(path);
  // It holds the PrivateKey: say so if others may read it, as wg-quick does.
  await warnIfExposed(path, (message) => log('warn', message));
  // Opening a TUN by name attaches to an existing (persistent) one: we would configure, and on
  // failure or exit leave behind, a device that is not ours. wg-quick refuses too.
  if (existsSync(`/sys/class/net/${iface}`)) {
    throw new AlreadyExistsError(
      `interface ${iface} already exists: up under another process, or left over (remove it with \`ip link del ${iface}\`)`,
    );
  }
  for (const w of config.warnings) log('warn', `${config.file}:${w.line}: ${w.message}`);
  const resolved = await resolveEndpoints(config);
  const i = config.interface;
  const policyTable = await fullTunnelTable(config);
  for (const w of unsupportedKeyWarnings(config, policyTable)) log('warn', w);
  let interrupted: string | undefined;
  void stopSignal().then((reason) => (interrupted = reason));
  const checkpoint = () => {
    if (interrupted) throw new Interrupted(interrupted);
  };
  await runHooks('PreUp', i.preUp, iface, log);
  if (interrupted) return log('info', `stopped before creating ${iface}: ${interrupted}`);
  const gateway = newGateway(config, iface, policyTable ?? i.fwMark, log);
  const undo = new UndoStack();
  let serving = false;
  // A failing down hook does not stop the teardown (the TUN goes with us anyway): it is reported
  // as the exit status once everything ran.
  let hookFailure: unknown;
  let undoFailure: unknown;
  const downHooks = (phase: 'PreDown' | 'PostDown', hooks: readonly string[]) =>
    runHooks(phase, hooks, iface, log).catch((err: unknown) => void (hookFailure ??= err));
  try {
    await startDevice(gateway, config, iface, resolved);
    checkpoint();
    await addDnsServers(config, iface, log, undo);
    await addRoutes(config, iface, policyTable, undo);
    checkpoint();
    // PostUp runs once the UAPI socket serves, as hooks may use `wg`; "is up" is said after it,
    // so `wg show` works as soon as the line appears. A signal during PostUp is a normal stop.
    await serveUntilDone(
      gateway,
      iface,
      log,
      () => {
        serving = true;
        log(
          'info',
          `${iface} is up: public key ${gateway.publicKey}, listening on port ${gateway.listenPort}`,
        );
      },
      {
        afterStart: () => runHooks('PostUp', i.postUp, iface, log),
        beforeStop: async () => {
          await downHooks('PreDown', i.preDown);
          undoFailure = await undo.run(log);
        },
        afterStop: () => downHooks('PostDown', i.postDown),
      },
    );
  } catch (err) {
    if (serving) throw err;
    // As wg-quick's trap: what was added goes, the down hooks do not run.
    await undo.run(log);
    await gateway.stop(); // the TUN goes, and with it every address and route on it
    if (err instanceof Interrupted) return log('info', `stopped while bringing up ${iface}: ${err.message}`);
    throw err;
  }
  if (hookFailure) throw hookFailure;
  if (undoFailure)
    throw new SystemError(`${iface} is down, but not everything it added could be removed (see above)`);
}
