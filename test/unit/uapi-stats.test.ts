/**
 * The `sag-stats=1` UAPI extension and the drop counters section of `sag show`: framing, the reply
 * format both ways, a real Gateway's counters read over a real socket after forged datagrams, and
 * interfaces without the extension (an old device, wireguard-go closing the connection).
 */
import test from 'ava';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dropsText, queryDrops, withDrops } from '../../src/cli/show-drops.js';
import { toJson } from '../../src/cli/show.js';
import { DROP_REASONS } from '../../src/native/facts.generated.js';
import { Gateway } from '../../src/gateway/index.js';
import {
  emptyDevice,
  formatStatsReply,
  GatewayUapiDevice,
  parseStatsReply,
  UapiError,
  UapiFramer,
  UapiServer,
} from '../../src/uapi/index.js';
import { encodeKey, generatePrivateKey, publicKeyFromPrivate } from '../../src/wg/crypto.js';
import { memoryTun } from '../../src/testing/index.js';
import { waitFor } from '../support/time.js';

const key = () => encodeKey(publicKeyFromPrivate(generatePrivateKey()));

test('sag-stats=1 is framed like get, in any chunking; a trailing byte is EINVAL; a longer op closes', (t) => {
  const framer = new UapiFramer();
  t.deepEqual(
    [...framer.push('sag-st'), ...framer.push('ats=1\n'), ...framer.push('\nget=1\n\n')],
    [{ kind: 'stats' }, { kind: 'get' }],
  );
  const bad = new UapiFramer().push('sag-stats=1\nx');
  t.is(bad.length, 1);
  t.is(bad[0]!.kind, 'error');
  t.deepEqual(
    new UapiFramer().push('sag-stats=12\n').map((f) => f.kind),
    ['close'],
  );
  t.deepEqual(
    new UapiFramer().push('sag-stats=1').map((f) => f.kind),
    [],
    'incomplete: nothing yet',
  );
});

test('the reply round-trips in sag.h order; unknown reasons and keys are ignored; errors are UapiErrors', (t) => {
  const peer = key();
  const stats = {
    drops: { no_route: 7, bad_auth: 2, replay: 0 },
    peers: [{ publicKey: peer, drops: { replay: 3, bad_auth: 0 } }],
  };
  const text = formatStatsReply(stats);
  t.regex(
    text,
    /^drop_bad_auth=2\ndrop_replay=0\ndrop_no_route=7\npublic_key=[0-9a-f]{64}\ndrop_bad_auth=0\ndrop_replay=3\nerrno=0\n\n$/,
  );
  t.deepEqual(parseStatsReply(text), stats);
  t.is(
    formatStatsReply({ drops: { 'x\nerrno=0': 1, duplicate: 2 }, peers: [] }),
    'drop_duplicate=2\nerrno=0\n\n',
    'only the reasons sag.h lists are written',
  );
  t.deepEqual(parseStatsReply('drop_future=1\nsome_new_field=x\nerrno=0\n\n'), {
    drops: { future: 1 },
    peers: [],
  });
  t.throws(() => parseStatsReply('errno=22\n\n'), { instanceOf: UapiError });
  t.throws(() => parseStatsReply('drop_replay=1\n\n'), {
    instanceOf: UapiError,
    message: /ended before its errno/,
  });
  t.throws(() => parseStatsReply('public_key=zz\nerrno=0\n\n'), { instanceOf: UapiError });
});

test('a running Gateway reports its drops over the socket; sag show prints them, per peer and in JSON', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'hd-stats-'));
  const gw = new Gateway({
    privateKey: encodeKey(generatePrivateKey()),
    tun: memoryTun,
    listenAddress: '127.0.0.1',
    pollIntervalMs: 20,
  });
  const peer = key();
  gw.addPeer({ publicKey: peer, allowedIps: ['10.0.0.2/32'] });
  await gw.start();
  const server = new UapiServer(join(dir, 'hdst0.sock'), new GatewayUapiDevice(gw));
  await server.start();
  t.teardown(async () => {
    await server.stop();
    await gw.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  // Forged transport messages for an index nobody holds, and a runt: both counted, never crashing.
  const sock = createSocket('udp4');
  t.teardown(() => sock.close());
  const forged = Buffer.alloc(64, 0xab);
  forged.writeUInt32LE(4, 0);
  for (let i = 0; i < 5; i++) sock.send(forged, gw.listenPort, '127.0.0.1');
  sock.send(Buffer.from([4, 0, 0]), gw.listenPort, '127.0.0.1');
  // Datagrams no peer can be blamed for are counted on the uplink; the interface line sums those
  // and the TUN side's (packets routed to no peer).
  const dp = gw.dataplane;
  const uplinkDrops = () => dp.uplinkStats(dp.uplinks()[0]!.id).drops;
  const total = () =>
    [dp.stats().drops, uplinkDrops()].flatMap((d) => Object.values(d)).reduce((a, b) => a + b, 0);
  t.true(await waitFor(() => total() >= 6, 3000), JSON.stringify(uplinkDrops()));

  const stats = await queryDrops('hdst0', server.path);
  t.truthy(stats);
  t.deepEqual(Object.keys(stats!.drops), [...DROP_REASONS], 'every reason of sag.h, in its order');
  for (const [reason, n] of Object.entries(dp.stats().drops))
    t.is(stats!.drops[reason], n + uplinkDrops()[reason as keyof ReturnType<typeof uplinkDrops>], reason);
  t.deepEqual(
    stats!.peers.map((p) => p.publicKey),
    [peer],
  );
  t.deepEqual(stats!.peers[0]!.drops, gw.peer(peer).counters.drops);

  const json = withDrops(toJson('hdst0', new GatewayUapiDevice(gw).get()), stats);
  t.is(
    Object.values(json.drops!).reduce((a, b) => a + b, 0),
    total(),
  );
  t.deepEqual(json.peers[0]!.drops, gw.peer(peer).counters.drops);
  const text = dropsText(stats);
  t.regex(text, /^drops \(packets refused, by reason\):$/m);
  t.regex(text, /^ {2}interface: .*\b[a-z_]+ [1-9]\d*/m, 'the non-zero reasons are named');
  t.regex(text, new RegExp(`^  peer ${peer.replace(/[+/]/g, '\\$&')}: none$`, 'm'));
});

test('interfaces without the extension: an old device answers EINVAL, wireguard-go closes; both show "not available"', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'hd-stats-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const plain = new UapiServer(join(dir, 'hdst1.sock'), { get: () => emptyDevice(), set: () => {} });
  await plain.start();
  t.teardown(() => plain.stop());
  t.is(await queryDrops('hdst1', plain.path), null);

  // wireguard-go ends the connection on an operation it does not know.
  const goLike = createServer((s) => s.once('data', () => s.end()));
  goLike.listen(join(dir, 'hdst2.sock'));
  await once(goLike, 'listening');
  t.teardown(() => goLike.close());
  t.is(await queryDrops('hdst2', join(dir, 'hdst2.sock')), null);
  t.is(dropsText(null), '\ndrops: not available (not a sag interface)\n');
  t.deepEqual(
    withDrops({ interface: 'x', publicKey: null, listenPort: 0, fwmark: 0, peers: [] }, null).drops,
    null,
  );
});
