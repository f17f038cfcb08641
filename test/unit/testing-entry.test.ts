/**
 * The in-memory TUN is out of the product surface (the `sag` exports, Dataplane, the addon's
 * NativeDataplane) and reached through sag/testing; the seams refuse what is not theirs with
 * typed errors. No sockets.
 */
import test from 'ava';
import { Dataplane } from '../../src/dataplane/index.js';
import type { TunOpener } from '../../src/dataplane/types.js';
import { InvalidArgumentError, InvalidStateError, NotFoundError } from '../../src/errors.js';
import * as product from '../../src/index.js';
import { loadAddon } from '../../src/native/binding.js';
import { memoryTun, tunInject, tunTake } from '../../src/testing/index.js';

const doubles = /memorytun|memorydomain|tuninject|tuntake/i;
const packet = Buffer.from([0x45, 0, 0, 20, ...Array<number>(16).fill(0)]);

test('1 the product names no memory TUN; the addon keeps it in its testing export', (t) => {
  const { NativeDataplane, testing } = loadAddon();
  t.deepEqual(
    Object.keys(product).filter((k) => doubles.test(k)),
    [],
  );
  t.deepEqual(
    Object.getOwnPropertyNames(Dataplane.prototype).filter((k) => doubles.test(k)),
    [],
  );
  t.deepEqual(
    Object.getOwnPropertyNames(NativeDataplane.prototype).filter((k) => doubles.test(k)),
    [],
  );
  t.deepEqual(Object.keys(testing).sort(), [
    'addMemoryDomain',
    'memoryTunInject',
    'memoryTunTake',
    'openMemoryTun',
  ]);
});

test('2 openTun takes a name or a TunOpener; an opener failure is a typed error in context', (t) => {
  const dp = new Dataplane();
  t.teardown(() => dp.close());
  t.throws(() => dp.openTun({ openTun: 1 } as never), { instanceOf: InvalidArgumentError });
  const broken: TunOpener = {
    description: 'a broken TUN',
    openTun: () => {
      throw Object.assign(new Error('refused'), { status: -5 });
    },
    openDomainTun: () => ({ domain: 1, name: '' }),
  };
  t.throws(() => dp.openTun(broken), {
    instanceOf: InvalidStateError,
    message: 'opening a broken TUN: refused',
  });
  t.is(dp.openTun(memoryTun), undefined);
  t.is(dp.tunName, undefined);
  dp.start();
  t.throws(() => dp.openTun(memoryTun), { instanceOf: InvalidStateError });
});

test('3 tunInject / tunTake: domain 0 and memory domains; typed errors for the rest', (t) => {
  const dp = new Dataplane();
  t.throws(() => tunTake(dp), { instanceOf: InvalidStateError, message: /has no memory TUN/ });
  dp.openTun(memoryTun);
  t.is(tunTake(dp), null);
  t.true(tunInject(dp, packet));
  t.throws(() => tunInject(dp, Buffer.alloc(0)), { instanceOf: InvalidArgumentError });
  t.throws(() => tunTake(dp, 3), { instanceOf: NotFoundError });
  t.throws(() => tunTake(dp, -1), { instanceOf: InvalidArgumentError });
  const { domain, name } = dp.openDomainTun(memoryTun);
  t.is(name, '');
  t.deepEqual(dp.domains(), [{ domain, name: '' }]);
  t.true(tunInject(dp, packet, domain));
  t.is(tunTake(dp, domain), null);
  dp.close();
  t.throws(() => tunTake(dp), { instanceOf: InvalidStateError, message: /closed/ });
});

test('4 the testing export takes only a live NativeDataplane of this addon', (t) => {
  const { NativeDataplane, testing } = loadAddon();
  t.throws(() => testing.memoryTunTake({} as never, 0), { instanceOf: TypeError });
  t.throws(() => testing.openMemoryTun(Object.create(NativeDataplane.prototype) as never));
  const raw = new NativeDataplane({});
  raw.close();
  t.throws(() => testing.openMemoryTun(raw), { message: /closed/ });
});
