/**
 * ConfigApplier against a real Gateway (memory TUN, no handshakes needed): every
 * hub is a peer, the allowed IPs and the keepalive sit on the active one only, and
 * each change touches only the peers it names.
 */
import test, { type ExecutionContext } from 'ava';
import { ConfigApplier } from '../../src/agent/index.js';
import { contentVersion, type DeviceConfig, type DevicePeer } from '../../src/contract/index.js';
import { Gateway } from '../../src/gateway/index.js';
import { encodeKey, generatePrivateKey, publicKeyFromPrivate } from '../../src/wg/crypto.js';
import { memoryTun } from '../../src/testing/index.js';

const KEY = (n: number) => Buffer.alloc(32, n).toString('base64');
const hub = (id: string, n: number, endpoints = [`203.0.113.${n}:51820`]): DevicePeer => ({
  accessPointId: id,
  publicKey: KEY(n),
  endpoints,
  persistentKeepaliveSec: 25,
  rank: n,
});

function config(peers: DevicePeer[], allowedIps: string[], deviceKey: string): DeviceConfig {
  const body = {
    kind: 'device' as const,
    serial: 'SN-1',
    publicKey: deviceKey,
    instance: { id: 'sag-1', area: 'mainland', model: 'app' as const, bandwidthMbps: 10 },
    ccnId: 'ccn-1',
    address: '100.96.0.9/32',
    uplinks: [],
    allowedIps,
    routes: allowedIps.map((cidr) => ({
      cidr,
      target: { kind: 'ccn' as const, id: 'ccn-1' },
      area: 'mainland',
      grantMbps: null,
    })),
    peers,
  };
  return { ...body, version: contentVersion(body), modelVersion: 1 };
}

async function gateway(t: ExecutionContext) {
  const priv = generatePrivateKey();
  const gw = new Gateway({ privateKey: encodeKey(priv), tun: memoryTun, listenAddress: '127.0.0.1' });
  await gw.start();
  t.teardown(() => gw.stop());
  return { gw, me: encodeKey(publicKeyFromPrivate(priv)) };
}

test('hubs stand by without allowed IPs; the selected one carries them and the keepalive', async (t) => {
  const { gw, me } = await gateway(t);
  const applier = new ConfigApplier(gw);
  const first = applier.apply(config([hub('ap-1', 1), hub('ap-2', 2)], ['10.1.0.0/16'], me));
  t.true(first.hubsChanged);
  t.deepEqual(
    gw.peers().map((p) => [p.publicKey, p.allowedIps, p.persistentKeepalive]),
    [
      [KEY(1), [], 0],
      [KEY(2), [], 0],
    ],
  );
  applier.select('ap-2');
  t.deepEqual(gw.peer(KEY(2)).allowedIps, ['10.1.0.0/16']);
  t.is(gw.peer(KEY(2)).persistentKeepalive, 25);
  applier.select('ap-1');
  t.deepEqual(gw.peer(KEY(2)).allowedIps, []);
  t.is(gw.peer(KEY(2)).persistentKeepalive, 0, 'the standby hub stops its keepalive');
  t.deepEqual(gw.peer(KEY(1)).allowedIps, ['10.1.0.0/16']);
  t.throws(() => applier.select('ap-9'), { instanceOf: RangeError });
});

test('a route change updates the active hub only; an unchanged config changes nothing', async (t) => {
  const { gw, me } = await gateway(t);
  const applier = new ConfigApplier(gw);
  const hubs = [hub('ap-1', 1), hub('ap-2', 2)];
  applier.apply(config(hubs, ['10.1.0.0/16'], me));
  applier.select('ap-1');
  const before = gw.peer(KEY(2));
  const out = applier.apply(config(hubs, ['10.1.0.0/16', '10.2.0.0/16'], me));
  t.deepEqual(
    out.changes.map((c) => c.op),
    ['route.add'],
  );
  t.false(out.hubsChanged);
  t.deepEqual(gw.peer(KEY(1)).allowedIps, ['10.1.0.0/16', '10.2.0.0/16']);
  t.deepEqual(gw.peer(KEY(2)), before);
  t.deepEqual(applier.apply(config(hubs, ['10.1.0.0/16', '10.2.0.0/16'], me)).changes, []);
});

test('hubs come and go by key; endpoint changes keep the endpoint in use when still listed', async (t) => {
  const { gw, me } = await gateway(t);
  const applier = new ConfigApplier(gw);
  applier.apply(
    config([hub('ap-1', 1, ['203.0.113.1:1', '203.0.113.1:2']), hub('ap-2', 2)], ['10.1.0.0/16'], me),
  );
  applier.select('ap-1');
  t.is(applier.nextEndpoint(applier.hub('ap-1')!), '203.0.113.1:2');
  t.deepEqual(gw.peer(KEY(1)).endpoint, { address: '203.0.113.1', port: 2 });

  const moved = applier.apply(
    config([hub('ap-1', 1, ['203.0.113.1:3', '203.0.113.1:2']), hub('ap-2', 2)], ['10.1.0.0/16'], me),
  );
  t.true(moved.hubsChanged);
  t.deepEqual(gw.peer(KEY(1)).endpoint, { address: '203.0.113.1', port: 2 }, 'still listed: kept');
  t.is(applier.endpointOf(applier.hub('ap-1')!), '203.0.113.1:2');
  applier.apply(config([hub('ap-1', 1, ['203.0.113.1:4']), hub('ap-2', 2)], ['10.1.0.0/16'], me));
  t.deepEqual(gw.peer(KEY(1)).endpoint, { address: '203.0.113.1', port: 4 }, 'gone: the first listed');

  const lost = applier.apply(config([hub('ap-2', 2), hub('ap-3', 3)], ['10.1.0.0/16'], me));
  t.true(lost.activeLost);
  t.is(applier.active, undefined);
  t.deepEqual(
    gw
      .peers()
      .map((p) => p.publicKey)
      .sort(),
    [KEY(2), KEY(3)],
  );
  // A rotated hub key is a different peer.
  applier.select('ap-2');
  const rotated = applier.apply(
    config([{ ...hub('ap-2', 2), publicKey: KEY(22) }, hub('ap-3', 3)], ['10.1.0.0/16'], me),
  );
  t.deepEqual(
    rotated.changes.map((c) => c.op),
    ['peer.remove', 'peer.add'],
  );
  t.true(rotated.activeLost);
});
