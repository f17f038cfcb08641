/**
 * `sag up` does the wg-quick keys as wg-quick does them, checked beside wg-quick itself (with
 * wireguard-go) in namespaces made here; the host's routes, rules, nftables and resolver are not
 * touched (resolvconf is a fake on PATH).
 *
 * The full tunnel (AllowedIPs = 0.0.0.0/0, ::/0), A's default route pointing at the underlay:
 *
 *   ns <t>a: wg-quick, then sag up         ns <t>b: wireguard-go, forwards      ns <t>c: beyond the peer
 *     tun qa<t> 10.92.0.1/24 fd92::1/64      tun qb<t> 10.92.0.2/24 fd92::2/64
 *     va<t> 10.91.0.1/29 ──── veth ──── vb<t> 10.91.0.2/29 (the endpoint)
 *     default via 10.91.0.2                  wb<t> 10.93.0.1/30 fd93::1/64 ─ veth ─ wc<t> 10.93.0.2/30 fd93::2/64
 *                                                                                 routes back only 10.92.0.0/24, fd92::/64
 * C cannot answer the underlay address, so a reply from C proves the packet went through the tunnel.
 * The other cases need no peer: one namespace, one sag up (and wg-quick beside it for the hooks).
 */
import test from 'ava';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { e2eSkipReason, hasCommand, Namespaces, sh, uniqueTag } from '../support/netns.js';
import { SAG } from '../support/sag-process.js';
import { sagUp } from '../support/sag-up.js';

const skip = e2eSkipReason(['ip', 'ping', 'wg', 'wg-quick', 'wireguard-go', 'nft', 'bash']);
if (skip) console.log(`[skip] sag up wg-quick keys: ${skip}`);
const e2e = skip ? test.skip : test.serial;

const key = () => execFileSync('wg', ['genkey'], { encoding: 'utf8' }).trim();
const pub = (k: string) => execFileSync('wg', ['pubkey'], { input: k, encoding: 'utf8' }).trim();
const pingOk = (ns: string, target: string) =>
  spawnSync('ip', ['netns', 'exec', ns, 'ping', '-c', '1', '-W', '1', target], { stdio: 'ignore' }).status ===
  0;
const pingRetry = (ns: string, target: string) => [0, 1, 2].some(() => pingOk(ns, target));

/** Namespaces with IPv6 on; where sag runs, no link-local addresses (they differ per device and would blur the diff). */
function setup(t: import('ava').ExecutionContext) {
  const namespaces = new Namespaces();
  const dir = mkdtempSync(join(tmpdir(), 'sag-quick-'));
  const tag = uniqueTag();
  t.teardown(async () => {
    await namespaces.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });
  const ns = (name: string, linkLocal = false) => {
    const n = namespaces.add(`sq${tag}${name}`);
    // A router needs link-local addresses for neighbour discovery (without DAD's wait here).
    const v6 = linkLocal ? ['default.accept_dad=0'] : ['default.addr_gen_mode=1'];
    for (const k of ['all.disable_ipv6=0', 'default.disable_ipv6=0', ...v6])
      sh('sysctl', ['-qw', `net.ipv6.conf.${k}`], { ns: n });
    return n;
  };
  const conf = (iface: string, lines: string[]) => {
    const path = join(dir, `${iface}.conf`);
    writeFileSync(path, `${lines.join('\n')}\n`, { mode: 0o600 });
    t.teardown(() => rmSync(`/var/run/wireguard/${iface}.sock`, { force: true }));
    return path;
  };
  return { namespaces, dir, tag, ns, conf };
}

/** What wg-quick's policy routing leaves in a namespace. */
function routingState(ns: string, table: number): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of ['-4', '-6']) {
    out[`ip ${f} rule`] = sh('ip', [f, 'rule'], { ns });
    // An empty table does not exist for ip(8): that is an error, recorded as no routes.
    out[`ip ${f} route table ${table}`] = spawnSync(
      'ip',
      ['-n', ns, f, 'route', 'show', 'table', String(table)],
      {
        encoding: 'utf8',
      },
    ).stdout;
  }
  out['nft list ruleset'] = sh('nft', ['list', 'ruleset'], { ns });
  return out;
}

function wgQuick(ns: string, action: 'up' | 'down', conf: string, env: Record<string, string> = {}) {
  return spawnSync('ip', ['netns', 'exec', ns, 'wg-quick', action, conf], {
    encoding: 'utf8',
    env: { ...process.env, WG_QUICK_USERSPACE_IMPLEMENTATION: 'wireguard-go', ...env },
  });
}

