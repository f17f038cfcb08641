/**
 * Our Noise handshake against Debian's wireguard-go, both directions, over real UDP.
 *
 *   root namespace (this test)                  namespace sagt-hs-<pid>-<n>
 *   ┌──────────────────────────┐   veth /30    ┌──────────────────────────────────────┐
 *   │ UDP socket 10.250.A.B+1  │───────────────│ 10.250.A.B+2  wireguard-go :PORT     │
 *   │ sag Handshake (peer      │               │   TUN wgs<pid><n> 10.99.0.1/24       │
 *   │   10.99.0.2/32)          │               │   peer = our public key              │
 *   └──────────────────────────┘               └──────────────────────────────────────┘
 *
 * Traffic goes only to the namespace the test creates. Needs root, wireguard-go, wg and ip; skips
 * with a message otherwise. Teardown kills wireguard-go by pid and deletes the namespace.
 */
import test, { type ExecutionContext } from 'ava';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CookieChecker,
  decodeKey,
  encodeKey,
  equalBytes,
  generateKeyPair,
  Handshake,
  HandshakeDecryptError,
  messageType,
  openTransport,
  RandomIndexAllocator,
  randomBytes,
  sealTransport,
  type KeyPair,
  type TransportKeypair,
} from '../../src/wg/index.js';

const WG_ADDR = '10.99.0.1';
const OUR_TUNNEL_ADDR = '10.99.0.2';
const WG_PORT = 51820;

