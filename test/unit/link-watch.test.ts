/**
 * The link watcher's reaction (src/gateway/link-watch.ts) to injected rtnetlink lines: verdicts per
 * uplink binding, the driver calls they lead to (down once per outage, up, rebind), and through a
 * real Gateway over loopback: a link down moves traffic within the same call (no probe waited
 * for), the path comes back only through probes and the hold-down, an address removed counts too.
 */
import test from 'ava';
import { EventEmitter } from 'node:events';
import { Gateway } from '../../src/gateway/index.js';
import { judgeUplink, LinkWatch, type LinkSource, type LinkWatchHost } from '../../src/gateway/link-watch.js';
import type { UplinkStatus } from '../../src/gateway/multipath.js';
import { parseIpMonitorLine, type IpMonitorLine } from '../../src/net/ip-monitor-lines.js';
import { LinkTable } from '../../src/net/link-table.js';
import { encodeKey, generatePrivateKey, publicKeyFromPrivate } from '../../src/wg/crypto.js';
import { memoryTun, tunInject } from '../../src/testing/index.js';
import { ipv4Packet } from '../support/packets.js';
import { waitFor } from '../support/time.js';

/** Link lines in iproute2's format (as captured in test/fixtures/ip-monitor-captured.txt). */
const link = (index: number, name: string, up: boolean) =>
  up
    ? `${index}: ${name}@if9: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP group default \\    link/ether ea:71:7f:7d:2e:a3 brd ff:ff:ff:ff:ff:ff`
    : `${index}: ${name}@if9: <BROADCAST,MULTICAST> mtu 1500 qdisc noqueue state DOWN group default \\    link/ether ea:71:7f:7d:2e:a3 brd ff:ff:ff:ff:ff:ff`;
const addr = (index: number, name: string, cidr: string, deleted = false) =>
  `${deleted ? 'Deleted ' : ''}${index}: ${name}    ${cidr.includes(':') ? 'inet6' : 'inet'} ${cidr} scope global ${name}\\       valid_lft forever preferred_lft forever`;
const parse = (lines: string[]): IpMonitorLine[] => lines.map((l) => parseIpMonitorLine(l)!);

/** A LinkSource the test feeds by hand. */
class InjectedSource extends EventEmitter implements LinkSource {
  started = 0;
  stopped = 0;
  start(): void {
    this.started++;
  }
  async stop(): Promise<void> {
    this.stopped++;
  }
  snapshot(lines: string[]): void {
    this.emit('snapshot', parse(lines));
  }
  change(line: string): void {
    this.emit('change', parseIpMonitorLine(line)!);
  }
}

const uplink = (name: string, address: string, device?: string): UplinkStatus => ({
  id: 1,
  name,
  address,
  port: 1,
  priority: 1,
  weight: 1,
  metered: false,
  ...(device ? { device } : {}),
});

test('verdicts: address-bound, device-bound (with and without an address), wildcard unwatched', (t) => {
  const table = new LinkTable();
  table.replace(
    parse([
      link(3, 'eth0', true),
      addr(3, 'eth0', '10.0.0.1/24'),
      addr(3, 'eth0', 'fe80::1/64'),
      link(4, 'eth1', false),
      addr(4, 'eth1', '10.1.0.1/24'),
      addr(4, 'eth1', '2001:db8::1/64'),
    ]),
  );
  t.deepEqual(judgeUplink(table, uplink('a', '10.0.0.1')), { up: true });
  t.deepEqual(judgeUplink(table, uplink('a', '10.1.0.1')), { up: false, reason: 'link-down' });
  t.deepEqual(judgeUplink(table, uplink('a', '10.2.0.1')), { up: false, reason: 'address-removed' });
  t.is(judgeUplink(table, uplink('a', '0.0.0.0')), null);
  t.is(judgeUplink(table, uplink('a', '::')), null);
  t.deepEqual(judgeUplink(table, uplink('a', '0.0.0.0', 'eth0')), { up: true });
  t.deepEqual(judgeUplink(table, uplink('a', '0.0.0.0', 'eth1')), { up: false, reason: 'link-down' });
  t.deepEqual(judgeUplink(table, uplink('a', '0.0.0.0', 'nope')), { up: false, reason: 'link-down' });
  t.deepEqual(judgeUplink(table, uplink('a', '10.0.0.9', 'eth0')), { rebindTo: ['10.0.0.1'] });
  t.deepEqual(
    judgeUplink(table, uplink('a', '2001:db8::9', 'eth0')),
    { up: false, reason: 'address-removed' },
    'link-local is no candidate',
  );
});

function recordingHost(list: UplinkStatus[]) {
  const calls: string[] = [];
  const host: LinkWatchHost = {
    uplinks: () => list.map((u) => ({ ...u })),
    setUplinkLink: (name, down) => void calls.push(`${name} ${down ?? 'up'}`),
    rebindUplink: (name, address) => {
      if (address === '10.0.0.66') throw new Error('EADDRNOTAVAIL');
      calls.push(`${name} rebind ${address}`);
      const u = list.find((x) => x.name === name)!;
      u.address = address;
      return { ...u };
    },
    log: () => {},
    emit: (event, payload) => void calls.push(`${event} ${JSON.stringify(payload)}`),
  };
  return { host, calls };
}

