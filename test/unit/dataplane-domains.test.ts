/**
 * Routing domains and rate limits through the Dataplane class (real addon, memory TUNs, loopback
 * UDP, no root): a hub with two domains whose branches own the same prefix, validation before
 * native, and the rate_limited drop counter.
 */
import test from 'ava';
import { Dataplane } from '../../src/dataplane/index.js';
import { InvalidArgumentError, InvalidStateError, NotFoundError } from '../../src/errors.js';
import { memoryTun, tunInject, tunTake } from '../../src/testing/index.js';
import { ipv4Packet, randomKey } from '../support/packets.js';
import { waitFor } from '../support/time.js';

const HUB = randomKey().toString('base64');
const X = randomKey().toString('base64');
const Y = randomKey().toString('base64');

function hubAndBranches() {
  const hub = new Dataplane();
  const x = new Dataplane();
  const y = new Dataplane();
  for (const dp of [hub, x, y]) dp.openTun(memoryTun);
  const uh = hub.addUplink({ address: '127.0.0.1' });
  const ux = x.addUplink({ address: '127.0.0.1' });
  const uy = y.addUplink({ address: '127.0.0.1' });
  const a = hub.openDomainTun(memoryTun).domain;
  const b = hub.openDomainTun(memoryTun).domain;
  hub.addPeer({
    publicKey: X,
    allowedIps: ['10.1.0.0/24'],
    domain: a,
    endpoint: { address: '127.0.0.1', port: ux.port },
  });
  hub.addPeer({
    publicKey: Y,
    allowedIps: ['10.1.0.0/24'],
    domain: b,
    endpoint: { address: '127.0.0.1', port: uy.port },
  });
  x.addPeer({ publicKey: HUB, allowedIps: ['0.0.0.0/0'], endpoint: { address: '127.0.0.1', port: uh.port } });
  y.addPeer({ publicKey: HUB, allowedIps: ['0.0.0.0/0'], endpoint: { address: '127.0.0.1', port: uh.port } });
  let index = 1;
  for (const [branch, key] of [
    [x, X],
    [y, Y],
  ] as const) {
    const k1 = randomKey();
    const k2 = randomKey();
    const hi = index++;
    const bi = index++;
    hub.installKeypair(key, { localIndex: hi, remoteIndex: bi, sendKey: k1, recvKey: k2, initiator: true });
    branch.installKeypair(HUB, {
      localIndex: bi,
      remoteIndex: hi,
      sendKey: k2,
      recvKey: k1,
      initiator: true,
    });
  }
  for (const dp of [hub, x, y]) dp.start();
  return { hub, x, y, a, b, close: () => [hub, x, y].forEach((dp) => dp.close()) };
}

test('1 the same prefix in two domains: each domain reaches only its own branch, and back', async (t) => {
  const n = hubAndBranches();
  t.teardown(n.close);
  t.deepEqual(n.hub.peerStats(X).allowedIps, ['10.1.0.0/24']); // not taken by Y: other domain
  t.deepEqual(n.hub.peerStats(Y).allowedIps, ['10.1.0.0/24']);
  const down = ipv4Packet('172.16.0.1', '10.1.0.5', 100);
  tunInject(n.hub, down, n.a);
  let got: Buffer | null = null;
  t.true(await waitFor(() => (got = tunTake(n.x)) !== null));
  t.deepEqual(got, down);
  t.is(tunTake(n.y), null);
  const up = ipv4Packet('10.1.0.5', '172.16.0.1', 80);
  tunInject(n.y, up);
  t.true(await waitFor(() => (got = tunTake(n.hub, n.b)) !== null));
  t.deepEqual(got, up);
  t.is(tunTake(n.hub, n.a), null);
  t.is(tunTake(n.hub), null);
});

test('2 rate limit: excess is dropped and counted as rate_limited; removing it lets all through', async (t) => {
  const n = hubAndBranches();
  t.teardown(n.close);
  n.hub.updatePeer(X, { rateLimit: { bytesPerSecond: 1000, burstBytes: 5000 } });
  t.deepEqual(n.hub.peerStats(X).rateLimit, { bytesPerSecond: 1000, burstBytes: 5000 });
  const down = ipv4Packet('172.16.0.1', '10.1.0.5', 1000);
  for (let i = 0; i < 20; i++) tunInject(n.hub, down, n.a);
  t.true(await waitFor(() => n.hub.peerStats(X).counters.drops.rate_limited >= 14));
  const sent = n.hub.peerStats(X).counters.txPackets;
  t.true(sent >= 5 && sent <= 6, `sent ${sent}`);
  n.hub.updatePeer(X, { rateLimit: null });
  for (let i = 0; i < 20; i++) tunInject(n.hub, down, n.a);
  t.true(await waitFor(() => n.hub.peerStats(X).counters.txPackets === sent + 20));
});

test('3 validation: unknown domains, bad limits, a domain in use, memory TUN of a domain', (t) => {
  const n = hubAndBranches();
  t.teardown(n.close);
  const key = randomKey().toString('base64');
  t.throws(() => n.hub.addPeer({ publicKey: key, domain: 99 }), {
    instanceOf: NotFoundError,
    message: /routing domain 99/,
  });
  t.throws(() => n.hub.addPeer({ publicKey: key, domain: -1 }), { instanceOf: InvalidArgumentError });
  t.throws(() => n.hub.updatePeer(X, { rateLimit: { bytesPerSecond: 0 } }), {
    instanceOf: InvalidArgumentError,
  });
  t.throws(() => n.hub.updatePeer(X, { rateLimit: { bytesPerSecond: 1000, burstBytes: 100 } }), {
    instanceOf: InvalidArgumentError,
    message: /burstBytes/,
  });
  t.throws(() => n.hub.updatePeer(X, { rateLimit: 5 as never }), { instanceOf: InvalidArgumentError });
  t.deepEqual(n.hub.peerStats(X).rateLimit, null);
  t.deepEqual(n.hub.peers().sort(), [X, Y].sort()); // nothing half-added
  t.throws(() => n.hub.removeDomain(n.a), { instanceOf: InvalidStateError, message: /still has peers/ });
  t.throws(() => n.hub.removeDomain(0), { instanceOf: InvalidArgumentError });
  t.throws(() => tunTake(n.hub, 77), { instanceOf: NotFoundError });
  n.hub.updatePeer(X, { domain: 0 });
  t.is(n.hub.peerStats(X).domain, 0);
  n.hub.removeDomain(n.a);
  t.deepEqual(n.hub.domains(), [{ domain: n.b, name: '' }]);
  t.throws(() => tunInject(n.hub, ipv4Packet('1.1.1.1', '2.2.2.2', 40), n.a), { instanceOf: NotFoundError });
});
