/**
 * The network the compiler tests share: two areas, one hub each (ap-hz mainland, ap-sg
 * international). ccn-1 (mainland) holds sag-a and sag-b and is attached to cen-1 with vpc-hz
 * (mainland) and vpc-sg (international, reachable through the mainland/international grant).
 * ccn-2 (international) holds sag-c and is attached to nothing. sag-lone is bound but in no CCN;
 * SN-FREE is registered and unbound; vpc-far sits in no CEN.
 */
import {
  applyCommands,
  createState,
  type Command,
  type ModelState,
} from '../../src/controller/model/index.js';
import type { DeviceCompileOptions } from '../../src/controller/compiler/index.js';

export const KEY = (n: number) => Buffer.alloc(32, n).toString('base64');
export const WAN = (name: string, priority: number, weight = 100) => ({
  name,
  kind: 'wired' as const,
  priority,
  weight,
});

export const FIXTURE: Command[] = [
  {
    kind: 'accessPoint.create',
    id: 'ap-hz',
    area: 'mainland',
    endpoints: ['203.0.113.1:51820'],
    maxInstances: 100,
  },
  {
    kind: 'accessPoint.create',
    id: 'ap-sg',
    area: 'international',
    endpoints: ['198.51.100.1:51820', '[2001:db8::1]:51820'],
    maxInstances: 50,
  },
  {
    kind: 'instance.create',
    id: 'sag-a',
    name: 'Shop A',
    area: 'mainland',
    model: 'hardware',
    bandwidthMbps: 100,
    lanCidrs: ['192.168.1.0/24'],
    uplinks: [
      { name: 'lte', kind: 'lte', priority: 1, weight: 1 },
      WAN('wan2', -1),
      WAN('wan1', 2, 30),
      WAN('wan3', 2, 70),
      WAN('wan0', 1),
    ],
  },
  {
    kind: 'instance.create',
    id: 'sag-b',
    name: 'Shop B',
    area: 'mainland',
    model: 'hardware',
    bandwidthMbps: 20,
    lanCidrs: ['192.168.2.0/24', 'fd00:2::/64'],
    uplinks: [WAN('wan1', 1)],
  },
  {
    kind: 'instance.create',
    id: 'sag-c',
    name: 'Shop C',
    area: 'international',
    model: 'hardware',
    bandwidthMbps: 30,
    lanCidrs: ['192.168.3.0/24'],
    uplinks: [WAN('wan1', 1)],
  },
  {
    kind: 'instance.create',
    id: 'sag-lone',
    name: 'Lone',
    area: 'mainland',
    model: 'vcpe',
    bandwidthMbps: 10,
    lanCidrs: ['192.168.9.0/24'],
    uplinks: [WAN('wan1', 1)],
  },
  ...(['A', 'B', 'C'] as const).map((s, i): Command => ({
    kind: 'device.register',
    serial: `SN-${s}`,
    model: 'hardware',
    publicKey: KEY(i + 1),
    softwareVersion: '1.0.0',
  })),
  { kind: 'device.register', serial: 'SN-LONE', model: 'vcpe', publicKey: KEY(4), softwareVersion: '1.0.0' },
  {
    kind: 'device.register',
    serial: 'SN-FREE',
    model: 'hardware',
    publicKey: KEY(5),
    softwareVersion: '1.0.0',
  },
  { kind: 'device.bind', serial: 'SN-A', instanceId: 'sag-a' },
  { kind: 'device.bind', serial: 'SN-B', instanceId: 'sag-b' },
  { kind: 'device.bind', serial: 'SN-C', instanceId: 'sag-c' },
  { kind: 'device.bind', serial: 'SN-LONE', instanceId: 'sag-lone' },
  { kind: 'ccn.create', id: 'ccn-1', name: 'One', area: 'mainland', cidrs: ['10.1.0.0/16'] },
  { kind: 'ccn.create', id: 'ccn-2', name: 'Two', area: 'international', cidrs: ['10.2.0.0/16'] },
  { kind: 'ccn.join', ccnId: 'ccn-1', instanceId: 'sag-a' },
  { kind: 'ccn.join', ccnId: 'ccn-1', instanceId: 'sag-b' },
  { kind: 'ccn.join', ccnId: 'ccn-2', instanceId: 'sag-c' },
  { kind: 'vpc.create', id: 'vpc-hz', name: 'HZ', region: 'cn-hangzhou', cidrs: ['172.16.0.0/16'] },
  { kind: 'vpc.create', id: 'vpc-sg', name: 'SG', region: 'ap-southeast-1', cidrs: ['172.17.0.0/16'] },
  { kind: 'vpc.create', id: 'vpc-far', name: 'Far', region: 'us-east-1', cidrs: ['172.30.0.0/16'] },
  { kind: 'cen.create', id: 'cen-1', name: 'Core' },
  { kind: 'cen.attachCcn', cenId: 'cen-1', ccnId: 'ccn-1' },
  { kind: 'cen.attachVpc', cenId: 'cen-1', vpcId: 'vpc-hz' },
  { kind: 'cen.attachVpc', cenId: 'cen-1', vpcId: 'vpc-sg' },
  { kind: 'cen.setGrant', cenId: 'cen-1', areas: ['mainland', 'international'], mbps: 50 },
];

export const model = (...extra: Command[]): ModelState =>
  applyCommands(createState(), [...FIXTURE, ...extra]).state;
export const OPTS: DeviceCompileOptions = {
  accessPointKeys: { 'ap-hz': KEY(101), 'ap-sg': KEY(102), 'ap-sh': KEY(103) },
};
export const NO_GRANT: Command = {
  kind: 'cen.removeGrant',
  cenId: 'cen-1',
  areas: ['international', 'mainland'],
};
