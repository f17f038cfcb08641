/**
 * A branch and a hub in two network namespaces joined by two veth pairs (two uplinks), each end a
 * Gateway (test/fixtures/multipath-node.ts) on a real TUN; the branch has two named uplinks and
 * the hub's two addresses as endpoints, one per uplink. The hub is a plain roaming responder.
 *
 *   ns branch                                               ns hub
 *   tun 10.90.0.1 ─ uplink wan1 10.91.1.1 ══ veth 1 ══ 10.91.1.2 ┐
 *                 ─ uplink wan2 10.91.2.1 ══ veth 2 ══ 10.91.2.2 ┴ :51820 ─ tun 10.90.0.2
 *
 * The reference (multipath: false) is plain WireGuard on the same wires: the branch has the one
 * endpoint REFERENCE_ENDPOINT (on the hub's loopback), reached by two routes (link 1 metric 10,
 * link 2 metric 20), roaming and persistent keepalive; a link going down withdraws its route.
 *
 * Used by test/e2e/multipath.test.ts and bench/failover.ts.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { nsSpawner, RelayChild } from './children.js';
import { HarnessChild } from './json-lines.js';
import { nftBlackhole, nftLoss, type NftImpairment } from './nft.js';
import { Namespaces, sh, uniqueTag } from './netns.js';
import { tsxCommand } from './processes.js';
import { waitUntil } from './time.js';
import { publicKeyFromPrivate } from '../../src/wg/crypto.js';

const fixture = fileURLToPath(new URL('../fixtures/multipath-node.ts', import.meta.url));

export const BRANCH_IP = '10.90.0.1';
export const HUB_IP = '10.90.0.2';
const PORT = 51820;
export const REFERENCE_ENDPOINT = '10.92.0.1';

export interface PathInfo {
  id: number;
  uplink: string;
  state: string;
  active: boolean;
  /** Classes whose traffic it carries ('default' for the default class). */
  classes: string[];
  rttMs: number | null;
  lossPct: number;
}

export interface MultipathTopology {
  ns: Namespaces;
  branch: HarnessChild;
  hub: HarnessChild;
  nsBranch: string;
  nsHub: string;
  /** False for the plain WireGuard reference. */
  multipath: boolean;
  /** Branch-side device of each link (1 and 2). */
  dev: Record<1 | 2, string>;
  /** Hub-side device of each link. */
  hubDev: Record<1 | 2, string>;
  status(): Promise<{ multipath: boolean; paths: PathInfo[]; counters: { drops: Record<string, number> } }>;
  /** Waits until the branch's default class runs on the uplink (wan1 or wan2). */
  waitActive(uplink: string, timeoutMs?: number): Promise<void>;
  /** With `relays`: the relay of each path (set its delay, jitter, loss). */
  relay: Partial<Record<1 | 2, RelayChild>>;
  linkDown(n: 1 | 2): void;
  linkUp(n: 1 | 2): void;
  blackhole(n: 1 | 2): NftImpairment;
  loss(n: 1 | 2, pct: number): NftImpairment;
  cleanup(): Promise<void>;
}

export interface TopologyOptions {
  /** Extra Gateway options for the branch (paths, classes, uplink priorities). */
  branch?: Record<string, unknown>;
  uplinks?: Record<string, unknown>[];
  /** false: the branch has one endpoint and no named uplinks (plain WireGuard, the reference). */
  multipath?: boolean;
  persistentKeepalive?: number;
  /** The hub as a stock WireGuard: Debian's wireguard-go instead of sag. */
  stockHub?: boolean;
  /** Each path through a udp-relay in the hub namespace (test/support/udp-relay.ts), for delay and jitter. */
  relays?: boolean;
  /** The branch's uplinks bound to their devices as well as their addresses (dev:IF@ADDR). */
  uplinksOnDevices?: boolean;
}

