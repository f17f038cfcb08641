/**
 * The `ip -o monitor link address` / `ip -o link show` / `ip -o addr show` line parser on lines
 * captured from iproute2 6.1 (test/fixtures/ip-monitor-captured.txt: veth pairs going down and up,
 * IPv4 and IPv6 addresses added and deleted, a rename, links deleted, a point-to-point address),
 * and on garbage, which must give null and never throw.
 */
import test from 'ava';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseIpMonitorLine } from '../../src/net/ip-monitor-lines.js';
import { LinkTable } from '../../src/net/link-table.js';

const captured = readFileSync(
  fileURLToPath(new URL('../fixtures/ip-monitor-captured.txt', import.meta.url)),
  'utf8',
)
  .split('\n')
  .filter((l) => l.trim());

test('every captured line parses', (t) => {
  for (const line of captured) t.not(parseIpMonitorLine(line), null, line);
});

test('link lines: admin down, no carrier (peer down), up, unknown operstate, deleted', (t) => {
  const parse = (s: string) => parseIpMonitorLine(s);
  t.like(
    parse(
      '2: lwb@lwa: <BROADCAST,MULTICAST> mtu 1500 qdisc noqueue state DOWN group default \\    link/ether 62:1d:2a:3e:4d:4e brd ff:ff:ff:ff:ff:ff',
    ),
    { kind: 'link', deleted: false, index: 2, name: 'lwb', state: 'DOWN', usable: false },
  );
  t.like(
    parse(
      '3: lwa@lwb: <NO-CARRIER,BROADCAST,MULTICAST,UP,M-DOWN> mtu 1500 qdisc noqueue state LOWERLAYERDOWN group default \\    link/ether ea:71:7f:7d:2e:a3 brd ff:ff:ff:ff:ff:ff',
    ),
    { index: 3, name: 'lwa', state: 'LOWERLAYERDOWN', usable: false },
  );
  t.like(
    parse(
      '3: lwa@lwb: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP group default \\    link/ether ea:71:7f:7d:2e:a3 brd ff:ff:ff:ff:ff:ff',
    ),
    { index: 3, name: 'lwa', state: 'UP', usable: true },
  );
  t.like(
    parse(
      '1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN mode DEFAULT group default qlen 1000\\    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00',
    ),
    { index: 1, name: 'lo', state: 'UNKNOWN', usable: true },
  );
  t.like(
    parse(
      'Deleted 3: lwc@NONE: <BROADCAST,MULTICAST> mtu 1500 qdisc noop state DOWN group default \\    link/ether ea:71:7f:7d:2e:a3 brd ff:ff:ff:ff:ff:ff',
    ),
    { deleted: true, index: 3, name: 'lwc', usable: false },
  );
});

test('address lines: IPv4, IPv6 (canonical, tentative), point-to-point, deleted', (t) => {
  const parse = (s: string) => parseIpMonitorLine(s);
  t.deepEqual(
    parse('3: lwa    inet 10.91.1.1/30 scope global lwa\\       valid_lft forever preferred_lft forever'),
    { kind: 'address', deleted: false, index: 3, family: 4, address: '10.91.1.1', tentative: false },
  );
  t.like(
    parse(
      'Deleted 3: lwa    inet6 fd00::1/64 scope global nodad \\       valid_lft forever preferred_lft forever',
    ),
    { deleted: true, family: 6, address: 'fd00::1', tentative: false },
  );
  t.like(
    parse(
      '3: lwd    inet6 2001:db8::1/64 scope global tentative \\       valid_lft forever preferred_lft forever',
    ),
    { address: '2001:db8::1', tentative: true },
  );
  t.like(
    parse(
      '3: lwd    inet 10.0.0.1 peer 10.0.0.2/32 scope global lwd\\       valid_lft forever preferred_lft forever',
    ),
    { address: '10.0.0.1', family: 4 },
  );
  t.like(
    parse(
      'Deleted 2: lwb    inet6 fe80::601d:2aff:fe3e:4d4e/64 scope link tentative \\       valid_lft forever preferred_lft forever',
    ),
    { deleted: true, index: 2, family: 6 },
  );
});

test('unexpected lines give null, never an exception', (t) => {
  const junk = [
    '',
    'garbage',
    '3:',
    '0: x: <UP> state UP',
    '-1: x: <UP>',
    '3: lwa    inet 999.1.1.1/30 scope global',
    '3: lwa    inet fd00::1/64',
    '3: lwa    inet6 10.0.0.1/8',
    'Deleted',
    '[LINK]3: lwa: <UP> state UP',
    '99999999999999999999: a: <UP> state UP',
    '3: lwa    link/ether 00:11:22:33:44:55',
    captured[0]!.slice(0, 9),
  ];
  for (const line of junk) t.is(parseIpMonitorLine(line), null, JSON.stringify(line));
});

test('the table follows the captured sequence: the rename keeps the index, deletions remove', (t) => {
  const table = new LinkTable();
  const changes: boolean[] = [];
  for (const line of captured.slice(0, 29)) changes.push(table.apply(parseIpMonitorLine(line)!));
  t.true(changes.includes(true));
  // After the monitor capture: lwa renamed to lwc and deleted, lwb deleted.
  t.is(table.byName('lwa'), undefined);
  t.is(table.byName('lwc'), undefined);
  t.is(table.byAddress('10.91.1.5'), undefined);
});

test('the table: addresses by interface, link state, re-announced address after DAD', (t) => {
  const table = new LinkTable();
  const lines = (s: string[]) => s.map((l) => parseIpMonitorLine(l)!);
  table.replace(
    lines([
      '3: lwd    inet6 2001:db8::1/64 scope global tentative \\       valid_lft forever preferred_lft forever',
      '3: lwd@lwe: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP mode DEFAULT group default qlen 1000\\    link/ether 2e:18:73:c0:51:fd brd ff:ff:ff:ff:ff:ff',
    ]),
  );
  t.like(table.byAddress('2001:db8::1'), { name: 'lwd', usable: true });
  t.true(table.byName('lwd')!.addresses[0]!.tentative);
  t.true(
    table.apply(
      parseIpMonitorLine(
        '3: lwd    inet6 2001:db8::1/64 scope global \\       valid_lft forever preferred_lft forever',
      )!,
    ),
  );
  t.false(table.byName('lwd')!.addresses[0]!.tentative);
  t.true(
    table.apply(
      parseIpMonitorLine(
        '3: lwd@lwe: <NO-CARRIER,BROADCAST,MULTICAST,UP> mtu 1500 qdisc noqueue state LOWERLAYERDOWN mode DEFAULT group default qlen 1000\\    link/ether 2e:18:73:c0:51:fd brd ff:ff:ff:ff:ff:ff',
      )!,
    ),
  );
  t.false(table.byName('lwd')!.usable);
  t.true(
    table.apply(
      parseIpMonitorLine(
        'Deleted 3: lwd    inet6 2001:db8::1/64 scope global \\       valid_lft forever preferred_lft forever',
      )!,
    ),
  );
  t.is(table.byAddress('2001:db8::1'), undefined);
});
