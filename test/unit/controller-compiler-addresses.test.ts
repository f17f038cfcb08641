import test from 'ava';
import {
  applyCommands,
  createState,
  parseCidr,
  type Command,
  type ModelState,
} from '../../src/controller/model/index.js';
import {
  allocateTunnelAddresses,
  compileAccessPointConfig,
  compileDeviceConfig,
  CompilerError,
} from '../../src/controller/compiler/index.js';

const KEY = (n: number) => Buffer.alloc(32, n).toString('base64');
const inst = (id: string, area = 'mainland'): Command => ({
  kind: 'instance.create',
  id,
  name: id,
  area,
  model: 'app',
  bandwidthMbps: 1,
  lanCidrs: [],
  uplinks: [],
});
const many = (prefix: string, count: number, area = 'mainland'): Command[] =>
  Array.from({ length: count }, (_, i) => inst(`${prefix}${i}`, area));
const model = (...commands: Command[]): ModelState => applyCommands(createState(), commands).state;

const offsetIn = (pool: string, address: string): bigint => {
  const p = parseCidr(pool);
  const a = parseCidr(address);
  if (!p.ok || !a.ok) throw new Error('bad CIDR');
  return a.cidr.network - p.cidr.network;
};

// [case, pool, instances, expectation]
const POOLS: [number, string, number][] = [
  [1, '100.96.0.0/12', 500],
  [2, '100.96.0.0/29', 5], // full: every usable offset taken, exercising the linear fallback
  [3, '100.96.0.0/24', 200],
  [4, 'fd00:5a9::/64', 50],
];

for (const [n, pool, count] of POOLS) {
  test(`addresses #${n}: ${count} instances in ${pool} are unique, inside, and avoid reserved offsets`, (t) => {
    const s = model(...many('sag-', count));
    const got = allocateTunnelAddresses(s, { pool });
    t.is(got.size, count);
    const values = [...got.values()];
    t.is(new Set(values).size, count);
    const width = pool.includes(':') ? 128 : 32;
    const prefix = Number(pool.split('/')[1]);
    const last = (1n << BigInt(width - prefix)) - 1n;
    for (const v of values) {
      t.true(v.endsWith(`/${width}`));
      const off = offsetIn(pool, v);
      t.true(off >= 2n && off < last, `${v} at offset ${off}`);
    }
  });
}

test('addresses #5: stable when instances come and go elsewhere, and when bindings change', (t) => {
  const base = model(...many('sag-', 100));
  const before = allocateTunnelAddresses(base);
  const grown = applyCommands(base, [
    ...many('sag-new-', 100, 'international'),
    ...many('sag-more-', 100),
  ]).state;
  const shrunk = applyCommands(
    base,
    [50, 60, 70].map((i): Command => ({ kind: 'instance.delete', id: `sag-${i}` })),
  ).state;
  const rebound = applyCommands(base, [
    { kind: 'device.register', serial: 'SN-1', model: 'app', publicKey: KEY(1), softwareVersion: '1' },
    { kind: 'device.bind', serial: 'SN-1', instanceId: 'sag-7' },
  ]).state;
  for (const [id, address] of before) {
    t.is(allocateTunnelAddresses(grown).get(id), address, `${id} after growth`);
    if (allocateTunnelAddresses(shrunk).has(id))
      t.is(allocateTunnelAddresses(shrunk).get(id), address, `${id} after deletions`);
    t.is(allocateTunnelAddresses(rebound).get(id), address, `${id} after a binding`);
  }
  // Deterministic across independent compilations of equal states.
  t.deepEqual([...allocateTunnelAddresses(model(...many('sag-', 100)))], [...before]);
});