async function stop(run: Awaited<ReturnType<typeof sagUp>>) {
  run.child.kill('SIGTERM');
  return run.exited;
}

e2e(
  'a full tunnel: the same rules, routes and nftables as wg-quick, traffic through the tunnel, the endpoint beside it',
  async (t) => {
    const { namespaces, dir, tag, ns, conf } = setup(t);
    const [a, b, c] = [ns('a'), ns('b', true), ns('c', true)];
    const [qa, qb] = [`qa${tag}`, `qb${tag}`];
    namespaces.link(
      { ns: a, dev: `va${tag}`, addr: '10.91.0.1/29' },
      { ns: b, dev: `vb${tag}`, addr: '10.91.0.2/29' },
    );
    namespaces.link(
      { ns: b, dev: `wb${tag}`, addr: '10.93.0.1/30' },
      { ns: c, dev: `wc${tag}`, addr: '10.93.0.2/30' },
    );
    sh('ip', ['-6', 'addr', 'add', 'fd93::1/64', 'dev', `wb${tag}`, 'nodad'], { ns: b });
    sh('ip', ['-6', 'addr', 'add', 'fd93::2/64', 'dev', `wc${tag}`, 'nodad'], { ns: c });
    sh('ip', ['route', 'add', 'default', 'via', '10.91.0.2'], { ns: a });
    sh('ip', ['route', 'add', '10.92.0.0/24', 'via', '10.93.0.1'], { ns: c });
    sh('ip', ['-6', 'route', 'add', 'fd92::/64', 'via', 'fd93::1'], { ns: c });
    sh('sysctl', ['-qw', 'net.ipv4.ip_forward=1', 'net.ipv6.conf.all.forwarding=1'], { ns: b });

    const [ka, kb] = [key(), key()];
    const keyFile = join(dir, 'b.key');
    writeFileSync(keyFile, kb, { mode: 0o600 });
    execFileSync('ip', ['netns', 'exec', b, 'wireguard-go', qb], { stdio: 'ignore' });
    t.teardown(() => rmSync(`/var/run/wireguard/${qb}.sock`, { force: true }));
    sh(
      'wg',
      [
        'set',
        qb,
        'private-key',
        keyFile,
        'listen-port',
        '51820',
        'peer',
        pub(ka),
        'allowed-ips',
        '10.92.0.1/32,fd92::1/128',
      ],
      { ns: b },
    );
    sh('ip', ['addr', 'add', '10.92.0.2/24', 'dev', qb], { ns: b });
    sh('ip', ['-6', 'addr', 'add', 'fd92::2/64', 'dev', qb], { ns: b });
    sh('ip', ['link', 'set', qb, 'up'], { ns: b });
    const file = conf(qa, [
      '[Interface]',
      `PrivateKey = ${ka}`,
      'Address = 10.92.0.1/24, fd92::1/64',
      '[Peer]',
      `PublicKey = ${pub(kb)}`,
      'AllowedIPs = 0.0.0.0/0, ::/0',
      'Endpoint = 10.91.0.2:51820',
    ]);
    const before = routingState(a, 51820);
    t.false(pingOk(a, '10.93.0.2'), 'no tunnel: the underlay default route gets no answer from C');

    // wg-quick + wireguard-go first: its state is the reference.
    const quick = wgQuick(a, 'up', file);
    t.is(quick.status, 0, quick.stderr);
    const reference = routingState(a, 51820);
    t.regex(
      reference['ip -4 rule']!,
      /not from all fwmark 0xca6c lookup 51820/,
      'the reference is a full tunnel',
    );
    t.true(pingRetry(a, '10.93.0.2'), 'wg-quick: C answers through the tunnel');
    t.true(pingRetry(a, 'fd93::2'), 'wg-quick: C answers through the tunnel (IPv6)');
    const quickDown = wgQuick(a, 'down', file);
    t.is(quickDown.status, 0, quickDown.stderr);
    t.deepEqual(routingState(a, 51820), before, 'wg-quick down restores the namespace');

    const run = await sagUp(a, file);
    t.teardown(() => run.child.kill('SIGKILL'));
    t.deepEqual(routingState(a, 51820), reference, 'sag up: the same rules, routes and nftables');
    t.regex(
      sh('wg', ['show', qa, 'fwmark'], { ns: a }),
      /^0xca6c$/m,
      "the gateway's sockets carry the table's mark",
    );
    t.true(pingRetry(a, '10.93.0.2'), 'sag up: C answers through the tunnel (IPv4)');
    t.true(pingRetry(a, 'fd93::2'), 'sag up: C answers through the tunnel (IPv6)');
    t.regex(sh('ip', ['route', 'get', '10.93.0.2'], { ns: a }), new RegExp(`dev ${qa} table 51820`));
    t.regex(
      sh('ip', ['route', 'get', '10.93.0.2', 'mark', '51820'], { ns: a }),
      new RegExp(`via 10.91.0.2 dev va${tag}`),
      'marked packets bypass the tunnel',
    );
    t.regex(
      sh('ip', ['route', 'get', '10.91.0.2'], { ns: a }),
      new RegExp(`dev va${tag}`),
      'the endpoint stays on the underlay',
    );
    t.true(pingOk(a, '10.91.0.2'), 'and answers there');
    t.regex(
      sh('wg', ['show', qb, 'endpoints'], { ns: b }),
      /\t10\.91\.0\.1:\d+/,
      'the peer sees sag on the underlay',
    );
    t.deepEqual(await stop(run), [0, null], run.stderr());
    t.deepEqual(routingState(a, 51820), before, 'sag up removes its rules and nftables table at stop');
  },
);

