/**
 * The access point trusts nothing it is sent, and one broken CCN space does not
 * hold up the others' revocations. As root, with a real AccessPoint (Gateway,
 * namespaces, nft) fed configurations by the test (test/fixtures/ap-node.ts):
 *
 *   ns <tag>b: wireguard-go wgb, 100.96.0.1   ns <tag>a: the access point, udp :51820
 *     vb 10.91.0.2/30 ─────────── veth ──────── va 10.91.0.1/30
 *                                               <p>-ccn-a: b's CCN, veth into ns <tag>v
 *                                               <p>-ccn-b: a member-only CCN
 *   ns <tag>v: the VPC, host 172.16.0.10
 *
 *   1 b reaches the VPC through ccn-a.
 *   2 a configuration with an nftables-breaking value is refused: the rulesets and
 *     routes of every space stay byte for byte, the reason is in the status.
 *   3 a new CCN whose namespace cannot be made (a namespace of its name exists)
 *     fails, while ccn-a's CEN detach in the same configuration is enforced: b no
 *     longer reaches the VPC; the configuration is not recorded as applied.
 *   4 the obstacle gone, the retry applies it.
 */
import test from 'ava';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { AccessPointStatus } from '../../src/ap/index.js';
import { apConfig, forwardingRule, hubPeer } from '../support/ap-config.js';
import { e2eSkipReason, Namespaces, sh, uniqueTag } from '../support/netns.js';
import { waitForLine } from '../support/processes.js';
import type { ForwardingRule, HubPeer } from '../../src/contract/config.js';

const skip = e2eSkipReason(['ip', 'nft', 'ping', 'wg', 'wireguard-go']);
if (skip) console.log(`[skip] ap safety e2e: ${skip}`);
const e2e = skip ? test.skip : test.serial;

const fixture = fileURLToPath(new URL('../fixtures/ap-node.ts', import.meta.url));
const tag = uniqueTag();
const prefix = `q${tag}`.slice(0, 6);
const ns = new Namespaces();
const NS = { ap: `sgs${tag}a`, branch: `sgs${tag}b`, vpc: `sgs${tag}v` };
const WG = `wgb${tag}`;
const VPC_HOST = '172.16.0.10';
const dir = mkdtempSync(join(tmpdir(), 'sag-ap-safety-'));
let ap: ChildProcess;
let squatter: string | undefined;
let apLog = '';

const key = () => execFileSync('wg', ['genkey'], { encoding: 'utf8' }).trim();
const pub = (k: string) => execFileSync('wg', ['pubkey'], { input: k, encoding: 'utf8' }).trim();
const [apKey, branchKey] = skip ? ['', ''] : [key(), key()];

const peer = (n: number, ccnId: string, publicKey: string, lans: string[] = []) =>
  hubPeer(n, ccnId, { publicKey, lans, bandwidthMbps: 0 });
const rule = forwardingRule;
const config = (peers: HubPeer[], policy: ForwardingRule[]) => apConfig(peers, policy, '10.91.0.1:51820');

const B = skip ? undefined : peer(1, 'ccn-a', pub(branchKey));
const OTHER = peer(2, 'ccn-b', pub(key()), ['192.168.2.0/24']);
const SAME_A = rule('ccn-a', 'ccn', 'ccn-a', ['192.168.1.0/24']);
const SAME_B = rule('ccn-b', 'ccn', 'ccn-b', ['192.168.2.0/24']);
const C1 = skip
  ? undefined
  : config([B!, OTHER], [SAME_A, rule('ccn-a', 'vpc', 'vpc-x', ['172.16.0.0/16']), SAME_B]);
/** ccn-a detached from the CEN, and a new CCN ccn-c with one member. */
const C2 = skip
  ? undefined
  : config(
      [B!, OTHER, peer(3, 'ccn-c', pub(key()))],
      [SAME_A, SAME_B, rule('ccn-c', 'ccn', 'ccn-c', ['192.168.3.0/24'])],
    );

