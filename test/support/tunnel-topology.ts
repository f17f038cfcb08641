/**
 * Two sag dataplanes in two network namespaces joined by veth, sharing a test keypair:
 *
 *   ns <tag>a                                          ns <tag>b
 *   ┌────────────────────────────┐                     ┌────────────────────────────┐
 *   │ tun sagt0  10.77.0.1/24    │                     │ tun sagt0  10.77.0.2/24    │
 *   │ dataplane ─ udp :51820     │   veth (underlay)   │ dataplane ─ udp :51820     │
 *   │            va 10.78.0.1/30 ├─────────────────────┤ vb 10.78.0.2/30            │
 *   └────────────────────────────┘                     └────────────────────────────┘
 *
 * Used by the e2e tests and by bench/tunnel.ts.
 */
import { randomBytes } from 'node:crypto';
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Namespaces, uniqueTag } from './netns.js';
import { tsxCommand, waitForLine } from './processes.js';

const fixture = fileURLToPath(new URL('../fixtures/tunnel-node.ts', import.meta.url));

export interface TunnelTopology {
  nsA: string;
  nsB: string;
  tunA: string;
  tunB: string;
  vethA: string;
  underlayPort: number;
  /** Per-side dataplane statistics as the fixture reports them. */
  stats(side: 'a' | 'b'): Promise<{
    peer: { counters: { rxPackets: number; txPackets: number; drops: Record<string, number> } };
    global: unknown;
  }>;
  cleanup(): Promise<void>;
  namespaces: Namespaces;
}

export const TUNNEL_IP_A = '10.77.0.1';
export const TUNNEL_IP_B = '10.77.0.2';

/**
 * `offloads` is passed to both dataplanes as SAG_OFFLOADS (docs/offloads.md: "on", "off", or a list such
 * as "tun,gso"); unset, they inherit this process's SAG_OFFLOADS. `tunQueues` is the dataplanes'
 * tunQueues option (one send worker per TUN queue); unset, their default.
 */
export async function buildTunnelTopology(
  opts: { mtu?: number; offloads?: string; tunQueues?: number } = {},
): Promise<TunnelTopology> {
  const tag = uniqueTag();
  const ns = new Namespaces();
  try {
    const nsA = ns.add(`sagt${tag}a`);
    const nsB = ns.add(`sagt${tag}b`);
    const vethA = `va${tag}`;
    ns.link(
      { ns: nsA, dev: vethA, addr: '10.78.0.1/30' },
      { ns: nsB, dev: `vb${tag}`, addr: '10.78.0.2/30' },
    );
    const keyA = randomBytes(32).toString('base64');
    const keyB = randomBytes(32).toString('base64');
    const k1 = randomBytes(32).toString('base64');
    const k2 = randomBytes(32).toString('base64');
    const port = 51820;
    const mtu = opts.mtu ?? 1420;
    const side = (me: 'a' | 'b') => ({
      tun: 'sagt0',
      address: me === 'a' ? `${TUNNEL_IP_A}/24` : `${TUNNEL_IP_B}/24`,
      mtu,
      offloads: opts.offloads,
      tunQueues: opts.tunQueues,
      bind: { address: me === 'a' ? '10.78.0.1' : '10.78.0.2', port },
      peer: {
        publicKey: me === 'a' ? keyB : keyA,
        allowedIps: [me === 'a' ? `${TUNNEL_IP_B}/32` : `${TUNNEL_IP_A}/32`],
        endpoint: { address: me === 'a' ? '10.78.0.2' : '10.78.0.1', port },
      },
      keypair:
        me === 'a'
          ? { localIndex: 1001, remoteIndex: 2002, sendKey: k1, recvKey: k2, initiator: true }
          : { localIndex: 2002, remoteIndex: 1001, sendKey: k2, recvKey: k1, initiator: false },
    });
    const node = (name: string, me: 'a' | 'b') => {
      const c = tsxCommand(fixture, [JSON.stringify(side(me))]);
      return ns.spawn(name, c.cmd, c.args);
    };
    const children: Record<'a' | 'b', ChildProcess> = { b: node(nsB, 'b'), a: node(nsA, 'a') };
    await Promise.all([waitForLine(children.a, /^READY/), waitForLine(children.b, /^READY/)]);
    return {
      nsA,
      nsB,
      tunA: 'sagt0',
      tunB: 'sagt0',
      vethA,
      underlayPort: port,
      namespaces: ns,
      async stats(which) {
        const child = children[which];
        const line = waitForLine(child, /^STATS /);
        child.stdin!.write('stats\n');
        return JSON.parse((await line).slice(6));
      },
      cleanup: () => ns.cleanup(),
    };
  } catch (err) {
    await ns.cleanup();
    throw err;
  }
}
