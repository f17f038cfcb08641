/**
 * `sag up CONFIG`: brings up a tunnel from a wg-quick style file in the foreground — the TUN
 * device, its addresses and MTU, the peers and routes for their allowed IPs — serves the userspace
 * API (so `wg show` and `sag show` see it), and on SIGINT/SIGTERM removes all of it. A broken file
 * is refused before anything is created; a failure half-way removes what was made.
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
import { AlreadyExistsError } from '../errors.js';
import { Gateway } from '../gateway/gateway.js';
import { DEFAULT_MTU } from '../native/facts.generated.js';
import { formatCidr, formatIp } from '../net/cidr.js';
import { addAddress, addRoute, setMtu, setUp } from '../net/link.js';
import { serveUntilDone, testRekeyOption } from './daemon.js';
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
  const i = config.interface;
  const gateway = new Gateway({
    privateKey: i.privateKey!,
    tun: iface,
    logger: log,
    ...(i.listenPort !== undefined ? { listenPort: i.listenPort } : {}),
    ...(i.fwMark ? { fwmark: i.fwMark } : {}),
    ...(i.mtu !== undefined ? { mtu: i.mtu } : {}),
    ...testRekeyOption(),
    uplinks: config.uplinks.map(({ line: _line, ...u }) => u),
    classes: config.classes.map(({ line: _line, ...c }) => c),
    paths: config.pathTuning,
  });
  try {
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
    if (i.table !== 'off') {
      for (const p of config.peers) {
        for (const cidr of p.allowedIps) {
          if (cidr.prefix === 0) {
            log(
              'warn',
              `${config.file}:${p.line}: no route installed for ${formatCidr(cidr)}: default routes need policy routing, which sag up does not do yet (set Table = off and route it yourself)`,
            );
            continue;
          }
          await addRoute(iface, formatCidr(cidr));
        }
      }
    }
  } catch (err) {
    await gateway.stop(); // the TUN goes, and with it every address and route on it
    throw err;
  }
  // Said once the UAPI socket serves, so `wg show` works as soon as the line appears.
  await serveUntilDone(gateway, iface, log, () =>
    log('info', `${iface} is up: public key ${gateway.publicKey}, listening on port ${gateway.listenPort}`),
  );
}