e2e(
  'hooks run as wg-quick runs them: order, %i, the interface and wg at hand; a failing one aborts the up',
  async (t) => {
    const { dir, tag, ns, conf } = setup(t);
    const a = ns('h');
    const iface = `qh${tag}`;
    const log = join(dir, 'hooks.log');
    const state = `$(ip link show %i >/dev/null 2>&1 && echo present || echo absent)`;
    const hooked = (extra: string[] = []) =>
      conf(iface, [
        '[Interface]',
        `PrivateKey = ${key()}`,
        'Address = 10.94.0.1/24',
        `PreUp = echo "PreUp %i ${state}" >> ${log}`,
        `PostUp = echo "PostUp %i ${state} $(wg show %i fwmark)" >> ${log} # a comment wg-quick cuts`,
        `PreDown = echo "PreDown %i ${state}" >> ${log}`,
        `PostDown = echo "PostDown %i ${state}" >> ${log}`,
        ...extra,
        '[Peer]',
        `PublicKey = ${pub(key())}`,
        'AllowedIPs = 10.94.0.2/32',
      ]);
    const file = hooked();
    const quick = wgQuick(a, 'up', file);
    t.is(quick.status, 0, quick.stderr);
    t.is(wgQuick(a, 'down', file).status, 0);
    const reference = readFileSync(log, 'utf8');
    t.is(
      reference,
      `PreUp ${iface} absent\nPostUp ${iface} present off\nPreDown ${iface} present\nPostDown ${iface} absent\n`,
    );
    rmSync(log);

    const run = await sagUp(a, file);
    t.teardown(() => run.child.kill('SIGKILL'));
    t.deepEqual(await stop(run), [0, null], run.stderr());
    t.is(readFileSync(log, 'utf8'), reference, 'sag up: the same hooks, in the same order, seeing the same');

    // A failing PreUp: nothing is created. A failing PostUp: what was made goes, no down hooks run.
    const failing = (hook: string, message: RegExp, ran: string) => {
      rmSync(log, { force: true });
      hooked([hook]);
      const r = spawnSync('ip', ['netns', 'exec', a, process.execPath, SAG, 'up', file], {
        encoding: 'utf8',
        timeout: 20000,
      });
      t.is(r.status, 1, r.stderr);
      t.regex(r.stderr, message);
      t.is(readFileSync(log, 'utf8'), ran, 'the hooks before it ran, no down hook did');
      t.false(
        spawnSync('ip', ['-n', a, 'link', 'show', iface], { stdio: 'ignore' }).status === 0,
        'no interface',
      );
    };
    failing(
      'PreUp = exit 3',
      /^sag: PreUp command "exit 3" exited with status 3$/m,
      `PreUp ${iface} absent\n`,
    );
    failing(
      'PostUp = false',
      /^sag: PostUp command "false" exited with status 1$/m,
      `PreUp ${iface} absent\nPostUp ${iface} present off\n`,
    );
  },
);