/** Answers to "status", in order (one reader for the whole run). */
const statusWaiters: ((s: AccessPointStatus) => void)[] = [];
function status(): Promise<AccessPointStatus> {
  return new Promise((resolve) => {
    statusWaiters.push(resolve);
    ap.stdin!.write('status\n');
  });
}

async function waitForStatus(
  cond: (s: AccessPointStatus) => boolean,
  ms: number,
): Promise<AccessPointStatus> {
  const end = Date.now() + ms;
  for (;;) {
    const s = await status();
    if (cond(s) || Date.now() > end) return s;
    await new Promise((r) => setTimeout(r, 100));
  }
}

const send = (c: unknown) => ap.stdin!.write(`config ${JSON.stringify(c)}\n`);
const ping = (count = 2) => {
  try {
    sh('ping', ['-n', '-q', '-c', String(count), '-i', '0.2', '-W', '1', VPC_HOST], { ns: NS.branch });
    return true;
  } catch {
    return false;
  }
};
/** Every ruleset and route table of the access point's spaces, as text. */
const snapshot = () =>
  ['ccn-a', 'ccn-b']
    .map(
      (c) =>
        `${sh('nft', ['list', 'ruleset'], { ns: `${prefix}-${c}` })}${sh('ip', ['route'], { ns: `${prefix}-${c}` })}`,
    )
    .join('\n');

test.before(async () => {
  if (skip) return;
  for (const n of Object.values(NS)) ns.add(n);
  ns.link({ ns: NS.ap, dev: 'va', addr: '10.91.0.1/30' }, { ns: NS.branch, dev: 'vb', addr: '10.91.0.2/30' });
  sh('ip', ['addr', 'add', `${VPC_HOST}/32`, 'dev', 'lo'], { ns: NS.vpc });
  // nsenter, not `ip netns exec`: the namespaces the access point makes must be visible outside its own mount namespace.
  ap = spawn(
    'nsenter',
    [
      `--net=/run/netns/${NS.ap}`,
      '--',
      process.execPath,
      '--import',
      'tsx',
      fixture,
      JSON.stringify({
        id: 'ap-t',
        privateKey: apKey,
        prefix,
        listenPort: 51820,
        listenAddress: '10.91.0.1',
        vpcs: [['vpc-x', NS.vpc]],
      }),
    ],
    { stdio: ['pipe', 'pipe', 'pipe'] },
  );
  ap.stderr!.on('data', (d) => (apLog += String(d)));
  await waitForLine(ap, /^READY/, 20_000);
  createInterface({ input: ap.stdout! }).on('line', (line) => {
    if (line.startsWith('STATUS ')) statusWaiters.shift()?.(JSON.parse(line.slice(7)) as AccessPointStatus);
  });
  execFileSync('ip', ['netns', 'exec', NS.branch, 'wireguard-go', WG], {
    env: { ...process.env, LOG_LEVEL: 'error' },
    stdio: 'ignore',
  });
  writeFileSync(join(dir, 'b.key'), branchKey, { mode: 0o600 });
  sh(
    'wg',
    [
      'set',
      WG,
      'private-key',
      join(dir, 'b.key'),
      'peer',
      pub(apKey),
      'allowed-ips',
      '172.16.0.0/16',
      'endpoint',
      '10.91.0.1:51820',
      'persistent-keepalive',
      '1',
    ],
    { ns: NS.branch },
  );
  sh('ip', ['addr', 'add', '100.96.0.1/32', 'dev', WG], { ns: NS.branch });
  sh('ip', ['link', 'set', WG, 'up'], { ns: NS.branch });
  sh('ip', ['route', 'add', '172.16.0.0/16', 'dev', WG], { ns: NS.branch });
});

test.afterEach.always((t) => {
  if (!t.passed) t.log(`access point log:\n${apLog}`);
});

