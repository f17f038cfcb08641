import test from 'ava';
import {
  DEFAULT_AREAS,
  MODEL_ERROR_CODES,
  ModelError,
  SagModel,
  applyCommand,
  applyCommands,
  checkInvariants,
  createState,
  sequentialIds,
  type Command,
  type ModelErrorCode,
  type ModelState,
} from '../../src/controller/model/index.js';

const KEY = (n: number) => Buffer.alloc(32, n).toString('base64');
const WAN = { name: 'wan1', kind: 'wired' as const, priority: 1, weight: 100 };

/**
 * Sample network: mainland CCN (ccn-main) with sag-hz1 bound to SN-HZ1 and attached
 * with vpc-hz to cen-core; an international CCN (ccn-intl) with sag-sg1, unattached;
 * a spare mainland vcpe instance sag-sh1 and spare devices.
 */
const FIXTURE: Command[] = [
  {
    kind: 'accessPoint.create',
    id: 'ap-hz',
    area: 'mainland',
    endpoints: ['203.0.113.1:51820'],
    maxInstances: 100,
  },
  {
    kind: 'instance.create',
    id: 'sag-hz1',
    name: 'Hangzhou shop',
    area: 'mainland',
    model: 'hardware',
    bandwidthMbps: 50,
    lanCidrs: ['192.168.1.0/24'],
    uplinks: [WAN],
  },
  {
    kind: 'instance.create',
    id: 'sag-sh1',
    name: 'Shanghai office',
    area: 'mainland',
    model: 'vcpe',
    bandwidthMbps: 100,
    lanCidrs: ['192.168.2.0/24'],
    uplinks: [WAN],
  },
  {
    kind: 'instance.create',
    id: 'sag-sg1',
    name: 'Singapore shop',
    area: 'international',
    model: 'hardware',
    bandwidthMbps: 20,
    lanCidrs: ['192.168.3.0/24'],
    uplinks: [WAN],
  },
  {
    kind: 'device.register',
    serial: 'SN-HZ1',
    model: 'hardware',
    publicKey: KEY(1),
    softwareVersion: '2.1.0',
  },
  {
    kind: 'device.register',
    serial: 'SN-HZ2',
    model: 'hardware',
    publicKey: KEY(2),
    softwareVersion: '2.1.0',
  },
  { kind: 'device.register', serial: 'SN-V1', model: 'vcpe', publicKey: KEY(3), softwareVersion: '2.1.0' },
  { kind: 'device.bind', serial: 'SN-HZ1', instanceId: 'sag-hz1' },
  { kind: 'ccn.create', id: 'ccn-main', name: 'Mainland shops', area: 'mainland', cidrs: ['10.10.0.0/16'] },
  {
    kind: 'ccn.create',
    id: 'ccn-intl',
    name: 'Overseas shops',
    area: 'international',
    cidrs: ['10.20.0.0/16'],
  },
  { kind: 'ccn.join', ccnId: 'ccn-main', instanceId: 'sag-hz1' },
  { kind: 'ccn.join', ccnId: 'ccn-intl', instanceId: 'sag-sg1' },
  { kind: 'cen.create', id: 'cen-core', name: 'Core' },
  { kind: 'cen.create', id: 'cen-spare', name: 'Spare' },
  {
    kind: 'vpc.create',
    id: 'vpc-hz',
    name: 'Prod Hangzhou',
    region: 'cn-hangzhou',
    cidrs: ['172.16.0.0/16'],
  },
  {
    kind: 'vpc.create',
    id: 'vpc-sg',
    name: 'Prod Singapore',
    region: 'ap-southeast-1',
    cidrs: ['172.17.0.0/16'],
  },
  { kind: 'cen.attachCcn', cenId: 'cen-core', ccnId: 'ccn-main' },
  { kind: 'cen.attachVpc', cenId: 'cen-core', vpcId: 'vpc-hz' },
];

const fixture = (): ModelState => applyCommands(createState(), FIXTURE).state;

test('fixture is consistent', (t) => {
  t.deepEqual(checkInvariants(fixture()), []);
  t.is(fixture().version, FIXTURE.length);
});

interface Refusal {
  n: number;
  rule: string;
  setup?: Command[];
  command: Command;
  code: ModelErrorCode;
  message: RegExp[];
  subjects?: string[];
}

