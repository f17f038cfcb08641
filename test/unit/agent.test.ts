/**
 * The agent end to end, without root: an in-process controller (Fastify on
 * 127.0.0.1, in-memory store), two hub Gateways with memory TUNs playing access
 * points, and the agent's own Gateway.
 *
 *   agent Gateway ──udp──▶ relay A (+80 ms each way) ──▶ hub A Gateway
 *                 ──udp──▶ relay B (no delay)        ──▶ hub B Gateway
 *   agent ──http──▶ controller (long poll, status)
 *
 * The relays stand in for distance: the access point the controller ranks first
 * is put behind the slow relay, so picking by RTT must overrule the rank.
 */
import test from 'ava';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { compileDeviceConfig } from '../../src/controller/compiler/index.js';
import type { Gateway } from '../../src/gateway/index.js';
import { decodeKey, encodeKey, publicKeyFromPrivate } from '../../src/wg/crypto.js';
import { CTX, delivered, next, provisionTwoHubs, world } from '../support/agent-world.js';
import { waitFor } from '../support/time.js';

test('the agent activates, follows its configuration, tunnels to the nearest hub and rides out a controller outage', async (t) => {
  const w = await world(t);
  const code = await provisionTwoHubs(w);

  // ---- activation: the key is made on the device, only the public half leaves it
  const agent = w.newAgent();
  await t.throwsAsync(agent.start(), { code: 'ERR_AGENT_NOT_ACTIVATED' });
  const wrong = await t.throwsAsync(agent.activate('SN-1', 'AAAAA-AAAAA-AAAAA-AAAAA'));
  t.is((wrong as { apiCode?: string }).apiCode, 'ERR_ACTIVATION_INVALID');
  const { publicKey } = await agent.activate('SN-1', code);
  const keyFile = join(w.dir, 'agent', 'private.key');
  t.is(statSync(keyFile).mode & 0o777, 0o600);
  t.is(statSync(join(w.dir, 'agent', 'identity.json')).mode & 0o777, 0o600);
  const privateKey = readFileSync(keyFile, 'utf8').trim();
  t.is(encodeKey(publicKeyFromPrivate(decodeKey(privateKey))), publicKey);
  t.is((await w.store.get('devices', 'SN-1'))?.publicKey, publicKey);
  t.false(
    JSON.stringify([await w.store.load(), await w.store.audit()]).includes(privateKey),
    'the controller never saw the private key',
  );
  await w.syncHubs();

  // The hub ranked first is made the far one.
  const ranked = compileDeviceConfig(await w.store.load(), 'SN-1').peers.map((p) => p.accessPointId);
  const [far, near] = ranked as [string, string];
  const hubOf = (id: string) => (id === 'ap-a' ? w.hubs.a : w.hubs.b);
  const keyOf = (id: string) => (id === 'ap-a' ? w.keys.a.pub : w.keys.b.pub);
  (far === 'ap-a' ? w.relays.a : w.relays.b).delayMs = 80;

  // ---- start: configuration from the controller, default hub, then the nearest by probe
  const applied = next(agent, 'config:applied');
  const probed = next(agent, 'ap:selected', (e) => e.reason === 'probe');
  await agent.start();
  const first = await applied;
  t.is(first.source, 'controller');
  t.deepEqual(first.config.allowedIps, ['10.10.0.0/16', '192.168.2.0/24']);
  const selected = await probed;
  t.is(selected.accessPointId, near);
  t.is(selected.previous, far, 'rank 0 carried traffic until the probes answered');
  const rtts = new Map(agent.probes.map((p) => [p.accessPointId, p.rttMs]));
  t.true((rtts.get(far) as number) >= 150, `far hub RTT ${rtts.get(far)} ms`);
  t.true((rtts.get(near) as number) < (rtts.get(far) as number));

  // ---- a real tunnel to the near hub, both ways
  const gw = agent.gateway as Gateway;
  const me = (agent.config?.address as string).split('/')[0] as string;
  t.true(await delivered(gw, hubOf(near), me, '192.168.2.5'), 'branch -> hub');
  t.true(await delivered(hubOf(near), gw, '192.168.2.5', me), 'hub -> branch');
  t.deepEqual(gw.peer(keyOf(near)).allowedIps, ['10.10.0.0/16', '192.168.2.0/24']);
  t.deepEqual(gw.peer(keyOf(far)).allowedIps, []);

  // ---- status reaches the controller
  t.true(await waitFor(() => agent.probes.length === 2, 3000));
  await agent.reportNow();
  const status = await w.operator('GET', '/v1/devices/SN-1/status');
  t.is(status.report.accessPointId, near);
  t.is(status.report.configVersion, agent.config?.version);
  t.is(status.report.peers.length, 2);
  t.true(
    status.report.peers.find((p: { accessPointId: string }) => p.accessPointId === near).lastHandshakeUnixMs >
      0,
  );
  t.true(status.report.peers.find((p: { accessPointId: string }) => p.accessPointId === near).txBytes > 0);
  t.is((await w.operator('GET', '/v1/instances/sag-1')).state, 'online');
  t.is((await w.operator('GET', '/v1/devices/SN-1')).softwareVersion, '1.2.3');

  // ---- an allowed-IP change is applied without touching the session
  const session = gw.peer(keyOf(near)).lastHandshakeUnixMs;
  let handshakes = 0;
  const count = () => handshakes++;
  gw.on('peer:handshake', count);
  const routeChange = next(agent, 'config:applied', (e) => e.config.allowedIps.includes('192.168.3.0/24'));
  await w.operator('PATCH', '/v1/instances/sag-2', { lanCidrs: ['192.168.2.0/24', '192.168.3.0/24'] });
  t.is((await routeChange).changes, 1, 'one route added');
  await w.syncHubs();
  t.deepEqual(gw.peer(keyOf(near)).allowedIps, ['10.10.0.0/16', '192.168.2.0/24', '192.168.3.0/24']);
  t.true(
    await delivered(gw, hubOf(near), me, '192.168.3.9'),
    'the new prefix goes through the tunnel at once',
  );
  await new Promise((r) => setTimeout(r, 500));
  gw.off('peer:handshake', count);
  t.is(handshakes, 0, 'no handshake on either hub session');
  t.is(gw.peer(keyOf(near)).lastHandshakeUnixMs, session);

  // ---- switching hubs by hand and back
  const forced = next(agent, 'ap:selected', (e) => e.reason === 'forced');
  agent.switchAccessPoint(far);
  t.is((await forced).accessPointId, far);
  t.deepEqual(gw.peer(keyOf(near)).allowedIps, []);
  t.true(await delivered(gw, hubOf(far), me, '192.168.2.6'), 'traffic through the far hub');
  t.throws(() => agent.switchAccessPoint('ap-nope'), { instanceOf: RangeError });
  agent.switchAccessPoint(null);
  t.is(agent.activeAccessPoint, near);

  // ---- the controller goes away: the agent keeps its tunnel and says so
  const down = next(agent, 'controller:unreachable');
  await w.controller.app?.close();
  const outage = await down;
  t.is(outage.error.name, 'ControllerUnreachableError');
  t.false(agent.controllerReachable);
  t.true(await delivered(gw, hubOf(near), me, '192.168.2.7'), 'the tunnel works without the controller');
  // The model moves on meanwhile (another controller process, say).
  await w.store.apply(
    {
      kind: 'instance.update',
      id: 'sag-2',
      lanCidrs: ['192.168.2.0/24', '192.168.3.0/24', '192.168.4.0/24'],
    },
    CTX,
  );

  // ---- and comes back: the agent converges
  const back = next(agent, 'controller:reachable');
  const converged = next(agent, 'config:applied', (e) => e.config.allowedIps.includes('192.168.4.0/24'));
  await w.startController();
  t.true((await back).downMs > 0);
  await converged;
  t.true(agent.controllerReachable);
  await w.syncHubs();
  t.true(await delivered(gw, hubOf(near), me, '192.168.4.1'));

  // ---- a restart while the controller is down comes up on the last good configuration
  await agent.stop();
  await w.controller.app?.close();
  const again = w.newAgent();
  const fromDisk = next(again, 'config:applied');
  const unreachable = next(again, 'controller:unreachable');
  await again.start();
  const restored = await fromDisk;
  t.is(restored.source, 'disk');
  t.true(restored.config.allowedIps.includes('192.168.4.0/24'));
  await unreachable;
  const gw2 = again.gateway as Gateway;
  t.true(await waitFor(() => again.activeAccessPoint === near, 5000), 'picks the near hub again by probing');
  t.true(await delivered(gw2, hubOf(near), me, '192.168.2.8'), 'tunnel up with no controller at all');
});
