/**
 * The access point's apply, space by space, over in-memory doubles of the system
 * commands and the Gateway: a new namespace is default-drop before anything can
 * forward; a failing CCN space leaves the others applied (a CEN detach included)
 * and the configuration unrecorded until a retry succeeds, which touches only the
 * failed space; the follow loop refuses a tampered configuration with nothing
 * applied and retries a partial one with a bounded backoff.
 */
import test from 'ava';
import type { ConfigAnswer } from '../../src/contract/version.js';
import { ConfigFollower, type AccessPointClient, type AccessPointEvents } from '../../src/ap/follow.js';
import { HubApplier } from '../../src/ap/hub.js';
import { FakeHubGateway } from '../../src/ap/testing/gateway.js';
import { RecordingSystem } from '../../src/ap/testing/system.js';
import { apConfig, forwardingRule, hubPeer } from '../support/ap-config.js';
import type { AccessPointConfig, ForwardingRule, HubPeer } from '../../src/contract/config.js';

const peer = (n: number, ccnId: string, lans: string[] = []) => hubPeer(n, ccnId, { lans });
const rule = forwardingRule;
const config = (peers: HubPeer[], policy: ForwardingRule[]) => apConfig(peers, policy);

const A = peer(1, 'ccn-a', ['192.168.1.0/24']);
const B = peer(2, 'ccn-b', ['192.168.2.0/24']);
const VPC_RULE = rule('ccn-a', 'vpc', 'vpc-x', ['172.16.0.0/16']);
const C1 = config(
  [A, B],
  [
    rule('ccn-a', 'ccn', 'ccn-a', ['192.168.1.0/24']),
    VPC_RULE,
    rule('ccn-b', 'ccn', 'ccn-b', ['192.168.2.0/24']),
  ],
);
/** ccn-a detached from the CEN (no VPC rule), and b gets a second LAN. */
const B2 = peer(2, 'ccn-b', ['192.168.2.0/24', '10.2.0.0/24']);
const C2 = config([A, B2], [C1.policy[0]!, rule('ccn-b', 'ccn', 'ccn-b', ['10.2.0.0/24', '192.168.2.0/24'])]);

function world() {
  const sys = new RecordingSystem();
  const gateway = new FakeHubGateway();
  const hub = new HubApplier({
    gateway,
    names: { prefix: 't', linkOctet: 0 },
    vpcs: new Map([['vpc-x', 'vpcns']]),
    mtu: 1420,
    logger: () => {},
    sys,
  });
  return { sys, gateway, hub };
}

test('1 a new namespace is default-drop before forwarding is enabled and before its TUN moves in', async (t) => {
  const { sys, hub } = world();
  t.deepEqual((await hub.apply(C1)).failures, []);
  const at = (line: string) => sys.log.indexOf(line);
  const nft = at('nft t-ccn-a table inet sag');
  t.true(nft > at('ip netns add t-ccn-a'));
  t.true(nft < at('sysctl t-ccn-a net.ipv4.ip_forward=1'), sys.log.join('\n'));
  t.true(nft < at('ip link set tt0 netns t-ccn-a'), sys.log.join('\n'));
  const first = sys.rulesets.get('t-ccn-a')![0]!;
  t.regex(first, /policy drop;/);
  t.notRegex(first, /daddr/, 'no rule lets anything through yet');
  t.regex(sys.ruleset('t-ccn-a')!, /ip daddr \{ 172\.16\.0\.0\/16 \} counter accept/);
});