const REFUSALS: Refusal[] = [
  {
    n: 1,
    rule: 'instance joins only a CCN of its own area',
    command: { kind: 'ccn.join', ccnId: 'ccn-intl', instanceId: 'sag-sh1' },
    code: 'ERR_MODEL_AREA_MISMATCH',
    message: [/sag-sh1/, /"Shanghai office"/, /ccn-intl/, /mainland/, /international/],
    subjects: ['sag-sh1', 'ccn-intl'],
  },
  {
    n: 2,
    rule: 'a CCN attaches to at most one CEN',
    command: { kind: 'cen.attachCcn', cenId: 'cen-spare', ccnId: 'ccn-main' },
    code: 'ERR_MODEL_CONFLICT',
    message: [/ccn-main/, /already attached to CEN cen-core/, /at most one CEN/],
  },
  {
    n: 3,
    rule: 'a VPC attaches to at most one CEN',
    command: { kind: 'cen.attachVpc', cenId: 'cen-spare', vpcId: 'vpc-hz' },
    code: 'ERR_MODEL_CONFLICT',
    message: [/vpc-hz/, /cen-core/],
  },
  {
    n: 4,
    rule: 'member LANs in one CCN must not overlap',
    setup: [{ kind: 'instance.update', id: 'sag-sh1', lanCidrs: ['192.168.1.128/25'] }],
    command: { kind: 'ccn.join', ccnId: 'ccn-main', instanceId: 'sag-sh1' },
    code: 'ERR_MODEL_CIDR_OVERLAP',
    message: [
      /192\.168\.1\.0\/24 \(LAN of instance sag-hz1/,
      /192\.168\.1\.128\/25 \(LAN of instance sag-sh1/,
      /in CCN ccn-main/,
    ],
    subjects: ['ccn-main', 'sag-hz1', 'sag-sh1'],
  },
  {
    n: 5,
    rule: 'member LAN must not overlap the CCN CIDRs',
    command: { kind: 'instance.update', id: 'sag-hz1', lanCidrs: ['10.10.5.0/24'] },
    code: 'ERR_MODEL_CIDR_OVERLAP',
    message: [/10\.10\.0\.0\/16 \(CIDR of CCN ccn-main/, /10\.10\.5\.0\/24 \(LAN of instance sag-hz1/],
  },
  {
    n: 6,
    rule: 'CCN CIDRs must not overlap member LANs',
    command: { kind: 'ccn.update', id: 'ccn-main', cidrs: ['192.168.0.0/16'] },
    code: 'ERR_MODEL_CIDR_OVERLAP',
    message: [/192\.168\.0\.0\/16/, /sag-hz1/, /ccn-main/],
  },
  {
    n: 7,
    rule: 'VPC CIDRs must not overlap a CCN in the same CEN',
    setup: [{ kind: 'vpc.create', id: 'vpc-x', name: 'X', region: 'cn-beijing', cidrs: ['10.10.7.0/24'] }],
    command: { kind: 'cen.attachVpc', cenId: 'cen-core', vpcId: 'vpc-x' },
    code: 'ERR_MODEL_CIDR_OVERLAP',
    message: [/vpc-x/, /ccn-main/, /in CEN cen-core/],
    subjects: ['cen-core', 'ccn-main', 'vpc-x'],
  },
  {
    n: 8,
    rule: 'CCNs attached to one CEN must not overlap, whatever their area',
    setup: [{ kind: 'ccn.update', id: 'ccn-intl', cidrs: ['10.10.128.0/17'] }],
    command: { kind: 'cen.attachCcn', cenId: 'cen-core', ccnId: 'ccn-intl' },
    code: 'ERR_MODEL_CIDR_OVERLAP',
    message: [/ccn-main/, /ccn-intl/, /cen-core/],
  },
  {
    n: 9,
    rule: 'a member LAN of one CCN must not overlap a VPC in the same CEN',
    command: { kind: 'vpc.update', id: 'vpc-hz', cidrs: ['192.168.0.0/20'] },
    code: 'ERR_MODEL_CIDR_OVERLAP',
    message: [/LAN of instance sag-hz1 \("Hangzhou shop"\) in CCN ccn-main/, /CIDR of VPC vpc-hz/],
  },
  {
    n: 10,
    rule: 'a member LAN change is checked across the CEN too',
    command: { kind: 'instance.update', id: 'sag-hz1', lanCidrs: ['172.16.8.0/24'] },
    code: 'ERR_MODEL_CIDR_OVERLAP',
    message: [/vpc-hz/, /sag-hz1/, /cen-core/],
  },
  {
    n: 11,
    rule: 'a device binds to one instance',
    setup: [
      {
        kind: 'instance.create',
        id: 'sag-hz2',
        name: 'Spare',
        area: 'mainland',
        model: 'hardware',
        bandwidthMbps: 10,
        lanCidrs: [],
        uplinks: [],
      },
    ],
    command: { kind: 'device.bind', serial: 'SN-HZ1', instanceId: 'sag-hz2' },
    code: 'ERR_MODEL_CONFLICT',
    message: [/device SN-HZ1 is already bound to instance sag-hz1/],
  },
  {
    n: 12,
    rule: 'an instance holds one device',
    command: { kind: 'device.bind', serial: 'SN-HZ2', instanceId: 'sag-hz1' },
    code: 'ERR_MODEL_CONFLICT',
    message: [/sag-hz1/, /already has device SN-HZ1/],
  },
  {
    n: 13,
    rule: 'a device binds only to an instance of its own model',
    command: { kind: 'device.bind', serial: 'SN-V1', instanceId: 'sag-sg1' },
    code: 'ERR_MODEL_DEVICE_MODEL_MISMATCH',
    message: [/SN-V1 is a vcpe device/, /sag-sg1/, /hardware instance/],
  },
  {
    n: 14,
    rule: 'an instance in a CCN cannot be deleted',
    command: { kind: 'instance.delete', id: 'sag-sg1' },
    code: 'ERR_MODEL_IN_USE',
    message: [/sag-sg1/, /member of CCN ccn-intl/],
  },
  {
    n: 15,
    rule: 'an instance with a bound device cannot be deleted',
    setup: [{ kind: 'ccn.leave', ccnId: 'ccn-main', instanceId: 'sag-hz1' }],
    command: { kind: 'instance.delete', id: 'sag-hz1' },
    code: 'ERR_MODEL_IN_USE',
    message: [/sag-hz1/, /device SN-HZ1 bound/],
  },
  {
    n: 16,
    rule: 'a CCN with members cannot be deleted',
    command: { kind: 'ccn.delete', id: 'ccn-intl' },
    code: 'ERR_MODEL_IN_USE',
    message: [/ccn-intl/, /members: instance sag-sg1/],
  },
  {
    n: 17,
    rule: 'a CCN attached to a CEN cannot be deleted',
    setup: [{ kind: 'ccn.leave', ccnId: 'ccn-main', instanceId: 'sag-hz1' }],
    command: { kind: 'ccn.delete', id: 'ccn-main' },
    code: 'ERR_MODEL_IN_USE',
    message: [/ccn-main/, /attached to CEN cen-core/],
  },
  {
    n: 18,
    rule: 'a bound device cannot be deleted',
    command: { kind: 'device.delete', serial: 'SN-HZ1' },
    code: 'ERR_MODEL_IN_USE',
    message: [/SN-HZ1/, /bound to instance sag-hz1/],
  },
  {
    n: 19,
    rule: 'an area in use cannot be deleted',
    command: { kind: 'area.delete', name: 'mainland' },
    code: 'ERR_MODEL_IN_USE',
    message: [/area mainland is still used by access point ap-hz, instance sag-hz1/, /and \d+ more/],
  },
  {
    n: 20,
    rule: 'an area named by a grant cannot be deleted',
    setup: [
      { kind: 'area.create', name: 'europe', regions: ['eu-west-9'] },
      { kind: 'cen.setGrant', cenId: 'cen-spare', areas: ['europe', 'mainland'], mbps: 10 },
    ],
    command: { kind: 'area.delete', name: 'europe' },
    code: 'ERR_MODEL_IN_USE',
    message: [/europe\/mainland bandwidth grant of CEN cen-spare/],
  },
  {
    n: 21,
    rule: 'a CEN with attachments cannot be deleted',
    command: { kind: 'cen.delete', id: 'cen-core' },
    code: 'ERR_MODEL_IN_USE',
    message: [/cen-core/, /ccn-main/, /vpc-hz/],
  },
  {
    n: 22,
    rule: 'an attached VPC cannot be deleted',
    command: { kind: 'vpc.delete', id: 'vpc-hz' },
    code: 'ERR_MODEL_IN_USE',
    message: [/vpc-hz/, /cen-core/],
  },
  {
    n: 23,
    rule: 'a region in use cannot leave its area',
    command: { kind: 'area.setRegions', name: 'mainland', regions: ['cn-shanghai'] },
    code: 'ERR_MODEL_IN_USE',
    message: [/cn-hangzhou/, /vpc-hz/],
  },
  {
    n: 24,
    rule: 'joining an unknown CCN',
    command: { kind: 'ccn.join', ccnId: 'ccn-nope', instanceId: 'sag-sh1' },
    code: 'ERR_MODEL_NOT_FOUND',
    message: [/CCN ccn-nope does not exist/],
  },
  {
    n: 25,
    rule: 'an instance in an unknown area',
    command: {
      kind: 'instance.create',
      id: 'sag-x',
      name: 'X',
      area: 'mars',
      model: 'app',
      bandwidthMbps: 1,
      lanCidrs: [],
      uplinks: [],
    },
    code: 'ERR_MODEL_NOT_FOUND',
    message: [/area mars does not exist/],
  },
  {
    n: 26,
    rule: 'a VPC in a region no area lists',
    command: { kind: 'vpc.create', id: 'vpc-x', name: 'X', region: 'xx-nowhere-1', cidrs: ['10.0.0.0/16'] },
    code: 'ERR_MODEL_NOT_FOUND',
    message: [/region xx-nowhere-1 is in no area/],
  },
  {
    n: 27,
    rule: 'a CCN has at most 5 CIDRs',
    command: {
      kind: 'ccn.create',
      id: 'ccn-x',
      name: 'X',
      area: 'mainland',
      cidrs: ['10.1.0.0/16', '10.2.0.0/16', '10.3.0.0/16', '10.4.0.0/16', '10.5.0.0/16', '10.6.0.0/16'],
    },
    code: 'ERR_MODEL_INVALID',
    message: [/at most 5/],
  },
  {
    n: 28,
    rule: 'CCN CIDRs are private',
    command: { kind: 'ccn.create', id: 'ccn-x', name: 'X', area: 'mainland', cidrs: ['8.8.8.0/24'] },
    code: 'ERR_MODEL_INVALID',
    message: [/8\.8\.8\.0\/24 is not private/],
  },
  {
    n: 29,
    rule: 'CIDRs with host bits are refused with a hint',
    command: { kind: 'instance.update', id: 'sag-sh1', lanCidrs: ['192.168.2.1/24'] },
    code: 'ERR_MODEL_INVALID',
    message: [/sag-sh1/, /did you mean 192\.168\.2\.0\/24/],
  },
  {
    n: 30,
    rule: 'an instance LAN list must not overlap itself',
    command: { kind: 'instance.update', id: 'sag-sh1', lanCidrs: ['192.168.0.0/16', '192.168.9.0/24'] },
    code: 'ERR_MODEL_CIDR_OVERLAP',
    message: [/sag-sh1/, /192\.168\.0\.0\/16 and 192\.168\.9\.0\/24 overlap/],
  },
  {
    n: 31,
    rule: 'public keys are WireGuard keys',
    command: {
      kind: 'device.register',
      serial: 'SN-X',
      model: 'app',
      publicKey: 'not-a-key',
      softwareVersion: '1',
    },
    code: 'ERR_MODEL_INVALID',
    message: [/SN-X/, /WireGuard key/],
  },
  {
    n: 32,
    rule: 'a 32-byte key has a restricted last character',
    command: {
      kind: 'device.register',
      serial: 'SN-X',
      model: 'app',
      publicKey: `${'B'.repeat(42)}B=`,
      softwareVersion: '1',
    },
    code: 'ERR_MODEL_INVALID',
    message: [/WireGuard key/],
  },
  {
    n: 33,
    rule: 'the all-zero key is refused',
    command: {
      kind: 'device.register',
      serial: 'SN-X',
      model: 'app',
      publicKey: KEY(0),
      softwareVersion: '1',
    },
    code: 'ERR_MODEL_INVALID',
    message: [/all zeros/],
  },
  {
    n: 34,
    rule: 'two devices cannot share a key',
    command: {
      kind: 'device.register',
      serial: 'SN-X',
      model: 'app',
      publicKey: KEY(1),
      softwareVersion: '1',
    },
    code: 'ERR_MODEL_CONFLICT',
    message: [/SN-X/, /already used by device SN-HZ1/],
  },
  {
    n: 35,
    rule: 'uplink priority 0 is out of range',
    command: { kind: 'instance.update', id: 'sag-sh1', uplinks: [{ ...WAN, priority: 0 }] },
    code: 'ERR_MODEL_INVALID',
    message: [/uplink wan1/, /priority/],
  },
  {
    n: 36,
    rule: 'uplink priority 51 is out of range',
    command: { kind: 'instance.update', id: 'sag-sh1', uplinks: [{ ...WAN, priority: 51 }] },
    code: 'ERR_MODEL_INVALID',
    message: [/from 1 to 50/],
  },
  {
    n: 37,
    rule: 'uplink names are unique',
    command: { kind: 'instance.update', id: 'sag-sh1', uplinks: [WAN, WAN] },
    code: 'ERR_MODEL_INVALID',
    message: [/wan1 is used twice/],
  },
  {
    n: 38,
    rule: 'endpoints need a port',
    command: {
      kind: 'accessPoint.create',
      id: 'ap-x',
      area: 'mainland',
      endpoints: ['203.0.113.9'],
      maxInstances: 1,
    },
    code: 'ERR_MODEL_INVALID',
    message: [/ap-x/, /203\.0\.113\.9/],
  },
  {
    n: 39,
    rule: 'IPv6 endpoints need brackets',
    command: {
      kind: 'accessPoint.create',
      id: 'ap-x',
      area: 'mainland',
      endpoints: ['2001:db8::1:51820'],
      maxInstances: 1,
    },
    code: 'ERR_MODEL_INVALID',
    message: [/\[ipv6\]:port/],
  },
  {
    n: 40,
    rule: 'an access point needs an endpoint',
    command: { kind: 'accessPoint.create', id: 'ap-x', area: 'mainland', endpoints: [], maxInstances: 1 },
    code: 'ERR_MODEL_INVALID',
    message: [/at least one/],
  },
  {
    n: 41,
    rule: 'access points do not share endpoints',
    command: {
      kind: 'accessPoint.create',
      id: 'ap-x',
      area: 'mainland',
      endpoints: ['[2001:db8::1]:51820', '203.0.113.1:51820'],
      maxInstances: 1,
    },
    code: 'ERR_MODEL_CONFLICT',
    message: [/203\.0\.113\.1:51820/, /ap-hz/],
  },
  {
    n: 42,
    rule: 'multicast endpoints cannot be dialled',
    command: {
      kind: 'accessPoint.create',
      id: 'ap-x',
      area: 'mainland',
      endpoints: ['239.1.1.1:51820'],
      maxInstances: 1,
    },
    code: 'ERR_MODEL_INVALID',
    message: [/multicast/],
  },
  {
    n: 43,
    rule: 'ids are unique',
    command: {
      kind: 'instance.create',
      id: 'sag-hz1',
      name: 'Dup',
      area: 'mainland',
      model: 'app',
      bandwidthMbps: 1,
      lanCidrs: [],
      uplinks: [],
    },
    code: 'ERR_MODEL_CONFLICT',
    message: [/instance sag-hz1 already exists/],
  },
  {
    n: 44,
    rule: 'ids carry their kind prefix',
    command: { kind: 'ccn.create', id: 'sag-1', name: 'X', area: 'mainland', cidrs: [] },
    code: 'ERR_MODEL_INVALID',
    message: [/"ccn-"/],
  },
  {
    n: 45,
    rule: 'a region is in one area',
    command: { kind: 'area.create', name: 'north', regions: ['cn-beijing'] },
    code: 'ERR_MODEL_CONFLICT',
    message: [/cn-beijing already belongs to area mainland/],
  },
  {
    n: 46,
    rule: 'area names are lowercase identifiers',
    command: { kind: 'area.create', name: 'Europe', regions: ['eu-x-1'] },
    code: 'ERR_MODEL_INVALID',
    message: [/"Europe"/],
  },
  {
    n: 47,
    rule: 'an online device cannot be unbound',
    setup: [{ kind: 'device.heartbeat', serial: 'SN-HZ1', at: 1000 }],
    command: { kind: 'device.unbind', serial: 'SN-HZ1' },
    code: 'ERR_MODEL_STATE',
    message: [/sag-hz1/, /from online to unbound/, /offline before unbinding/],
  },
  {
    n: 48,
    rule: 'an unbound instance cannot go offline',
    command: { kind: 'instance.setOffline', id: 'sag-sh1' },
    code: 'ERR_MODEL_STATE',
    message: [/sag-sh1/, /from unbound to offline/],
  },
  {
    n: 49,
    rule: 'a grant joins two different areas',
    command: { kind: 'cen.setGrant', cenId: 'cen-core', areas: ['mainland', 'mainland'], mbps: 10 },
    code: 'ERR_MODEL_INVALID',
    message: [/two different areas/, /needs none/],
  },
  {
    n: 50,
    rule: 'a grant names existing areas',
    command: { kind: 'cen.setGrant', cenId: 'cen-core', areas: ['mainland', 'mars'], mbps: 10 },
    code: 'ERR_MODEL_NOT_FOUND',
    message: [/area mars/],
  },
  {
    n: 51,
    rule: 'a grant has positive bandwidth',
    command: { kind: 'cen.setGrant', cenId: 'cen-core', areas: ['mainland', 'international'], mbps: 0 },
    code: 'ERR_MODEL_INVALID',
    message: [/cen-core/, /mbps|grant/],
  },
  {
    n: 52,
    rule: 'bandwidth is a positive whole number',
    command: { kind: 'instance.update', id: 'sag-sh1', bandwidthMbps: 1.5 },
    code: 'ERR_MODEL_INVALID',
    message: [/bandwidthMbps must be a whole number/],
  },
  {
    n: 53,
    rule: 'an instance is in at most one CCN',
    setup: [{ kind: 'ccn.create', id: 'ccn-main2', name: 'Other', area: 'mainland', cidrs: [] }],
    command: { kind: 'ccn.join', ccnId: 'ccn-main2', instanceId: 'sag-hz1' },
    code: 'ERR_MODEL_CONFLICT',
    message: [/already a member of CCN ccn-main/],
  },
  {
    n: 54,
    rule: 'unknown command kinds are refused',
    command: { kind: 'instance.explode', id: 'sag-hz1' } as unknown as Command,
    code: 'ERR_MODEL_INVALID',
    message: [/unknown command "instance.explode"/],
  },
  {
    n: 55,
    rule: 'names have no control characters',
    command: { kind: 'cen.update', id: 'cen-core', name: 'Core\n' },
    code: 'ERR_MODEL_INVALID',
    message: [/cen-core/, /control characters/],
  },
  {
    n: 56,
    rule: 'instance models are closed',
    command: {
      kind: 'instance.create',
      id: 'sag-x',
      name: 'X',
      area: 'mainland',
      model: 'router' as 'app',
      bandwidthMbps: 1,
      lanCidrs: [],
      uplinks: [],
    },
    code: 'ERR_MODEL_INVALID',
    message: [/hardware, vcpe, app/],
  },
  {
    n: 57,
    rule: 'a lookup key cannot reach Object.prototype',
    command: { kind: 'instance.delete', id: 'constructor' },
    code: 'ERR_MODEL_NOT_FOUND',
    message: [/instance constructor does not exist/],
  },
  {
    n: 58,
    rule: 'a VPC needs a CIDR',
    command: { kind: 'vpc.create', id: 'vpc-x', name: 'X', region: 'cn-beijing', cidrs: [] },
    code: 'ERR_MODEL_INVALID',
    message: [/at least one CIDR/],
  },
];

for (const c of REFUSALS) {
  test(`refusal #${c.n}: ${c.rule}`, (t) => {
    const before = applyCommands(fixture(), c.setup ?? []).state;
    const snapshot = structuredClone(before);
    const err = t.throws(() => applyCommand(before, c.command), { instanceOf: ModelError });
    if (!err) return;
    t.is((err as ModelError).code, c.code, err.message);
    for (const re of c.message) t.regex(err.message, re);
    if (c.subjects) t.deepEqual([...(err as ModelError).subjects], c.subjects);
    // A refused command changes nothing.
    t.deepEqual(before, snapshot);
  });
}

test('refusal codes are stable strings', (t) => {
  t.deepEqual([...new Set(REFUSALS.map((c) => c.code))].sort(), [...MODEL_ERROR_CODES].sort());
});

test('refused SagModel.dispatch leaves the state object and version untouched', (t) => {
  const model = new SagModel({ state: fixture() });
  const before = model.state;
  const json = JSON.stringify(before);
  for (const c of REFUSALS.filter((r) => !r.setup)) {
    t.throws(() => model.dispatch(c.command), { instanceOf: ModelError });
    t.is(model.state, before, `#${c.n}`);
  }
  t.is(JSON.stringify(model.state), json);
});

interface Accept {
  n: number;
  rule: string;
  setup?: Command[];
  command: Command;
  check: (s: ModelState) => boolean;
}

const ACCEPTS: Accept[] = [
  {
    n: 1,
    rule: 'an instance joins a CCN of its own area',
    command: { kind: 'ccn.join', ccnId: 'ccn-main', instanceId: 'sag-sh1' },
    check: (s) => s.instances['sag-sh1']?.ccnId === 'ccn-main',
  },
  {
    n: 2,
    rule: 'a CCN attaches to a CEN of another area mix',
    command: { kind: 'cen.attachCcn', cenId: 'cen-core', ccnId: 'ccn-intl' },
    check: (s) => s.ccns['ccn-intl']?.cenId === 'cen-core',
  },
  {
    n: 3,
    rule: 'an unreferenced area can be deleted',
    setup: [{ kind: 'area.create', name: 'europe', regions: ['eu-west-9'] }],
    command: { kind: 'area.delete', name: 'europe' },
    check: (s) => !('europe' in s.areas),
  },
  {
    n: 4,
    rule: 'an idle CEN can be deleted, grants and all',
    command: { kind: 'cen.delete', id: 'cen-spare' },
    check: (s) => !('cen-spare' in s.cens),
  },
  {
    n: 5,
    rule: 'a grant pair is unordered and stored sorted',
    command: { kind: 'cen.setGrant', cenId: 'cen-core', areas: ['mainland', 'international'], mbps: 10 },
    check: (s) =>
      JSON.stringify(s.cens['cen-core']?.grants) === '[{"areas":["international","mainland"],"mbps":10}]',
  },
  {
    n: 6,
    rule: 'IPv6 ULA CIDRs are private for a CCN, stored canonical',
    command: { kind: 'ccn.update', id: 'ccn-intl', cidrs: ['FD00:0:0:20::/64', '100.64.0.0/16'] },
    check: (s) => s.ccns['ccn-intl']?.cidrs.join() === 'fd00:0:0:20::/64,100.64.0.0/16',
  },
  {
    n: 7,
    rule: 'an unbound device can be deleted',
    command: { kind: 'device.delete', serial: 'SN-V1' },
    check: (s) => !('SN-V1' in s.devices),
  },
  {
    n: 8,
    rule: 'a device binds to an instance of its own model',
    command: { kind: 'device.bind', serial: 'SN-V1', instanceId: 'sag-sh1' },
    check: (s) => s.instances['sag-sh1']?.state === 'bound' && s.devices['SN-V1']?.instanceId === 'sag-sh1',
  },
  {
    n: 9,
    rule: 'a region not in use can move between areas',
    command: { kind: 'area.setRegions', name: 'mainland', regions: ['cn-hangzhou'] },
    check: (s) => s.areas['mainland']?.regions.join() === 'cn-hangzhou',
  },
  {
    n: 10,
    rule: 'access point endpoints are stored canonical',
    command: {
      kind: 'accessPoint.update',
      id: 'ap-hz',
      endpoints: ['[2001:DB8:0::1]:443', '203.0.113.1:51820'],
    },
    check: (s) => s.accessPoints['ap-hz']?.endpoints.join() === '[2001:db8::1]:443,203.0.113.1:51820',
  },
];

for (const c of ACCEPTS) {
  test(`accept #${c.n}: ${c.rule}`, (t) => {
    const { state } = applyCommand(applyCommands(fixture(), c.setup ?? []).state, c.command);
    t.true(c.check(state));
    t.deepEqual(checkInvariants(state), []);
  });
}

test('no-op commands keep the same state object and version', (t) => {
  const state = fixture();
  const noops: Command[] = [
    { kind: 'ccn.join', ccnId: 'ccn-main', instanceId: 'sag-hz1' },
    { kind: 'ccn.leave', ccnId: 'ccn-intl', instanceId: 'sag-hz1' },
    { kind: 'cen.attachCcn', cenId: 'cen-core', ccnId: 'ccn-main' },
    { kind: 'cen.detachVpc', cenId: 'cen-spare', vpcId: 'vpc-hz' },
    { kind: 'cen.removeGrant', cenId: 'cen-core', areas: ['mainland', 'international'] },
    { kind: 'device.bind', serial: 'SN-HZ1', instanceId: 'sag-hz1' },
    { kind: 'device.unbind', serial: 'SN-V1' },
    { kind: 'instance.update', id: 'sag-hz1', name: 'Hangzhou shop' },
    { kind: 'instance.expire', at: 10_000, staleAfterMs: 1000 },
  ];
  for (const command of noops) {
    const result = applyCommand(state, command);
    t.is(result.state, state, command.kind);
    t.deepEqual(result.changes, []);
  }
});

test('versions: model version counts changes; entity version records its last change', (t) => {
  const s0 = fixture();
  const v = s0.version;
  const hz1 = s0.instances['sag-hz1']!.version;
  const r1 = applyCommand(s0, { kind: 'instance.update', id: 'sag-sh1', bandwidthMbps: 200 });
  t.is(r1.state.version, v + 1);
  t.is(r1.state.instances['sag-sh1']!.version, v + 1);
  t.is(r1.state.instances['sag-hz1']!.version, hz1, 'untouched entity keeps its version');
  t.is(r1.state.instances['sag-hz1'], s0.instances['sag-hz1'], 'untouched entity is shared, not copied');
  t.deepEqual(
    r1.changes.map((c) => [c.collection, c.key, c.value?.version]),
    [['instances', 'sag-sh1', v + 1]],
  );
  const r2 = applyCommand(r1.state, { kind: 'device.bind', serial: 'SN-V1', instanceId: 'sag-sh1' });
  t.is(r2.state.version, v + 2);
  t.deepEqual(r2.changes.map((c) => `${c.collection}/${c.key}@${c.value?.version}`).sort(), [
    `devices/SN-V1@${v + 2}`,
    `instances/sag-sh1@${v + 2}`,
  ]);
  const r3 = applyCommand(r2.state, { kind: 'device.unbind', serial: 'SN-V1' });
  const r4 = applyCommand(r3.state, { kind: 'device.delete', serial: 'SN-V1' });
  t.deepEqual(r4.changes, [{ collection: 'devices', key: 'SN-V1', value: null }]);
  t.is(r4.state.version, v + 4);
  t.is(s0.version, v, 'input states are never modified');
});

test('createState seeds the catalogue at version 0 and refuses a bad one', (t) => {
  const s = createState();
  t.is(s.version, 0);
  t.deepEqual(
    Object.keys(s.areas),
    DEFAULT_AREAS.map((a) => a.name),
  );
  t.true(Object.values(s.areas).every((a) => a.version === 0));
  const custom = createState([
    { name: 'east', regions: ['cn-hangzhou'] },
    { name: 'west', regions: ['cn-chengdu'] },
  ]);
  t.deepEqual(Object.keys(custom.areas), ['east', 'west']);
  const err = t.throws(
    () =>
      createState([
        { name: 'a', regions: ['cn-x1'] },
        { name: 'b', regions: ['cn-x1'] },
      ]),
    { instanceOf: ModelError },
  );
  t.is((err as ModelError).code, 'ERR_MODEL_CONFLICT');
});

test('state survives a JSON round trip and replays identically', (t) => {
  const state = fixture();
  const copy = JSON.parse(JSON.stringify(state)) as ModelState;
  t.deepEqual(copy, state);
  const next: Command = { kind: 'ccn.join', ccnId: 'ccn-main', instanceId: 'sag-sh1' };
  t.deepEqual(applyCommand(copy, next), applyCommand(state, next));
  t.is(JSON.stringify(fixture()), JSON.stringify(state), 'same commands, same bytes');
});

test('SagModel generates ids through the injected generator and returns replayable commands', (t) => {
  const model = new SagModel({ ids: sequentialIds() });
  const cen = model.createCen({ name: 'Core' });
  const ccn = model.createCcn({ name: 'Shops', area: 'mainland', cidrs: ['10.0.0.0/16'] });
  const sag = model.createInstance({
    name: 'Shop 1',
    area: 'mainland',
    model: 'app',
    bandwidthMbps: 5,
    lanCidrs: [],
    uplinks: [],
  });
  const vpc = model.createVpc({ name: 'Prod', region: 'cn-shanghai', cidrs: ['172.16.0.0/12'] });
  const ap = model.createAccessPoint({
    area: 'mainland',
    endpoints: ['198.51.100.7:51820'],
    maxInstances: 10,
  });
  t.deepEqual(
    [cen.id, ccn.id, sag.id, vpc.id, ap.id],
    ['cen-000001', 'ccn-000002', 'sag-000003', 'vpc-000004', 'ap-000005'],
  );
  const { command } = model.dispatch({ kind: 'ccn.create', name: 'More', area: 'international', cidrs: [] });
  t.is((command as { id: string }).id, 'ccn-000006');
  t.is(model.version, 6);
  // Resuming over a loaded state skips ids already taken in that collection (cen-000001).
  const resumed = new SagModel({ state: model.state, ids: sequentialIds() });
  t.is(resumed.createCen({ name: 'Again' }).id, 'cen-000002');
  // An explicit id wins over the generator.
  t.is(model.createCen({ id: 'cen-mine', name: 'Mine' }).id, 'cen-mine');
});

test('default random ids look like cloud ids', (t) => {
  const model = new SagModel();
  const a = model.createInstance({
    name: 'A',
    area: 'mainland',
    model: 'app',
    bandwidthMbps: 5,
    lanCidrs: [],
    uplinks: [],
  });
  const b = model.createInstance({
    name: 'B',
    area: 'mainland',
    model: 'app',
    bandwidthMbps: 5,
    lanCidrs: [],
    uplinks: [],
  });
  t.regex(a.id, /^sag-[a-z0-9]{20}$/);
  t.not(a.id, b.id);
});

test('random command sequences either apply cleanly or change nothing', (t) => {
  let seed = 42;
  const rand = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed % n;
  };
  const pick = <T>(xs: readonly T[]): T => xs[rand(xs.length)]!;
  const instances = ['sag-hz1', 'sag-sh1', 'sag-sg1', 'sag-new'];
  const ccns = ['ccn-main', 'ccn-intl', 'ccn-new'];
  const cens = ['cen-core', 'cen-spare'];
  const vpcs = ['vpc-hz', 'vpc-sg'];
  const serials = ['SN-HZ1', 'SN-HZ2', 'SN-V1'];
  const lans = [
    ['192.168.1.0/24'],
    ['192.168.0.0/16'],
    ['10.10.1.0/24'],
    ['172.16.1.0/24'],
    [],
    ['192.168.9.0/24'],
  ];
  const gen = (): Command =>
    pick<() => Command>([
      () => ({ kind: 'ccn.join', ccnId: pick(ccns), instanceId: pick(instances) }),
      () => ({ kind: 'ccn.leave', ccnId: pick(ccns), instanceId: pick(instances) }),
      () => ({ kind: 'cen.attachCcn', cenId: pick(cens), ccnId: pick(ccns) }),
      () => ({ kind: 'cen.detachCcn', cenId: pick(cens), ccnId: pick(ccns) }),
      () => ({ kind: 'cen.attachVpc', cenId: pick(cens), vpcId: pick(vpcs) }),
      () => ({ kind: 'cen.detachVpc', cenId: pick(cens), vpcId: pick(vpcs) }),
      () => ({ kind: 'instance.update', id: pick(instances), lanCidrs: pick(lans) }),
      () => ({
        kind: 'vpc.update',
        id: pick(vpcs),
        cidrs: pick([['172.16.0.0/16'], ['192.168.0.0/16'], ['10.0.0.0/8']]),
      }),
      () => ({ kind: 'device.bind', serial: pick(serials), instanceId: pick(instances) }),
      () => ({ kind: 'device.unbind', serial: pick(serials) }),
      () => ({ kind: 'device.heartbeat', serial: pick(serials), at: rand(100_000) }),
      () => ({ kind: 'instance.setOffline', id: pick(instances) }),
      () => ({ kind: 'instance.expire', at: rand(200_000), staleAfterMs: 30_000 }),
      () => ({ kind: 'instance.delete', id: pick(instances) }),
      () => ({
        kind: 'instance.create',
        id: 'sag-new',
        name: 'New',
        area: pick(['mainland', 'international']),
        model: 'hardware',
        bandwidthMbps: 10,
        lanCidrs: pick(lans),
        uplinks: [],
      }),
      () => ({ kind: 'ccn.delete', id: pick(ccns) }),
      () => ({
        kind: 'ccn.create',
        id: 'ccn-new',
        name: 'New',
        area: pick(['mainland', 'international']),
        cidrs: pick([['10.10.0.0/16'], ['10.30.0.0/16']]),
      }),
      () => ({ kind: 'area.delete', name: pick(['mainland', 'international']) }),
      () => ({ kind: 'device.delete', serial: pick(serials) }),
    ])();
  let state = fixture();
  let applied = 0;
  for (let step = 0; step < 1500; step++) {
    const command = gen();
    const snapshot = JSON.stringify(state);
    try {
      const result = applyCommand(state, command);
      t.is(JSON.stringify(state), snapshot, 'input untouched');
      state = result.state;
      applied += result.changes.length > 0 ? 1 : 0;
      const problems = checkInvariants(state);
      if (problems.length > 0) t.fail(`step ${step} ${JSON.stringify(command)}: ${problems.join('; ')}`);
    } catch (err) {
      if (!(err instanceof ModelError)) throw err;
      t.is(JSON.stringify(state), snapshot, `step ${step} refusal changed the state`);
    }
  }
  t.true(applied > 100, `only ${applied} commands applied`);
});

test('checkInvariants reports a hand-broken state', (t) => {
  const state = structuredClone(fixture());
  state.instances['sag-sg1']!.ccnId = 'ccn-main';
  state.devices['SN-V1']!.instanceId = 'sag-gone';
  const problems = checkInvariants(state);
  t.true(problems.some((p) => /sag-sg1 \(area international\) is in CCN ccn-main/.test(p)));
  t.true(problems.some((p) => /SN-V1: instance sag-gone does not exist/.test(p)));
});