test('addresses #6: the address belongs to the instance, not the device', (t) => {
  const s = model(
    { kind: 'ccn.create', id: 'ccn-1', name: 'One', area: 'mainland', cidrs: ['10.1.0.0/16'] },
    inst('sag-a'),
    { kind: 'ccn.join', ccnId: 'ccn-1', instanceId: 'sag-a' },
    { kind: 'device.register', serial: 'SN-OLD', model: 'app', publicKey: KEY(1), softwareVersion: '1' },
    { kind: 'device.register', serial: 'SN-NEW', model: 'app', publicKey: KEY(2), softwareVersion: '1' },
    { kind: 'device.bind', serial: 'SN-OLD', instanceId: 'sag-a' },
  );
  const old = compileDeviceConfig(s, 'SN-OLD', { accessPointKeys: {} }).address;
  const swapped = applyCommands(s, [
    { kind: 'device.unbind', serial: 'SN-OLD' },
    { kind: 'device.bind', serial: 'SN-NEW', instanceId: 'sag-a' },
  ]).state;
  t.is(compileDeviceConfig(swapped, 'SN-NEW', { accessPointKeys: {} }).address, old);
});

test('addresses #7: per-area pools; areas naming one pool share its allocation', (t) => {
  const s = model(...many('sag-m-', 20), ...many('sag-i-', 20, 'international'));
  const split = allocateTunnelAddresses(s, { areaPools: { international: '100.112.0.0/16' } });
  const shared = allocateTunnelAddresses(s);
  for (const [id, address] of split) {
    const inIntl = offsetIn('100.112.0.0/16', address) >= 0n && offsetIn('100.112.0.0/16', address) < 65536n;
    t.is(inIntl, id.startsWith('sag-i-'), `${id} -> ${address}`);
    // Mainland keeps the default pool; with fewer contenders its instances keep their addresses.
    if (id.startsWith('sag-m-')) t.is(shared.get(id), address);
  }
  t.is(new Set(shared.values()).size, 40);
  // A /28 has 13 usable addresses: 6 + 6 fit only if both areas draw from one allocation without duplicates...
  const twin = { pool: '100.96.0.0/28', areaPools: { international: '100.96.0.0/28' } };
  t.is(
    new Set(
      allocateTunnelAddresses(
        model(...many('sag-x-', 6), ...many('sag-y-', 6, 'international')),
        twin,
      ).values(),
    ).size,
    12,
  );
  // ...and 7 + 7 do not fit, though 7 would in each area alone.
  t.throws(
    () => allocateTunnelAddresses(model(...many('sag-x-', 7), ...many('sag-y-', 7, 'international')), twin),
    { code: 'ERR_COMPILER_POOL_EXHAUSTED' } as never,
  );
});

test('addresses #8: the pool must hold every instance that shares it', (t) => {
  const err = t.throws(() => allocateTunnelAddresses(model(...many('sag-', 6)), { pool: '100.96.0.0/29' }));
  t.true(err instanceof CompilerError);
  t.is((err as CompilerError).code, 'ERR_COMPILER_POOL_EXHAUSTED');
});

test('addresses #9: device and hub agree on every tunnel address', (t) => {
  const s = model(
    {
      kind: 'accessPoint.create',
      id: 'ap-1',
      area: 'mainland',
      endpoints: ['203.0.113.1:51820'],
      maxInstances: 10,
    },
    { kind: 'ccn.create', id: 'ccn-1', name: 'One', area: 'mainland', cidrs: ['10.1.0.0/16'] },
    ...[1, 2, 3].flatMap((i): Command[] => [
      { ...inst(`sag-${i}`), lanCidrs: [`192.168.${i}.0/24`] } as Command,
      { kind: 'ccn.join', ccnId: 'ccn-1', instanceId: `sag-${i}` },
      { kind: 'device.register', serial: `SN-${i}`, model: 'app', publicKey: KEY(i), softwareVersion: '1' },
      { kind: 'device.bind', serial: `SN-${i}`, instanceId: `sag-${i}` },
    ]),
  );
  const hub = compileAccessPointConfig(s, 'ap-1', { overlay: { pool: '100.70.0.0/24' } });
  t.is(hub.peers.length, 3);
  for (const peer of hub.peers) {
    const dev = compileDeviceConfig(s, peer.serial, {
      accessPointKeys: { 'ap-1': KEY(100) },
      overlay: { pool: '100.70.0.0/24' },
    });
    t.is(peer.address, dev.address);
    t.true(peer.allowedIps.includes(dev.address));
    t.is(offsetIn('100.70.0.0/24', dev.address) < 256n, true);
  }
});