test('2 one failing space leaves the others applied, a CEN detach included; a retry touches only the failed space', async (t) => {
  const { sys, gateway, hub } = world();
  await hub.apply(C1);
  t.is(hub.config, C1);
  sys.failing.push(/^ip -n t-ccn-b /);
  const r1 = await hub.apply(C2);
  t.deepEqual(
    r1.failures.map((f) => [f.ccnId, f.attempts]),
    [['ccn-b', 1]],
  );
  t.regex(r1.failures[0]!.error.message, /ip -n t-ccn-b .*route replace 10\.2\.0\.0\/24/);
  t.is(hub.config, C1, 'not recorded as applied');
  t.notRegex(sys.ruleset('t-ccn-a')!, /172\.16/, 'the detach is enforced in ccn-a');
  t.true(sys.log.includes('ip -n t-ccn-a link del tv0'), 'and its veth into the VPC is gone');
  t.is((await hub.apply(C2)).failures[0]!.attempts, 2, 'attempts count up while it fails');
  sys.failing.length = 0;
  const mark = sys.log.length;
  const r3 = await hub.apply(C2);
  t.deepEqual(r3.failures, []);
  t.is(hub.config, C2);
  t.deepEqual(hub.failures(), []);
  const retried = sys.log.slice(mark);
  t.true(retried.length > 0);
  t.true(
    retried.every((l) => l.includes('t-ccn-b')),
    `only ccn-b's commands ran:\n${retried.join('\n')}`,
  );
  t.deepEqual(gateway.peerTable.get(B2.publicKey)!.allowedIps, B2.allowedIps);
});

test('3 a space that cannot be created: a peer moving into it is removed, not left in its old CCN, and a namespace we did not make stays', async (t) => {
  const { sys, gateway, hub } = world();
  const moved = { ...B, ccnId: 'ccn-a' };
  const c1 = config([A, moved], [rule('ccn-a', 'ccn', 'ccn-a', ['192.168.1.0/24', '192.168.2.0/24'])]);
  await hub.apply(c1);
  const c2 = config(
    [A, { ...B, ccnId: 'ccn-c' }],
    [rule('ccn-a', 'ccn', 'ccn-a', ['192.168.1.0/24']), rule('ccn-c', 'ccn', 'ccn-c', ['192.168.2.0/24'])],
  );
  sys.failing.push(/^ip netns add t-ccn-c$/); // e.g. a namespace of that name already exists
  const r = await hub.apply(c2);
  t.deepEqual(
    r.failures.map((f) => f.ccnId),
    ['ccn-c'],
  );
  t.false(gateway.peerTable.has(B.publicKey), 'fail closed: no reach through ccn-a any more');
  t.false(sys.log.some((l) => l.startsWith('ip netns del t-ccn-c')));
  t.is(gateway.domains.size, 1, "ccn-c's TUN is closed again");
  t.regex(sys.ruleset('t-ccn-a')!, /192\.168\.1\.0\/24 \}/);
  t.notRegex(sys.ruleset('t-ccn-a')!, /192\.168\.2\.0/, "ccn-a's policy dropped the leaver");
  sys.failing.length = 0;
  t.deepEqual((await hub.apply(c2)).failures, []);
  const domainA = gateway.peerTable.get(A.publicKey)!.domain;
  t.not(gateway.peerTable.get(B.publicKey)!.domain, domainA);
  t.is(hub.config, c2);
});

test('4 a space whose last member left is removed; a removal that fails is retried', async (t) => {
  const { sys, gateway, hub } = world();
  await hub.apply(C1);
  const c2 = config([A], C1.policy.slice(0, 2));
  sys.failing.push(/^ip netns del t-ccn-b$/);
  const r = await hub.apply(c2);
  t.deepEqual(
    r.failures.map((f) => f.ccnId),
    ['ccn-b'],
  );
  t.false(gateway.peerTable.has(B.publicKey), 'its peer went first');
  t.is(gateway.domains.size, 1);
  sys.failing.length = 0;
  t.deepEqual((await hub.apply(c2)).failures, []);
  t.deepEqual(
    hub.spaces().map((s) => s.ccnId),
    ['ccn-a'],
  );
  t.true(sys.log.includes('ip netns del t-ccn-b'));
});

