/**
 * The lab's network: namespaces on one host, joined by a "wan" bridge, with the
 * addresses docs/lab.md documents. Names carry a per-run tag so labs (and tests)
 * can run side by side. Pure description plus build/teardown through iproute2.
 *
 *   wan bridge 10.200.0.0/24 (namespace <tag>-wan)
 *     .1  controller  <tag>-ctl       sag controller on :8080
 *     .11 ap-m1       <tag>-ap1       area mainland, sag ap run on :51820
 *     .12 ap-i1       <tag>-ap2       area international, sag ap run on :51820
 *     .21 branch b1   <tag>-b1   LAN 192.168.1.0/24 -> host 192.168.1.10 in <tag>-b1l   (ccn-a)
 *     .22 branch b2   <tag>-b2   LAN 192.168.2.0/24 -> host 192.168.2.10 in <tag>-b2l   (ccn-a)
 *     .23 branch b3   <tag>-b3   LAN 172.20.3.0/24  -> host 172.20.3.10  in <tag>-b3l   (ccn-b)
 *   VPC vpc-lab 172.16.0.0/16, host 172.16.0.10 in <tag>-vpc, reached from ap-m1 (--vpc)
 */
import { exec, ip, sysctl } from '../ap/sys.js';

export interface BranchSpec {
  name: 'b1' | 'b2' | 'b3';
  serial: string;
  instanceId: string;
  ccnId: string;
  wan: string;
  lan: string;
  /** The branch router's and the LAN host's addresses. */
  lanGateway: string;
  lanHost: string;
  bandwidthMbps: number;
}

export interface ApSpec {
  id: string;
  area: string;
  wan: string;
  linkOctet: number;
}

export const WAN_NET = '10.200.0.0/24';
export const CONTROLLER_WAN = '10.200.0.1';
export const CONTROLLER_PORT = 8080;
export const AP_PORT = 51820;
export const VPC = { id: 'vpc-lab', region: 'cn-hongkong', cidr: '172.16.0.0/16', host: '172.16.0.10' };

export const APS: readonly ApSpec[] = [
  { id: 'ap-m1', area: 'mainland', wan: '10.200.0.11', linkOctet: 1 },
  { id: 'ap-i1', area: 'international', wan: '10.200.0.12', linkOctet: 2 },
];

export const BRANCHES: readonly BranchSpec[] = [
  {
    name: 'b1',
    serial: 'LAB-B1',
    instanceId: 'sag-b1',
    ccnId: 'ccn-a',
    wan: '10.200.0.21',
    lan: '192.168.1.0/24',
    lanGateway: '192.168.1.1',
    lanHost: '192.168.1.10',
    bandwidthMbps: 50,
  },
  {
    name: 'b2',
    serial: 'LAB-B2',
    instanceId: 'sag-b2',
    ccnId: 'ccn-a',
    wan: '10.200.0.22',
    lan: '192.168.2.0/24',
    lanGateway: '192.168.2.1',
    lanHost: '192.168.2.10',
    bandwidthMbps: 8,
  },
  {
    name: 'b3',
    serial: 'LAB-B3',
    instanceId: 'sag-b3',
    ccnId: 'ccn-b',
    wan: '10.200.0.23',
    lan: '172.20.3.0/24',
    lanGateway: '172.20.3.1',
    lanHost: '172.20.3.10',
    bandwidthMbps: 50,
  },
];

/** CCN address spaces: ccn-b reuses ccn-a's LAN range on purpose (CCNs are isolated, so they may). */
export const CCNS = [
  { id: 'ccn-a', name: 'Retail', area: 'mainland', cidrs: ['10.10.0.0/16'] },
  { id: 'ccn-b', name: 'Partners', area: 'mainland', cidrs: ['192.168.0.0/16'] },
] as const;

export class Topology {
  readonly tag: string;
  readonly #made: string[] = [];

  constructor(tag: string) {
    if (!/^[a-z][a-z0-9]{0,5}$/.test(tag))
      throw new RangeError(`lab tag ${tag}: 1 to 6 of a-z0-9, starting with a letter`);
    this.tag = tag;
  }

  ns(role: string): string {
    return `${this.tag}-${role}`;
  }

  /** Builds every namespace and link; on failure removes what it made and rethrows. */
  async build(): Promise<void> {
    try {
      const wan = await this.#netns('wan');
      await ip(wan, ['link', 'add', 'br0', 'type', 'bridge']);
      await ip(wan, ['link', 'set', 'br0', 'up']);
      await this.#wanLink('ctl', CONTROLLER_WAN, 0);
      for (const [i, ap] of APS.entries()) await this.#wanLink(`ap${i + 1}`, ap.wan, i + 1);
      const vpc = await this.#netns('vpc');
      await ip(vpc, ['addr', 'add', `${VPC.host}/32`, 'dev', 'lo']); // the "cloud server" (no dummy module here)
      await sysctl(vpc, 'net.ipv4.ip_forward', '1');
      for (const [i, b] of BRANCHES.entries()) {
        const router = await this.#wanLink(b.name, b.wan, 10 + i);
        await sysctl(router, 'net.ipv4.ip_forward', '1');
        const lan = await this.#netns(`${b.name}l`);
        const len = b.lan.split('/')[1];
        await ip(null, [
          'link',
          'add',
          'lan0',
          'netns',
          router,
          'type',
          'veth',
          'peer',
          'name',
          'eth0',
          'netns',
          lan,
        ]);
        await ip(router, ['addr', 'add', `${b.lanGateway}/${len}`, 'dev', 'lan0']);
        await ip(lan, ['addr', 'add', `${b.lanHost}/${len}`, 'dev', 'eth0']);
        await ip(router, ['link', 'set', 'lan0', 'up']);
        await ip(lan, ['link', 'set', 'eth0', 'up']);
        await ip(lan, ['route', 'add', 'default', 'via', b.lanGateway]);
      }
    } catch (err) {
      await this.teardown();
      throw err;
    }
  }

  /** Removes every namespace of this lab (processes inside are the caller's to stop first). */
  async teardown(): Promise<void> {
    for (const ns of this.#made.splice(0).reverse()) await ip(null, ['netns', 'del', ns]).catch(() => {});
  }

  /** Namespaces a killed lab with this tag left behind. */
  async leftovers(): Promise<string[]> {
    const out = await exec('ip', ['netns', 'list']);
    return out
      .split('\n')
      .map((l) => l.split(' ')[0]!)
      .filter((n) => n.startsWith(`${this.tag}-`));
  }

  async #netns(role: string): Promise<string> {
    const name = this.ns(role);
    await ip(null, ['netns', 'add', name]);
    this.#made.push(name);
    await ip(name, ['link', 'set', 'lo', 'up']);
    await sysctl(name, 'net.ipv6.conf.all.disable_ipv6', '1');
    return name;
  }

  async #wanLink(role: string, address: string, index: number): Promise<string> {
    const ns = await this.#netns(role);
    const port = `p${index}`;
    await ip(null, [
      'link',
      'add',
      'wan0',
      'netns',
      ns,
      'type',
      'veth',
      'peer',
      'name',
      port,
      'netns',
      this.ns('wan'),
    ]);
    await ip(ns, ['addr', 'add', `${address}/24`, 'dev', 'wan0']);
    await ip(ns, ['link', 'set', 'wan0', 'up']);
    await ip(this.ns('wan'), ['link', 'set', port, 'master', 'br0']);
    await ip(this.ns('wan'), ['link', 'set', port, 'up']);
    return ns;
  }
}
