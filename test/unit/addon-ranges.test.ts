/**
 * The addon checks every integer it is given itself: called raw, past src/dataplane/'s own checks,
 * a value the C type cannot hold exactly (negative, fractional, NaN, infinite, beyond its width)
 * is a RangeError naming the argument, and the wrong type a TypeError; never a crash, and never a
 * wrapped value that lands on another, valid-looking id.
 */
import test from 'ava';
import { loadAddon } from '../../src/native/binding.js';
import type { RawDataplane, RawSelection } from '../../src/native/types.js';

const addon = loadAddon();

/** A raw dataplane with one peer (id 1 on a fresh dataplane) and one uplink on loopback. */
function raw(): { dp: RawDataplane; peer: number; uplink: number } {
  const dp = new addon.NativeDataplane({});
  const peer = dp.addPeer(Buffer.alloc(32, 7));
  const uplink = dp.addUplink('127.0.0.1', 0, '', 0).id;
  return { dp, peer, uplink };
}

// Wrapped by a uint32 cast, 2^32 + 1 would become 1: the peer that exists.
const BAD_U32: [string, unknown][] = [
  ['negative', -1],
  ['2^32', 2 ** 32],
  ['2^32 + 1', 2 ** 32 + 1],
  ['NaN', NaN],
  ['Infinity', Infinity],
  ['fractional', 1.5],
];

type Call = [string, (dp: RawDataplane, v: never, ids: { peer: number; uplink: number }) => unknown, RegExp];

const U32_CALLS: Call[] = [
  ['removePeer', (dp, v) => dp.removePeer(v), /peerId/],
  ['setEndpoint peer', (dp, v, ids) => dp.setEndpoint(v, '127.0.0.1', 1, ids.uplink), /peerId/],
  ['setEndpoint uplink', (dp, v, ids) => dp.setEndpoint(ids.peer, '127.0.0.1', 1, v), /uplinkId/],
  ['peerInfo', (dp, v) => dp.peerInfo(v), /peerId/],
  ['peerAllowedIps', (dp, v) => dp.peerAllowedIps(v), /peerId/],
  ['setAllowedIps', (dp, v) => dp.setAllowedIps(v, []), /peerId/],
  [
    'installKeypair localIndex',
    (dp, v, ids) => dp.installKeypair(ids.peer, v, 2, Buffer.alloc(32), Buffer.alloc(32), true, 0n),
    /localIndex/,
  ],
  [
    'installKeypair remoteIndex',
    (dp, v, ids) => dp.installKeypair(ids.peer, 1, v, Buffer.alloc(32), Buffer.alloc(32), true, 0n),
    /remoteIndex/,
  ],
  ['retireKeypair', (dp, v) => dp.retireKeypair(v), /localIndex/],
  ['expireKeypair', (dp, v) => dp.expireKeypair(v), /localIndex/],
  ['sendControl', (dp, v) => dp.sendControl(v, '127.0.0.1', 9, Buffer.alloc(148)), /uplinkId/],
  ['sendKeepalive', (dp, v) => dp.sendKeepalive(v), /peerId/],
  ['dropStaged', (dp, v) => dp.dropStaged(v), /peerId/],
  ['removeUplink', (dp, v) => dp.removeUplink(v), /uplinkId/],
  ['uplinkCounters', (dp, v) => dp.uplinkCounters(v), /uplinkId/],
  ['sendProbe pathId', (dp, v, ids) => dp.sendProbe(ids.peer, ids.uplink, '127.0.0.1', 9, v, 1n), /pathId/],
  ['setPeerDomain', (dp, v, ids) => dp.setPeerDomain(ids.peer, v), /domain/],
  ['removeDomain', (dp, v) => dp.removeDomain(v), /domain/],
  ['setRateLimit peer', (dp, v) => dp.setRateLimit(v, 0n, 0n), /peerId/],
  ['setSelection peer', (dp, v) => dp.setSelection(v, null), /peerId/],
  ['pollEvents', (dp, v) => dp.pollEvents(v), /max/],
  ['addUplink fwmark', (dp, v) => dp.addUplink('127.0.0.1', 0, '', v), /fwmark/],
];

test('1 every uint32 argument: out of range is a RangeError naming it, the wrong type a TypeError', (t) => {
  const { dp, peer, uplink } = raw();
  t.teardown(() => dp.close());
  for (const [name, call, arg] of U32_CALLS) {
    for (const [what, value] of BAD_U32) {
      const err = t.throws(
        () => call(dp, value as never, { peer, uplink }),
        { instanceOf: RangeError },
        `${name}: ${what}`,
      );
      t.regex(err?.message ?? '', arg, `${name}: ${what}`);
    }
    const err = t.throws(
      () => call(dp, '1' as never, { peer, uplink }),
      { instanceOf: TypeError },
      `${name}: a string`,
    );
    t.regex(err?.message ?? '', arg, `${name}: a string`);
  }
  // Nothing was wrapped onto the peer or the uplink that exist.
  t.is(dp.peerInfo(peer).id, peer);
  t.is(dp.uplinkCounters(uplink).txPackets, 0);
});