/** Serves the queued answers, then "unchanged" after a short wait. */
class ScriptedClient implements AccessPointClient {
  readonly queue: unknown[] = [];
  readonly afters: (string | undefined)[] = [];
  async getAccessPointConfig(
    _id: string,
    _token: string,
    query: { after?: string } = {},
  ): Promise<ConfigAnswer<AccessPointConfig>> {
    this.afters.push(query.after);
    const next = this.queue.shift();
    if (next !== undefined) return { kind: 'config', config: next as AccessPointConfig };
    await new Promise((r) => setTimeout(r, 5));
    return { kind: 'unchanged', version: query.after ?? '' };
  }
}

function follower(client: ScriptedClient, hub: HubApplier) {
  const f = new ConfigFollower({
    id: 'ap-t',
    token: 't',
    controller: client,
    hub,
    logger: () => {},
    retry: { initialMs: 10, maxMs: 40 },
  });
  const events: { name: keyof AccessPointEvents; at: number; e: unknown }[] = [];
  for (const name of ['config:applied', 'config:partial', 'config:rejected'] as const)
    f.on(name, (e: unknown) => events.push({ name, at: Date.now(), e }));
  return { f, events };
}

async function until(cond: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond() && Date.now() < end) await new Promise((r) => setTimeout(r, 5));
}

test('5 the follow loop refuses a tampered configuration: nothing applied, the reason in its state, polling goes on', async (t) => {
  const { sys, gateway, hub } = world();
  const client = new ScriptedClient();
  const tampered = structuredClone(C2) as unknown as { policy: { to: { id: string } }[] };
  tampered.policy[0]!.to.id = 'ccn-a" accept; flush ruleset; "';
  client.queue.push(C1, tampered);
  const { f, events } = follower(client, hub);
  f.start();
  await until(() => events.some((e) => e.name === 'config:rejected'));
  const commands = sys.log.length;
  const peers = JSON.stringify([...gateway.peerTable]);
  await until(() => client.afters.length >= 5);
  t.is(hub.config?.version, C1.version);
  t.is(sys.log.length, commands, 'no command ran for it');
  t.is(JSON.stringify([...gateway.peerTable]), peers);
  const state = f.state();
  t.is(state.refused?.version, C2.version);
  t.regex(state.refused!.reason, /policy\[0\]\.to\.id .* is not an id of the form ccn-/);
  t.is(state.pending, null);
  client.queue.push(C2);
  await until(() => hub.config?.version === C2.version);
  t.is(f.state().refused, null, 'a configuration accepted clears the refusal');
  await f.stop();
});

test('6 the follow loop retries a partial apply with a bounded backoff until every space succeeds', async (t) => {
  const { sys, hub } = world();
  const client = new ScriptedClient();
  client.queue.push(C2);
  const { f, events } = follower(client, hub);
  await hub.apply(C1); // C1 already runs
  sys.failing.push(/^ip -n t-ccn-b /);
  f.start();
  await until(() => events.filter((e) => e.name === 'config:partial').length >= 6);
  const partial = events.filter((e) => e.name === 'config:partial');
  const delays = partial.map((e) => (e.e as { retryInMs: number }).retryInMs);
  t.true(delays[1]! > delays[0]! * 1.2, `grows: ${delays.join(', ')}`);
  t.true(
    delays.every((d) => d <= 40 * 1.2),
    `bounded: ${delays.join(', ')}`,
  );
  const state = f.state();
  t.is(state.pending?.version, C2.version);
  t.is(state.pending?.failures[0]?.ccnId, 'ccn-b');
  t.true(state.pending!.failures[0]!.attempts >= 6);
  t.is(hub.config?.version, C1.version);
  t.true(
    client.afters.slice(1).every((a) => a === C2.version),
    'it long-polls from the received version',
  );
  sys.failing.length = 0;
  await until(() => events.some((e) => e.name === 'config:applied'));
  t.is(hub.config?.version, C2.version);
  t.is(f.state().pending, null);
  await f.stop();
});