e2e(
  'Table = off installs no route; 1234 routes every allowed IP, /0 too, into table 1234 and adds no rule; auto the main table',
  async (t) => {
    const { tag, ns, conf } = setup(t);
    const a = ns('t');
    const iface = `qt${tag}`;
    const rules = sh('ip', ['rule'], { ns: a });
    const withTable = (table: string, allowed = '0.0.0.0/0, 10.96.0.0/16') =>
      conf(iface, [
        '[Interface]',
        `PrivateKey = ${key()}`,
        'Address = 10.95.0.1/24',
        `Table = ${table}`,
        '[Peer]',
        `PublicKey = ${pub(key())}`,
        `AllowedIPs = ${allowed}`,
      ]);
    const routesOf = (table: string) => sh('ip', ['route', 'show', 'table', table, 'dev', iface], { ns: a });

    let run = await sagUp(a, withTable('off'));
    t.teardown(() => run.child.kill('SIGKILL'));
    t.is(routesOf('main'), '10.95.0.0/24 proto kernel scope link src 10.95.0.1 \n', 'only the address route');
    t.is(
      sh('ip', ['route', 'show', 'table', 'all', 'dev', iface, 'type', 'unicast'], { ns: a })
        .split('\n')
        .filter(Boolean).length,
      1,
    );
    t.is(sh('ip', ['rule'], { ns: a }), rules);
    t.deepEqual(await stop(run), [0, null], run.stderr());

    const file = withTable('1234');
    run = await sagUp(a, file);
    const sag1234 = routesOf('1234');
    t.is(sag1234, 'default scope link \n10.96.0.0/16 scope link \n');
    t.notRegex(routesOf('main'), /10\.96|default/);
    t.is(sh('ip', ['rule'], { ns: a }), rules, 'no policy rule with an explicit table');
    t.is(sh('wg', ['show', iface, 'fwmark'], { ns: a }), 'off\n', 'and no fwmark');
    t.deepEqual(await stop(run), [0, null], run.stderr());
    const quick = wgQuick(a, 'up', file);
    t.is(quick.status, 0, quick.stderr);
    t.is(routesOf('1234'), sag1234, 'wg-quick routes the same');
    t.is(wgQuick(a, 'down', file).status, 0);

    // Table = auto: the main table; a prefix the address's route already covers is left to it.
    run = await sagUp(a, withTable('auto', '10.95.0.2/32, 10.96.0.0/16'));
    t.is(routesOf('main'), '10.95.0.0/24 proto kernel scope link src 10.95.0.1 \n10.96.0.0/16 scope link \n');
    t.deepEqual(await stop(run), [0, null], run.stderr());
  },
);

e2e('DNS goes to resolvconf (a fake here) and out again at stop; without resolvconf a warning', async (t) => {
  const { dir, tag, ns, conf } = setup(t);
  const a = ns('d');
  const iface = `qd${tag}`;
  const file = conf(iface, [
    '[Interface]',
    `PrivateKey = ${key()}`,
    'Address = 10.97.0.1/24',
    'DNS = 10.97.0.53, fd97::53, corp.example, lab.example',
    '[Peer]',
    `PublicKey = ${pub(key())}`,
    'AllowedIPs = 10.97.0.2/32',
  ]);
  // PATH without any real resolvconf, so the host's resolver cannot be reached by mistake.
  const path = (process.env.PATH ?? '').split(delimiter).filter((d) => !hasCommand(join(d, 'resolvconf')));
  const without = await sagUp(a, file, { PATH: path.join(delimiter) });
  t.teardown(() => without.child.kill('SIGKILL'));
  t.regex(
    without.stderr(),
    /DNS = 10\.97\.0\.53, fd97::53, corp\.example, lab\.example not applied: resolvconf is not installed/,
  );
  t.deepEqual(await stop(without), [0, null], without.stderr());

  const fake = join(dir, 'bin');
  const calls = join(dir, 'resolvconf.calls');
  execFileSync('mkdir', ['-p', fake]);
  writeFileSync(join(fake, 'resolvconf'), `#!/bin/bash\n{ echo "ARGS $*"; cat; echo END; } >> ${calls}\n`);
  chmodSync(join(fake, 'resolvconf'), 0o755);
  const run = await sagUp(a, file, { PATH: [fake, ...path].join(delimiter) });
  t.teardown(() => run.child.kill('SIGKILL'));
  const record = readFileSync(calls, 'utf8');
  const m =
    /^ARGS -a ((?:[A-Za-z0-9-]+\.)?(\S+)) -m 0 -x\nnameserver 10\.97\.0\.53\nnameserver fd97::53\nsearch corp\.example lab\.example\nEND\n$/.exec(
      record,
    );
  t.truthy(m, record);
  t.is(m?.[2], iface, 'the record is named after the interface');
  t.deepEqual(await stop(run), [0, null], run.stderr());
  t.is(readFileSync(calls, 'utf8'), `${record}ARGS -d ${m?.[1]} -f\nEND\n`, 'removed at stop');
});
