/**
 * The apply model against behaviour observed from wireguard-go 0.0.20220316: a prefix added to one
 * peer leaves its previous owner and goes last; update_only skips unknown peers (their lines too);
 * a section naming the device's own key is ignored; a new private key drops the peer it now equals.
 */
import test from 'ava';
import { formatCidr, type Cidr } from '../../src/net/cidr.js';
import { applySetCommand, emptyDevice, parseSetRequest, type UapiDeviceState } from '../../src/uapi/index.js';

const KEY1_PRIV = 'a8811a7f248e56337e7b3a7ba8db7ceaeff02160f1ef7927486322f2c1945a5d';
const KEY1_PUB = 'ff50a11ad5e4ceb3cc8c5e869bd993cb4c23c97d5cba9ad53ac7bce01e398958';
const KEY2_PRIV = '4073ee2581ba38f0b8ff7412874c819f020f7133569f13e32cc09718bddbb555';
const A = '9b1063d55d5d89e5716de721a6e3a4559c3890b4c5f6acc5ebfb51edd0ee9360'; // public key of KEY2
const B = '69f2872e893dea46600499f1e76eeb554771dbac942b5495e06542b5a05cea59';
const C = 'fb9c8c781bab4f43486a6f79046897212817af6e722485695516526c561d786b';

const hexOf = (k: Uint8Array): string => Buffer.from(k).toString('hex');
const run = (device: UapiDeviceState, ...lines: string[]): UapiDeviceState =>
  applySetCommand(device, parseSetRequest(`set=1\n${lines.map((l) => `${l}\n`).join('')}\n`));
const ips = (device: UapiDeviceState, key: string): string[] =>
  device.peers.find((p) => hexOf(p.publicKey) === key)?.allowedIps.map((c: Cidr) => formatCidr(c)) ?? [];
const keys = (device: UapiDeviceState): string[] => device.peers.map((p) => hexOf(p.publicKey));

const base = run(
  emptyDevice(),
  `private_key=${KEY1_PRIV}`,
  `public_key=${A}`,
  'allowed_ip=10.0.0.0/24',
  'allowed_ip=10.1.0.0/16',
  `public_key=${B}`,
  'allowed_ip=0.0.0.0/0',
);

test("adding a prefix moves it from its owner to the end of the new owner's list", (t) => {
  const d = run(base, `public_key=${A}`, 'allowed_ip=0.0.0.0/0', 'allowed_ip=10.0.0.0/24');
  t.deepEqual(ips(d, A), ['10.1.0.0/16', '0.0.0.0/0', '10.0.0.0/24']);
  t.deepEqual(ips(d, B), []);
});

test('update_only skips a peer that does not exist, lines and all, but updates one that does', (t) => {
  const d = run(
    base,
    `public_key=${C}`,
    'update_only=true',
    'allowed_ip=10.1.0.0/16',
    `public_key=${B}`,
    'update_only=true',
    'persistent_keepalive_interval=5',
  );
  t.deepEqual(keys(d), [A, B]);
  t.deepEqual(ips(d, A), ['10.0.0.0/24', '10.1.0.0/16']);
  t.is(d.peers[1]?.persistentKeepaliveInterval, 5);
});

test("a section for the device's own public key is ignored", (t) => {
  const d = run(base, `public_key=${KEY1_PUB}`, 'allowed_ip=10.0.0.0/24');
  t.deepEqual(d, base);
});

test('a new private key drops the peer whose public key it matches', (t) => {
  const d = run(base, `private_key=${KEY2_PRIV}`);
  t.deepEqual(keys(d), [B]);
  t.is(hexOf(d.privateKey!), KEY2_PRIV);
});

test('private keys are clamped as wireguard-go stores them; a zero key removes it', (t) => {
  const d = run(emptyDevice(), `private_key=${'ff'.repeat(32)}`);
  t.is(hexOf(d.privateKey!), `f8${'ff'.repeat(30)}7f`);
  t.is(run(d, `private_key=${'00'.repeat(32)}`).privateKey, undefined);
});

test('remove, replace_peers, replace_allowed_ips, allowed_ip=- and a zero preshared key', (t) => {
  t.deepEqual(keys(run(base, `public_key=${A}`, 'remove=true')), [B]);
  t.deepEqual(keys(run(base, `public_key=${C}`, 'remove=true')), [A, B]);
  t.deepEqual(keys(run(base, 'replace_peers=true', `public_key=${C}`)), [C]);
  t.deepEqual(ips(run(base, `public_key=${A}`, 'replace_allowed_ips=true', 'allowed_ip=10.9.0.0/16'), A), [
    '10.9.0.0/16',
  ]);
  t.deepEqual(ips(run(base, `public_key=${A}`, 'allowed_ip=-10.0.0.0/24', 'allowed_ip=-0.0.0.0/0'), A), [
    '10.1.0.0/16',
  ]);
  t.deepEqual(
    ips(run(base, `public_key=${A}`, 'allowed_ip=-0.0.0.0/0'), B),
    ['0.0.0.0/0'],
    'only the owner can drop a prefix',
  );
  const withPsk = run(base, `public_key=${A}`, `preshared_key=${C}`);
  t.is(hexOf(withPsk.peers[0]!.presharedKey!), C);
  t.is(run(withPsk, `public_key=${A}`, `preshared_key=${'0'.repeat(64)}`).peers[0]!.presharedKey, undefined);
});

test('settings not named in a request are kept, and the input state is not modified', (t) => {
  const before = JSON.stringify(base, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v));
  const d = run(base, 'listen_port=7', `public_key=${A}`, 'endpoint=[::1]:9');
  t.is(d.listenPort, 7);
  t.is(d.fwmark, 0);
  t.deepEqual(ips(d, A), ips(base, A));
  t.is(
    JSON.stringify(base, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v)),
    before,
  );
});