function hasCommand(cmd: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const missing = ['wireguard-go', 'wg', 'ip'].filter((c) => !hasCommand(c));
const skipReason =
  process.getuid?.() !== 0
    ? 'not running as root'
    : missing.length > 0
      ? `missing tools: ${missing.join(', ')}`
      : undefined;

function run(...args: string[]): string {
  return execFileSync(args[0]!, args.slice(1), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

function quiet(...args: string[]): void {
  try {
    execFileSync(args[0]!, args.slice(1), { stdio: 'ignore' });
  } catch {
    // teardown is best effort: the thing may already be gone
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, fn: () => T | undefined, timeoutMs = 5_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

interface Topology {
  ns: string;
  iface: string;
  hostAddr: string;
  nsAddr: string;
  wgKeys: KeyPair;
  wg(...args: string[]): string;
  /** Gives wireguard-go its key, port and us as its only peer, then brings its TUN up. */
  configure(ourPublicKey: Uint8Array, opts: { psk?: Uint8Array; endpoint?: string }): void;
}

let counter = 0;
const cleanups = new Set<() => void>();
// If the worker dies (ava timeout), still leave no namespace or daemon behind.
process.on('exit', () => cleanups.forEach((c) => c()));

/** Namespace + veth + a running, not yet configured wireguard-go. */
async function makeTopology(t: ExecutionContext): Promise<Topology> {
  const n = ++counter;
  const ns = `sagt-hs-${process.pid}-${n}`;
  const iface = `wgs${process.pid}${n}`.slice(0, 15);
  const hostVeth = `sgh${process.pid}${n}`.slice(0, 15);
  const nsVeth = `sgn${process.pid}${n}`.slice(0, 15);
  const octet3 = process.pid % 250;
  const base = (n % 60) * 4;
  const hostAddr = `10.250.${octet3}.${base + 1}`;
  const nsAddr = `10.250.${octet3}.${base + 2}`;
  const dir = mkdtempSync(join(tmpdir(), 'sagt-hs-'));
  let child: ChildProcess | undefined;

  const cleanup = (): void => {
    cleanups.delete(cleanup);
    if (child?.pid !== undefined && child.exitCode === null) child.kill('SIGTERM');
    quiet('ip', '-n', ns, 'link', 'del', iface); // wireguard-go exits when its TUN goes away
    quiet('ip', 'netns', 'del', ns);
    quiet('ip', 'link', 'del', hostVeth);
    rmSync(`/var/run/wireguard/${iface}.sock`, { force: true });
    rmSync(dir, { recursive: true, force: true });
  };
  cleanups.add(cleanup);
  t.teardown(cleanup);

  run('ip', 'netns', 'add', ns);
  run('ip', '-n', ns, 'link', 'set', 'lo', 'up');
  run('ip', 'link', 'add', hostVeth, 'type', 'veth', 'peer', 'name', nsVeth, 'netns', ns);
  run('ip', 'addr', 'add', `${hostAddr}/30`, 'dev', hostVeth);
  run('ip', 'link', 'set', hostVeth, 'up');
  run('ip', '-n', ns, 'addr', 'add', `${nsAddr}/30`, 'dev', nsVeth);
  run('ip', '-n', ns, 'link', 'set', nsVeth, 'up');

  let stderr = '';
  child = spawn('ip', ['netns', 'exec', ns, 'wireguard-go', iface], {
    env: { ...process.env, WG_PROCESS_FOREGROUND: '1', LOG_LEVEL: 'verbose' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  t.teardown(() => {
    if (t.passed === false) t.log(`wireguard-go output:\n${stderr}`);
  });
  await until('the wireguard-go UAPI socket', () =>
    existsSync(`/var/run/wireguard/${iface}.sock`) ? true : undefined,
  );

  const wgKeys = generateKeyPair();
  const wg = (...a: string[]): string => run('ip', 'netns', 'exec', ns, 'wg', ...a);
  const configure = (ourPublicKey: Uint8Array, opts: { psk?: Uint8Array; endpoint?: string }): void => {
    const keyFile = join(dir, 'private');
    writeFileSync(keyFile, encodeKey(wgKeys.privateKey) + '\n', { mode: 0o600 });
    const args = [
      'set',
      iface,
      'private-key',
      keyFile,
      'listen-port',
      String(WG_PORT),
      'peer',
      encodeKey(ourPublicKey),
    ];
    args.push('allowed-ips', `${OUR_TUNNEL_ADDR}/32`);
    if (opts.psk) {
      const pskFile = join(dir, 'psk');
      writeFileSync(pskFile, encodeKey(opts.psk) + '\n', { mode: 0o600 });
      args.push('preshared-key', pskFile);
    }
    // persistent-keepalive makes wireguard-go send (hence handshake) as soon as the TUN is up.
    if (opts.endpoint) args.push('endpoint', opts.endpoint, 'persistent-keepalive', '1');
    wg(...args);
    run('ip', '-n', ns, 'addr', 'add', `${WG_ADDR}/24`, 'dev', iface);
    run('ip', '-n', ns, 'link', 'set', iface, 'up');
  };
  return { ns, iface, hostAddr, nsAddr, wgKeys, wg, configure };
}

interface Datagram {
  msg: Uint8Array;
  address: string;
  port: number;
}

/** A UDP socket whose datagrams can be awaited by predicate. */
async function openSocket(t: ExecutionContext, address: string) {
  const sock = createSocket('udp4');
  const queue: Datagram[] = [];
  let wake: (() => void) | undefined;
  sock.on('message', (msg, rinfo) => {
    queue.push({ msg: new Uint8Array(msg), address: rinfo.address, port: rinfo.port });
    wake?.();
  });
  t.teardown(() => sock.close());
  await new Promise<void>((resolve) => sock.bind(0, address, resolve));
  return {
    port: sock.address().port,
    send: (msg: Uint8Array, port: number, host: string): Promise<void> =>
      new Promise((resolve, reject) => sock.send(msg, port, host, (err) => (err ? reject(err) : resolve()))),
    async next(what: string, pred: (d: Datagram) => boolean, timeoutMs = 6_000): Promise<Datagram> {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const i = queue.findIndex(pred);
        if (i >= 0) return queue.splice(i, 1)[0]!;
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`timed out waiting for ${what}`);
        await new Promise<void>((resolve) => {
          wake = resolve;
          setTimeout(resolve, left);
        });
      }
    },
  };
}

function peerLine(output: string, pub: Uint8Array): string[] {
  const line = output.split('\n').find((l) => l.startsWith(encodeKey(pub)));
  return line ? line.trim().split('\t').slice(1) : [];
}

const latestHandshake = (topo: Topology, pub: Uint8Array): number =>
  Number(peerLine(topo.wg('show', topo.iface, 'latest-handshakes'), pub)[0] ?? 0);

const transfer = (topo: Topology, pub: Uint8Array): { rx: number; tx: number } => {
  const [rx, tx] = peerLine(topo.wg('show', topo.iface, 'transfer'), pub);
  return { rx: Number(rx ?? 0), tx: Number(tx ?? 0) };
};

// ---- an ICMP echo to push real data through the tunnel ----

function checksum(buf: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < buf.length; i += 2) sum += (buf[i]! << 8) | (buf[i + 1] ?? 0);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

function ipv4(addr: string): number[] {
  return addr.split('.').map(Number);
}

/** IPv4 echo request, zero-padded to a multiple of 16 as WireGuard senders do. */
function icmpEcho(src: string, dst: string, id: number, seq: number): Uint8Array {
  const payload = new TextEncoder().encode('sag-interop-ping');
  const icmp = new Uint8Array(8 + payload.length);
  icmp.set([8, 0, 0, 0, id >> 8, id & 0xff, seq >> 8, seq & 0xff]);
  icmp.set(payload, 8);
  const c = checksum(icmp);
  icmp[2] = c >> 8;
  icmp[3] = c & 0xff;
  const total = 20 + icmp.length;
  const ip = new Uint8Array(20);
  ip.set([0x45, 0, total >> 8, total & 0xff, 0, 1, 0x40, 0, 64, 1, 0, 0, ...ipv4(src), ...ipv4(dst)]);
  const hc = checksum(ip);
  ip[10] = hc >> 8;
  ip[11] = hc & 0xff;
  const packet = new Uint8Array(Math.ceil(total / 16) * 16);
  packet.set(ip);
  packet.set(icmp, 20);
  return packet;
}

const isType = (type: number) => (d: Datagram) => messageType(d.msg) === type;

// ---- tests ----

if (skipReason) {
  test.skip(`wireguard-go interop skipped: ${skipReason}`, () => {});
} else {
  for (const withPsk of [false, true]) {
    test.serial(
      `we initiate, wireguard-go responds, transport keys work both ways (${withPsk ? 'with' : 'no'} PSK)`,
      async (t) => {
        const ours = generateKeyPair();
        const psk = withPsk ? randomBytes(32) : undefined;
        const topo = await makeTopology(t);
        topo.configure(ours.publicKey, { psk });
        // wg derives the public key from the private key we generated: an independent X25519 check.
        t.deepEqual(decodeKey(topo.wg('show', topo.iface, 'public-key').trim()), topo.wgKeys.publicKey);

        const sock = await openSocket(t, topo.hostAddr);
        const hs = new Handshake({
          local: ours,
          remoteStatic: topo.wgKeys.publicKey,
          presharedKey: psk,
          indices: new RandomIndexAllocator(),
        });
        await sock.send(hs.createInitiation(Date.now()), WG_PORT, topo.nsAddr);

        const resp = await sock.next('the handshake response', isType(2));
        t.is(resp.msg.length, 92);
        t.true(
          new CookieChecker(ours.publicKey).checkMac1(resp.msg),
          'wireguard-go computed mac1 over our key as we do',
        );
        hs.consumeResponse(resp.msg);
        const keys: TransportKeypair = hs.beginSession(Date.now());
        t.is(
          latestHandshake(topo, ours.publicKey),
          0,
          'a responder confirms the session only on the first data',
        );

        const before = transfer(topo, ours.publicKey);
        await sock.send(
          sealTransport(keys.sendKey, keys.remoteIndex, 0n, new Uint8Array(0)),
          WG_PORT,
          topo.nsAddr,
        );
        const when = await until(
          'latest-handshakes to become non-zero',
          () => latestHandshake(topo, ours.publicKey) || undefined,
        );
        t.true(Math.abs(when - Date.now() / 1000) < 30);
        t.true(transfer(topo, ours.publicKey).rx > before.rx, 'the keepalive was counted as received');

        // Real data: the namespace's kernel answers our ping through wireguard-go with its send key.
        await sock.send(
          sealTransport(keys.sendKey, keys.remoteIndex, 1n, icmpEcho(OUR_TUNNEL_ADDR, WG_ADDR, 0x5a6, 1)),
          WG_PORT,
          topo.nsAddr,
        );
        const reply = await sock.next('an encrypted echo reply', (d) => {
          if (messageType(d.msg) !== 4) return false;
          try {
            const p = openTransport(keys.recvKey, d.msg).plaintext;
            return p.length >= 28 && p[9] === 1 && p[20] === 0; // ICMP echo reply (keepalives are skipped)
          } catch {
            return false;
          }
        });
        const { receiver, plaintext } = openTransport(keys.recvKey, reply.msg);
        t.is(receiver, keys.localIndex);
        t.deepEqual([...plaintext.subarray(12, 16)], ipv4(WG_ADDR));
        t.deepEqual([...plaintext.subarray(16, 20)], ipv4(OUR_TUNNEL_ADDR));
        t.deepEqual([...plaintext.subarray(24, 28)], [0x05, 0xa6, 0, 1], 'echo id and sequence');
      },
    );
  }

  test.serial('a PSK mismatch with wireguard-go is detected on the response', async (t) => {
    const ours = generateKeyPair();
    const topo = await makeTopology(t);
    topo.configure(ours.publicKey, { psk: randomBytes(32) });
    const sock = await openSocket(t, topo.hostAddr);
    const hs = new Handshake({
      local: ours,
      remoteStatic: topo.wgKeys.publicKey,
      presharedKey: randomBytes(32),
      indices: new RandomIndexAllocator(),
    });
    await sock.send(hs.createInitiation(Date.now()), WG_PORT, topo.nsAddr);
    const resp = await sock.next('the handshake response', isType(2));
    t.throws(() => hs.consumeResponse(resp.msg), { instanceOf: HandshakeDecryptError });
  });

  for (const withPsk of [false, true]) {
    test.serial(
      `wireguard-go initiates, we respond, its keepalive decrypts (${withPsk ? 'with' : 'no'} PSK)`,
      async (t) => {
        const ours = generateKeyPair();
        const psk = withPsk ? randomBytes(32) : undefined;
        const topo = await makeTopology(t);
        const sock = await openSocket(t, topo.hostAddr);
        topo.configure(ours.publicKey, { psk, endpoint: `${topo.hostAddr}:${sock.port}` });

        const peer = new Handshake({
          local: ours,
          remoteStatic: topo.wgKeys.publicKey,
          presharedKey: psk,
          indices: new RandomIndexAllocator(),
        });
        const init = await sock.next('a handshake initiation from wireguard-go', isType(1), 10_000);
        t.is(init.address, topo.nsAddr);
        const screen = new CookieChecker(ours.publicKey).screen(init.msg, init, {
          now: Date.now(),
          underLoad: false,
        });
        t.is(screen.action, 'accept', 'wireguard-go mac1 verifies with our key');
        const hs = Handshake.consumeInitiation(
          init.msg,
          ours,
          (k) => (equalBytes(k, topo.wgKeys.publicKey) ? peer : undefined),
          Date.now(),
        );
        t.is(hs, peer);
        const resp = hs.createResponse(Date.now());
        const keys = hs.beginSession(Date.now());
        await sock.send(resp, init.port, init.address);

        // wireguard-go, as initiator, answers a consumed response with a keepalive on the new keys.
        const ka = await sock.next('a keepalive on the new session', (d) => {
          if (messageType(d.msg) !== 4) return false;
          try {
            return openTransport(keys.recvKey, d.msg).plaintext.length === 0;
          } catch {
            return false;
          }
        });
        t.is(openTransport(keys.recvKey, ka.msg).receiver, keys.localIndex);
        const when = await until(
          'latest-handshakes to become non-zero',
          () => latestHandshake(topo, ours.publicKey) || undefined,
        );
        t.true(Math.abs(when - Date.now() / 1000) < 30);
        // And our send key works the other way: wireguard-go counts our keepalive.
        const before = transfer(topo, ours.publicKey).rx;
        await sock.send(
          sealTransport(keys.sendKey, keys.remoteIndex, 0n, new Uint8Array(0)),
          init.port,
          init.address,
        );
        await until('our keepalive to be counted', () =>
          transfer(topo, ours.publicKey).rx > before ? true : undefined,
        );
        t.pass();
      },
    );
  }
}