test('the watcher acts on verdict changes only: one down per outage, up, rebind, a failed rebind is a down; monitor failures are events', async (t) => {
  const list = [uplink('wan1', '10.0.0.1'), uplink('wan2', '10.1.0.1', 'eth1'), uplink('any', '0.0.0.0')];
  const { host, calls } = recordingHost(list);
  const source = new InjectedSource();
  const watch = new LinkWatch(host, source);
  watch.sync();
  t.is(source.started, 1);
  watch.sync();
  t.is(source.started, 1, 'started once');
  source.change(link(3, 'eth0', false)); // before the dump: nothing is judged yet
  t.deepEqual(calls, []);
  source.snapshot([
    link(3, 'eth0', true),
    addr(3, 'eth0', '10.0.0.1/24'),
    link(4, 'eth1', true),
    addr(4, 'eth1', '10.1.0.1/24'),
  ]);
  t.deepEqual(calls, [], 'all up at the start: nothing to do');

  source.change(link(3, 'eth0', false));
  t.deepEqual(calls.splice(0), ['wan1 link-down', 'uplink:down {"uplink":"wan1","reason":"link-down"}']);
  source.change(addr(3, 'eth0', '10.0.0.1/24', true));
  t.deepEqual(calls.splice(0), [], 'the address going too is the same outage');
  source.change(link(3, 'eth0', true));
  source.change(addr(3, 'eth0', '10.0.0.1/24'));
  t.deepEqual(calls.splice(0), ['wan1 up', 'uplink:up {"uplink":"wan1"}']);

  // Device-bound wan2: its address changes (the new one first, then the old one goes).
  source.change(addr(4, 'eth1', '10.1.0.7/24'));
  t.deepEqual(calls.splice(0), []);
  source.change(addr(4, 'eth1', '10.1.0.1/24', true));
  t.deepEqual(calls.splice(0), [
    'wan2 rebind 10.1.0.7',
    'uplink:rebound {"uplink":"wan2","from":"10.1.0.1","to":"10.1.0.7"}',
  ]);
  // Removed with no other address: down; an address the socket cannot bind: still down, retried.
  source.change(addr(4, 'eth1', '10.1.0.7/24', true));
  t.deepEqual(calls.splice(0), [
    'wan2 address-removed',
    'uplink:down {"uplink":"wan2","reason":"address-removed"}',
  ]);
  source.change(addr(4, 'eth1', '10.0.0.66/24'));
  t.deepEqual(calls.splice(0), []);
  source.change(addr(4, 'eth1', '10.1.0.8/24'));
  t.deepEqual(calls.splice(0), [
    'wan2 rebind 10.1.0.8',
    'uplink:rebound {"uplink":"wan2","from":"10.1.0.7","to":"10.1.0.8"}',
    'uplink:up {"uplink":"wan2"}',
  ]);
  source.change(link(4, 'eth1', false));
  t.deepEqual(calls.splice(0), ['wan2 link-down', 'uplink:down {"uplink":"wan2","reason":"link-down"}']);

  // The device goes away and comes back under a new index: the old socket is bound to a dead index.
  source.change(`Deleted ${link(4, 'eth1', false)}`);
  t.deepEqual(calls.splice(0), []);
  source.change(link(7, 'eth1', true));
  source.change(addr(7, 'eth1', '10.1.0.8/24'));
  t.deepEqual(calls.splice(0), [
    'wan2 rebind 10.1.0.8',
    'uplink:rebound {"uplink":"wan2","from":"10.1.0.8","to":"10.1.0.8"}',
    'uplink:up {"uplink":"wan2"}',
  ]);
  source.change(link(7, 'eth1', false));
  source.change(link(7, 'eth1', true));
  t.deepEqual(
    calls.splice(0),
    [
      'wan2 link-down',
      'uplink:down {"uplink":"wan2","reason":"link-down"}',
      'wan2 up',
      'uplink:up {"uplink":"wan2"}',
    ],
    'same index: no new socket',
  );

  // An uplink whose device is already gone at the first look gets a new socket when it comes.
  list.push(uplink('lte', '0.0.0.0', 'wwan0'));
  watch.evaluate();
  t.deepEqual(calls.splice(0), ['lte link-down', 'uplink:down {"uplink":"lte","reason":"link-down"}']);
  source.change(link(8, 'wwan0', true));
  source.change(addr(8, 'wwan0', '100.64.0.2/30'));
  t.deepEqual(calls.splice(0), [
    'lte rebind 0.0.0.0',
    'uplink:rebound {"uplink":"lte","from":"0.0.0.0","to":"0.0.0.0"}',
    'uplink:up {"uplink":"lte"}',
  ]);

  source.emit('failure', { message: 'ip monitor exited (SIGKILL)', restartInMs: 100 });
  t.deepEqual(calls.splice(0), [
    'linkwatch:error {"message":"ip monitor exited (SIGKILL)","restartInMs":100}',
  ]);
  await watch.stop();
  t.is(source.stopped, 1);
});