test('2 ports, prefix lengths and selection fields are checked against their own widths', (t) => {
  const { dp, peer, uplink } = raw();
  t.teardown(() => dp.close());
  const ports: [string, () => unknown][] = [
    ['setEndpoint 65536', () => dp.setEndpoint(peer, '127.0.0.1', 65536, uplink)],
    ['addUplink -1', () => dp.addUplink('127.0.0.1', -1, '', 0)],
    ['sendControl 80.5', () => dp.sendControl(uplink, '127.0.0.1', 80.5, Buffer.alloc(148))],
  ];
  for (const [name, call] of ports) t.throws(call, { instanceOf: RangeError, message: /port/ }, name);
  for (const cidr of [256, -1, 24.5, NaN])
    t.throws(
      () => dp.setAllowedIps(peer, [{ address: '10.0.0.0', cidr }]),
      { instanceOf: RangeError, message: /prefix length/ },
      `cidr ${cidr}`,
    );
  const path = { id: 1, uplinkId: uplink, address: '127.0.0.1', port: 9 };
  const klass = {
    dscpMask: 0n,
    protocol: 0,
    srcPorts: [] as number[],
    dstPorts: [] as number[],
    srcPrefixes: [],
    dstPrefixes: [],
    mode: 0,
    paths: [0],
    weights: [1],
  };
  const selections: [string, RawSelection, RegExp, typeof RangeError | typeof TypeError][] = [
    ['path id 2^32', { paths: [{ ...path, id: 2 ** 32 }], classes: [] }, /id/, RangeError],
    ['path port 70000', { paths: [{ ...path, port: 70000 }], classes: [] }, /port/, RangeError],
    ['protocol 256', { paths: [path], classes: [{ ...klass, protocol: 256 }] }, /protocol/, RangeError],
    ['mode 257 (would wrap to 1)', { paths: [path], classes: [{ ...klass, mode: 257 }] }, /mode/, RangeError],
    [
      'path index 256 (would wrap to 0)',
      { paths: [path], classes: [{ ...klass, paths: [256] }] },
      /paths\[0\]/,
      RangeError,
    ],
    ['weight -1', { paths: [path], classes: [{ ...klass, weights: [-1] }] }, /weights\[0\]/, RangeError],
    [
      'source port 65536',
      { paths: [path], classes: [{ ...klass, srcPorts: [1, 65536] }] },
      /srcPorts\[1\]/,
      RangeError,
    ],
    ['dscpMask negative', { paths: [path], classes: [{ ...klass, dscpMask: -1n }] }, /dscpMask/, RangeError],
    [
      'dscpMask 2^64',
      { paths: [path], classes: [{ ...klass, dscpMask: 2n ** 64n }] },
      /dscpMask/,
      RangeError,
    ],
    [
      'dscpMask a number',
      { paths: [path], classes: [{ ...klass, dscpMask: 1 as never }] },
      /dscpMask/,
      TypeError,
    ],
  ];
  for (const [name, selection, message, type] of selections)
    t.throws(() => dp.setSelection(peer, selection), { instanceOf: type, message }, name);
  t.notThrows(() => dp.setSelection(peer, { paths: [path], classes: [klass] }));
});

test('3 bigint arguments: negative or beyond 64 bits is a RangeError, a number a TypeError', (t) => {
  const { dp, peer, uplink } = raw();
  t.teardown(() => dp.close());
  const calls: [string, (v: never) => unknown, RegExp][] = [
    ['setRateLimit rate', (v) => dp.setRateLimit(peer, v, 2000n), /bytesPerSecond/],
    ['setRateLimit burst', (v) => dp.setRateLimit(peer, 1000n, v), /burstBytes/],
    ['expireOlderThan now', (v) => dp.expireOlderThan(v, 0n), /nowNs/],
    ['expireOlderThan age', (v) => dp.expireOlderThan(0n, v), /maxAgeNs/],
    ['sendProbe sequence', (v) => dp.sendProbe(peer, uplink, '127.0.0.1', 9, 1, v), /sequence/],
    [
      'installKeypair now',
      (v) => dp.installKeypair(peer, 1, 2, Buffer.alloc(32), Buffer.alloc(32), true, v),
      /nowNs/,
    ],
  ];
  for (const [name, call, arg] of calls) {
    for (const value of [-1n, 2n ** 64n])
      t.throws(() => call(value as never), { instanceOf: RangeError, message: arg }, `${name}: ${value}`);
    t.throws(() => call(5 as never), { instanceOf: TypeError, message: arg }, `${name}: a number`);
  }
});

test('4 the constructor refuses options it would otherwise wrap (2^32 + 1420 is not an MTU of 1420)', (t) => {
  for (const key of ['mtu', 'stagedCapacity', 'eventCapacity', 'batchSize', 'tunQueues', 'receiveWorkers'])
    for (const value of [2 ** 32 + 1420, -1, 1.5, NaN]) {
      const err = t.throws(
        () => new addon.NativeDataplane({ [key]: value }),
        { instanceOf: RangeError },
        `${key} ${value}`,
      );
      t.regex(err?.message ?? '', new RegExp(`options\\.${key}`));
    }
  t.throws(() => new addon.NativeDataplane({ mtu: '1420' as never }), {
    instanceOf: TypeError,
    message: /options\.mtu/,
  });
  const ok = new addon.NativeDataplane({ mtu: 1420 });
  ok.close();
  t.pass();
});