/** wireguard-go as the hub: a child that answers {"op":"status"} with `wg show` of its device. */
function stockHub(ns: Namespaces, nsHub: string, dev: string, key: Buffer, branchPub: string): HarnessChild {
  sh('wireguard-go', [dev], { ns: nsHub });
  const dir = mkdtempSync(join(tmpdir(), 'sag-mp-'));
  try {
    writeFileSync(join(dir, 'key'), key.toString('base64'), { mode: 0o600 });
    sh(
      'wg',
      [
        'set',
        dev,
        'private-key',
        join(dir, 'key'),
        'listen-port',
        String(PORT),
        'peer',
        branchPub,
        'allowed-ips',
        `${BRANCH_IP}/32`,
      ],
      { ns: nsHub },
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  sh('ip', ['addr', 'add', `${HUB_IP}/24`, 'dev', dev], { ns: nsHub });
  sh('ip', ['link', 'set', dev, 'up'], { ns: nsHub });
  // A stand-in child with the harness protocol, so callers treat both hubs alike.
  const script = `const rl=require('readline').createInterface({input:process.stdin});const {execFileSync}=require('child_process');
console.log(JSON.stringify({event:'ready'}));
rl.on('line',(l)=>{const r=JSON.parse(l);const out=execFileSync('wg',['show',${JSON.stringify(dev)},'dump'],{encoding:'utf8'});console.log(JSON.stringify({id:r.id,ok:true,dump:out}));});
rl.on('close',()=>{try{execFileSync('ip',['link','del',${JSON.stringify(dev)}])}catch{};process.exit(0)});`;
  return new HarnessChild(ns.spawn(nsHub, process.execPath, ['-e', script]));
}

function spawnNode(ns: Namespaces, name: string, cfg: object): HarnessChild {
  const c = tsxCommand(fixture, [JSON.stringify(cfg)]);
  return new HarnessChild(ns.spawn(name, c.cmd, c.args));
}

export async function buildMultipathTopology(opts: TopologyOptions = {}): Promise<MultipathTopology> {
  const tag = uniqueTag();
  const ns = new Namespaces();
  try {
    const nsBranch = ns.add(`mp${tag}b`);
    const nsHub = ns.add(`mp${tag}h`);
    const dev = { 1: `mp${tag}b1`, 2: `mp${tag}b2` } as const;
    const hubDev = { 1: `mp${tag}h1`, 2: `mp${tag}h2` } as const;
    ns.link(
      { ns: nsBranch, dev: dev[1], addr: '10.91.1.1/30' },
      { ns: nsHub, dev: hubDev[1], addr: '10.91.1.2/30' },
    );
    ns.link(
      { ns: nsBranch, dev: dev[2], addr: '10.91.2.1/30' },
      { ns: nsHub, dev: hubDev[2], addr: '10.91.2.2/30' },
    );
    const keyB = randomBytes(32);
    const keyH = randomBytes(32);
    const pub = (k: Buffer) => Buffer.from(publicKeyFromPrivate(k)).toString('base64');
    const multipath = opts.multipath ?? true;
    if (!multipath) {
      sh('ip', ['addr', 'add', `${REFERENCE_ENDPOINT}/32`, 'dev', 'lo'], { ns: nsHub });
      sh('ip', ['route', 'add', `${REFERENCE_ENDPOINT}/32`, 'via', '10.91.1.2', 'metric', '10'], {
        ns: nsBranch,
      });
      sh('ip', ['route', 'add', `${REFERENCE_ENDPOINT}/32`, 'via', '10.91.2.2', 'metric', '20'], {
        ns: nsBranch,
      });
    }
    const hubTun = `mp${tag}w`;
    const hub = opts.stockHub
      ? stockHub(ns, nsHub, hubTun, keyH, pub(keyB))
      : spawnNode(ns, nsHub, {
          tun: `mp${tag}t`,
          address: `${HUB_IP}/24`,
          // The reference hub answers from its loopback address, as a server with one public address
          // does (bound to it, so replies never leave from a link address the branch would roam to).
          gateway: {
            privateKey: keyH.toString('base64'),
            listenPort: PORT,
            listenAddress: multipath ? '0.0.0.0' : REFERENCE_ENDPOINT,
          },
          peer: { publicKey: pub(keyB), allowedIps: [`${BRANCH_IP}/32`] },
        });
    await hub.ready; // the branch may initiate at once (persistent keepalive): the hub must know it
    const relay: Partial<Record<1 | 2, RelayChild>> = {};
    const hubPort: Record<1 | 2, number> = { 1: PORT, 2: PORT };
    if (opts.relays) {
      for (const n of [1, 2] as const) {
        relay[n] = await RelayChild.spawn(
          {
            listen: { host: `10.91.${n}.2`, port: 0 },
            target: { host: '127.0.0.1', port: PORT },
            relearn: true,
            impairment: { delayMs: 5 },
          },
          nsSpawner(ns, nsHub),
        );
        hubPort[n] = relay[n]!.listenPort;
      }
    }
    const keepalive = opts.persistentKeepalive ? { persistentKeepalive: opts.persistentKeepalive } : {};
    const branch = spawnNode(ns, nsBranch, {
      tun: `mp${tag}t`,
      address: `${BRANCH_IP}/24`,
      gateway: {
        privateKey: keyB.toString('base64'),
        listenAddress: '0.0.0.0',
        ...(multipath
          ? {
              uplinks:
                opts.uplinks ??
                [1, 2].map((n) => ({
                  name: `wan${n}`,
                  address: `10.91.${n}.1`,
                  priority: n,
                  ...(opts.uplinksOnDevices ? { device: dev[n as 1 | 2] } : {}),
                })),
            }
          : {}),
        ...opts.branch,
      },
      peer: multipath
        ? {
            publicKey: pub(keyH),
            allowedIps: [`${HUB_IP}/32`],
            endpoints: [
              { address: '10.91.1.2', port: hubPort[1], uplink: 'wan1' },
              { address: '10.91.2.2', port: hubPort[2], uplink: 'wan2' },
            ],
            ...keepalive,
          }
        : {
            publicKey: pub(keyH),
            allowedIps: [`${HUB_IP}/32`],
            endpoint: { address: REFERENCE_ENDPOINT, port: PORT },
            ...keepalive,
          },
    });
    await Promise.all([hub.ready, branch.ready]);
    const status = async () => (await branch.request({ op: 'status' })).peer as never;
    return {
      ns,
      branch,
      hub,
      nsBranch,
      nsHub,
      dev,
      hubDev,
      status,
      multipath,
      relay,
      async waitActive(uplink, timeoutMs = 15000) {
        let paths: PathInfo[] = [];
        await waitUntil(
          async () => {
            paths = ((await status()) as { paths: PathInfo[] }).paths;
            const carrying = paths.filter((p) => p.classes.includes('default'));
            return carrying.length === 1 && carrying[0]!.uplink === uplink;
          },
          timeoutMs,
          50,
          () => `default class not on ${uplink} after ${timeoutMs} ms: ${JSON.stringify(paths)}`,
        );
      },
      linkDown: (n) => void sh('ip', ['link', 'set', dev[n], 'down'], { ns: nsBranch }),
      linkUp: (n) => void sh('ip', ['link', 'set', dev[n], 'up'], { ns: nsBranch }),
      blackhole: (n) => nftBlackhole(nsBranch, dev[n]),
      loss: (n, pct) => nftLoss(nsBranch, dev[n], pct),
      async cleanup() {
        await Promise.allSettled([
          branch.close(),
          hub.close(),
          ...Object.values(relay).map((r) => r.close()),
        ]);
        await ns.cleanup();
      },
    };
  } catch (err) {
    await ns.cleanup();
    throw err;
  }
}
