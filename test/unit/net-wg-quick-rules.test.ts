import test from 'ava';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UndoStack } from '../../src/cli/wg-quick-keys.js';
import { markFirewallScript } from '../../src/net/mark-firewall.js';
import { resolvConfLines, resolvconfPrefix } from '../../src/net/resolvconf.js';

test("the nftables script is wg-quick's add_default script, per family", (t) => {
  t.is(
    markFirewallScript('wg0', 4, 51820, ['10.0.0.1']),
    [
      'add table ip wg-quick-wg0',
      'add chain ip wg-quick-wg0 preraw { type filter hook prerouting priority -300; }',
      'add chain ip wg-quick-wg0 premangle { type filter hook prerouting priority -150; }',
      'add chain ip wg-quick-wg0 postmangle { type filter hook postrouting priority -150; }',
      'add rule ip wg-quick-wg0 preraw iifname != "wg0" ip daddr 10.0.0.1 fib saddr type != local drop',
      'add rule ip wg-quick-wg0 postmangle meta l4proto udp mark 51820 ct mark set mark',
      'add rule ip wg-quick-wg0 premangle meta l4proto udp meta mark set ct mark',
      '',
    ].join('\n'),
  );
  t.regex(
    markFirewallScript('wg0', 6, 7, ['fd00::1', 'fd00::2']),
    /ip6 daddr fd00::1 .*\n.*ip6 daddr fd00::2 /,
  );
});

test('nothing but an interface name and addresses reaches the nft script', (t) => {
  t.throws(() => markFirewallScript('wg0"; flush ruleset', 4, 1, []), {
    message: /cannot name an nftables table/,
  });
  t.throws(() => markFirewallScript('wg0', 4, 1, ['10.0.0.1 accept']), { message: /not an IP address/ });
  t.throws(() => markFirewallScript('wg0', 4, 0, []), { message: /fwmark/ });
});

test("resolvconf gets wg-quick's lines and record name", async (t) => {
  t.is(
    resolvConfLines(['10.0.0.53', 'fd00::53'], ['a.example', 'b.example']),
    'nameserver 10.0.0.53\nnameserver fd00::53\nsearch a.example b.example\n',
  );
  t.is(resolvConfLines(['10.0.0.53'], []), 'nameserver 10.0.0.53\n');
  const dir = mkdtempSync(join(tmpdir(), 'sag-resolv-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const order = join(dir, 'interface-order');
  writeFileSync(order, 'lo.inet6\nlo.inet*\nlo.@(dnsmasq|pdnsd)\ntun*\ntap*\nhso*\n*\n');
  t.is(await resolvconfPrefix(order), 'tun.');
  t.is(await resolvconfPrefix(join(dir, 'absent')), '');
});

test('an UndoStack runs last-in first-out, goes on past a failure and returns the first', async (t) => {
  const done: string[] = [];
  const logged: string[] = [];
  const u = new UndoStack();
  u.push('a', async () => void done.push('a'));
  u.push('b', async () => {
    throw new Error('b broke');
  });
  u.push('c', async () => void done.push('c'));
  const first = await u.run((_l, m) => logged.push(m));
  t.deepEqual(done, ['c', 'a']);
  t.is((first as Error).message, 'b broke');
  t.deepEqual(logged, ['cannot remove b: b broke']);
  t.is(await u.run(() => {}), undefined, 'emptied');
});