function keypair() {
  const priv = generatePrivateKey();
  return { priv: encodeKey(priv), pub: encodeKey(publicKeyFromPrivate(priv)) };
}

test('through a Gateway: link down fails over within the call, held down while it lasts; link back returns through probes and the hold-down; address removed', async (t) => {
  const ka = keypair();
  const kb = keypair();
  const source = new InjectedSource();
  const HOLD_DOWN_MS = 500;
  const a = new Gateway({
    privateKey: ka.priv,
    tun: memoryTun,
    listenAddress: '127.0.0.1',
    pollIntervalMs: 20,
    linkWatch: source,
    uplinks: [
      { name: 'u1', address: '127.0.0.1', priority: 1 },
      { name: 'u2', address: '127.0.0.2', priority: 2 },
    ],
    paths: { intervalMs: 50, holdDownMs: HOLD_DOWN_MS },
  });
  const b = new Gateway({
    privateKey: kb.priv,
    tun: memoryTun,
    listenAddress: '127.0.0.1',
    pollIntervalMs: 20,
    linkWatch: false,
  });
  t.teardown(async () => {
    await a.stop();
    await b.stop();
  });
  const events: { type: string; e: Record<string, unknown> }[] = [];
  for (const type of ['path:down', 'path:failover', 'uplink:down', 'uplink:up'] as const)
    a.on(type, (e: object) => events.push({ type, e: e as Record<string, unknown> }));
  await a.start();
  await b.start();
  t.is(source.started, 1, 'named uplinks on addresses: the watcher runs');
  source.snapshot([
    link(10, 'ethA', true),
    addr(10, 'ethA', '127.0.0.1/8'),
    link(11, 'ethB', true),
    addr(11, 'ethB', '127.0.0.2/8'),
  ]);
  b.addPeer({ publicKey: ka.pub, allowedIps: ['10.0.0.1/32'] });
  a.addPeer({
    publicKey: kb.pub,
    allowedIps: ['10.0.0.2/32'],
    endpoints: [{ address: '127.0.0.1', port: b.listenPort }],
  });
  tunInject(a.dataplane, ipv4Packet('10.0.0.1', '10.0.0.2', 60));
  const paths = () => a.paths(kb.pub);
  const state = (u: string) => paths().find((p) => p.uplink === u)!.state;
  const active = () =>
    paths()
      .filter((p) => p.active)
      .map((p) => p.uplink)
      .join();
  t.true(await waitFor(() => active() === 'u1' && state('u2') === 'up', 5000), JSON.stringify(paths()));

  source.change(link(10, 'ethA', false));
  t.is(state('u1'), 'down', 'down within the call');
  t.is(active(), 'u2', 'failover within the call');
  t.like(events.find((x) => x.type === 'path:down')?.e, { uplink: 'u1', reason: 'link-down' });
  t.true(events.some((x) => x.type === 'path:failover'));
  t.like(events.find((x) => x.type === 'uplink:down')?.e, { uplink: 'u1', reason: 'link-down' });
  // The native selection moved too: a packet now leaves through u2's socket.
  const [u1, u2] = a.uplinks().map((u) => u.id) as [number, number];
  const sent = (id: number) => a.dataplane.uplinkStats(id).txPackets;
  const before = [sent(u1), sent(u2)];
  tunInject(a.dataplane, ipv4Packet('10.0.0.1', '10.0.0.2', 60));
  t.true(await waitFor(() => sent(u2) > before[1]!, 2000));
  // Loopback still answers u1's probes: held down all the same while the link is down.
  await new Promise((r) => setTimeout(r, 300));
  t.is(state('u1'), 'down');

  const upAt = Date.now();
  source.change(link(10, 'ethA', true));
  t.is(state('u1'), 'down', 'no shortcut: up only through probes');
  t.true(events.some((x) => x.type === 'uplink:up'));
  t.true(await waitFor(() => active() === 'u1', 5000));
  t.true(Date.now() - upAt >= HOLD_DOWN_MS, `back after ${Date.now() - upAt} ms, before the hold-down`);

  source.change(addr(11, 'ethB', '127.0.0.2/8', true));
  t.is(state('u2'), 'down');
  t.like(events.filter((x) => x.type === 'path:down').at(-1)?.e, { uplink: 'u2', reason: 'address-removed' });
});

test('the linkWatch option is validated', (t) => {
  t.throws(() => new Gateway({ tun: memoryTun, linkWatch: 'yes' as never }), {
    code: 'ERR_SAG_INVALID_ARGUMENT',
  });
  t.throws(() => new Gateway({ tun: memoryTun, linkWatch: {} as never }), {
    code: 'ERR_SAG_INVALID_ARGUMENT',
  });
});