test.after.always(async () => {
  if (squatter) spawnDel(squatter);
  if (ap && ap.exitCode === null) {
    ap.kill('SIGTERM'); // the access point removes its own namespaces
    await Promise.race([new Promise((r) => ap.once('exit', r)), new Promise((r) => setTimeout(r, 5000))]);
    if (ap.exitCode === null) ap.kill('SIGKILL');
  }
  await ns.cleanup();
  for (const n of ['a', 'b', 'c']) spawnDel(`${prefix}-ccn-${n}`);
  rmSync(`/var/run/wireguard/${WG}.sock`, { force: true });
  rmSync(dir, { recursive: true, force: true });
});

function spawnDel(netns: string): void {
  try {
    execFileSync('ip', ['netns', 'del', netns], { stdio: 'ignore' });
  } catch {
    // already gone
  }
}

e2e('1 the branch reaches the VPC through its CCN', async (t) => {
  send(C1);
  const s = await waitForStatus((x) => x.configVersion === C1!.version, 10_000);
  t.is(s.configVersion, C1!.version, JSON.stringify(s));
  t.true(await waitUntil(() => ping(1), 10_000), 'b pings the VPC host');
});

e2e('2 a configuration with an nftables-breaking value is refused, nothing of it applied', async (t) => {
  const before = snapshot();
  const tampered = structuredClone(C2!) as unknown as { policy: ForwardingRule[] };
  tampered.policy[1]!.cidrs = ['192.168.2.0/24 } accept; flush ruleset; add table inet x {'];
  send(tampered);
  const s = await waitForStatus((x) => x.refused !== null, 10_000);
  t.regex(s.refused?.reason ?? '', /policy\[1\]\.cidrs\[0\] .* is not a CIDR/);
  t.is(s.refused?.version, C2!.version);
  t.is(s.configVersion, C1!.version);
  t.deepEqual(s.ccns.map((c) => c.ccnId).sort(), ['ccn-a', 'ccn-b'], 'no space for ccn-c');
  t.deepEqual(
    s.peers.map((p) => p.serial),
    ['SN-1', 'SN-2'],
  );
  t.is(snapshot(), before, 'rulesets and routes unchanged');
  t.true(ping(1), 'the running configuration still forwards');
});

e2e(
  "3 one space fails to apply; ccn-a's CEN detach in the same configuration is still enforced",
  async (t) => {
    squatter = `${prefix}-ccn-c`;
    sh('ip', ['netns', 'add', squatter]);
    send(C2);
    const s = await waitForStatus((x) => (x.pending?.failures.length ?? 0) > 0, 10_000);
    t.is(s.pending?.version, C2!.version);
    t.deepEqual(
      s.pending?.failures.map((f) => f.ccnId),
      ['ccn-c'],
    );
    t.regex(s.pending!.failures[0]!.error, /netns add/);
    t.is(s.configVersion, C1!.version, 'not recorded as applied');
    t.notRegex(
      sh('nft', ['list', 'ruleset'], { ns: `${prefix}-ccn-a` }),
      /172\.16/,
      'no VPC accept in ccn-a',
    );
    t.deepEqual(s.ccns.find((c) => c.ccnId === 'ccn-a')?.vpcs, [], 'the veth into the VPC is gone');
    t.false(ping(3), 'b no longer reaches the VPC');
    const later = await waitForStatus((x) => (x.pending?.failures[0]?.attempts ?? 0) >= 3, 10_000);
    t.true(later.pending!.failures[0]!.attempts >= 3, 'retried');
    t.true(
      sh('ip', ['netns', 'list']).includes(squatter),
      'a namespace the access point did not make is left alone',
    );
  },
);

e2e('4 with the obstacle gone, the retry applies the configuration', async (t) => {
  sh('ip', ['netns', 'del', squatter!]);
  squatter = undefined;
  const s = await waitForStatus((x) => x.configVersion === C2!.version, 10_000);
  t.is(s.configVersion, C2!.version, JSON.stringify(s.pending));
  t.is(s.pending, null);
  t.deepEqual(s.ccns.map((c) => c.ccnId).sort(), ['ccn-a', 'ccn-b', 'ccn-c']);
  t.false(ping(1), 'and the detach still holds');
});

async function waitUntil(cond: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (cond()) return true;
    await new Promise((r) => setTimeout(r, 200));
  }
  return false;
}
