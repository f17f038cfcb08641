/** `sag area`, `sag ap` and `sag instance`: where branches attach, and the branches themselves. */
import type { AccessPoint, Area, SagInstance, Uplink } from '../../controller/model/index.js';
import { UsageError, type FlagSpec } from '../args.js';
import { seg } from './client.js';
import {
  areaFlag,
  cidrFlag,
  deleteAction,
  idFlag,
  listAction,
  nameFlag,
  showAction,
  type Group,
} from './command.js';
import { OUTPUT_FLAG, secretResult } from './secret-output.js';
import { cell, details, table } from './table.js';

// ---- rendering ----------------------------------------------------------------

const areaTable = (items: Area[]) =>
  table(
    items.map((a) => [a.name, String(a.regions.length), a.regions.join(' ')]),
    { header: ['NAME', 'REGIONS', 'REGION IDS'], empty: 'no areas' },
  );

const apTable = (items: AccessPoint[]) =>
  table(
    items.map((p) => [p.id, p.area, String(p.maxInstances), cell(p.endpoints)]),
    { header: ['ID', 'AREA', 'MAX-INSTANCES', 'ENDPOINTS'], empty: 'no access points' },
  );

const apDetails = (p: AccessPoint) =>
  details([
    ['id', p.id],
    ['area', p.area],
    ['endpoints', cell(p.endpoints)],
    ['max instances', String(p.maxInstances)],
    ['version', String(p.version)],
  ]);

const mbit = (n: number) => `${n} Mbit/s`;

export const instanceTable = (items: SagInstance[]) =>
  table(
    items.map((i) => [
      i.id,
      i.name,
      i.area,
      i.model,
      mbit(i.bandwidthMbps),
      i.state,
      cell(i.ccnId),
      cell(i.lanCidrs),
    ]),
    {
      header: ['ID', 'NAME', 'AREA', 'MODEL', 'BANDWIDTH', 'STATE', 'CCN', 'LAN CIDRS'],
      empty: 'no instances',
    },
  );

export const instanceDetails = (i: SagInstance) => {
  const main = details([
    ['id', i.id],
    ['name', i.name],
    ['area', i.area],
    ['model', i.model],
    ['bandwidth', mbit(i.bandwidthMbps)],
    ['state', i.state],
    ['ccn', cell(i.ccnId)],
    ['lan cidrs', cell(i.lanCidrs)],
    ['uplinks', cell(i.uplinks.map((u) => u.name))],
    ['version', String(i.version)],
  ]);
  if (i.uplinks.length === 0) return main;
  const uplinks = table(
    i.uplinks.map((u) => [
      u.name,
      u.kind,
      u.priority === -1 ? 'unused' : String(u.priority),
      String(u.weight),
    ]),
    {
      header: ['UPLINK', 'KIND', 'PRIORITY', 'WEIGHT'],
    },
  );
  return `${main}\n${uplinks}`;
};

// ---- uplink flag ---------------------------------------------------------------

/** Defaults for the parts an operator may leave out of --uplink: preferred, an equal share. */
const UPLINK_DEFAULT_PRIORITY = 1;
const UPLINK_DEFAULT_WEIGHT = 50;

/**
 * "NAME:KIND[:PRIORITY[:WEIGHT]]", e.g. "wan1:wired", "lte:lte:2", "wan2:wired:-1"
 * (configured, unused). Only the form is checked here; ranges are the model's to judge.
 */
export function parseUplink(raw: string, command: string): Uplink {
  const parts = raw.split(':');
  const [name, kind, priority, weight] = parts;
  const int = (s: string | undefined, fallback: number) =>
    s === undefined ? fallback : /^-?[0-9]+$/.test(s) ? Number(s) : NaN;
  const p = int(priority, UPLINK_DEFAULT_PRIORITY);
  const w = int(weight, UPLINK_DEFAULT_WEIGHT);
  if (
    parts.length < 2 ||
    parts.length > 4 ||
    !name ||
    (kind !== 'wired' && kind !== 'lte') ||
    Number.isNaN(p) ||
    Number.isNaN(w)
  ) {
    throw new UsageError(
      `--uplink ${JSON.stringify(raw)} must be NAME:KIND[:PRIORITY[:WEIGHT]] with KIND wired or lte, e.g. wan1:wired:1:50`,
      command,
    );
  }
  return { name, kind, priority: p, weight: w };
}

const uplinkFlag: FlagSpec = {
  name: 'uplink',
  kind: 'list',
  value: 'NAME:KIND[:PRIO[:WEIGHT]]',
  help: `uplink, KIND wired|lte, PRIO 1..50 lower preferred or -1 unused (default ${UPLINK_DEFAULT_PRIORITY}), WEIGHT 1..100 (default ${UPLINK_DEFAULT_WEIGHT})`,
};
const bandwidthFlag = (required: boolean): FlagSpec => ({
  name: 'bandwidth',
  kind: 'int',
  value: 'MBPS',
  help: 'bandwidth in Mbit/s',
  required,
});

// ---- commands ------------------------------------------------------------------

export const areaGroup: Group = {
  name: 'area',
  summary: 'areas (billing and routing domains, e.g. mainland, international)',
  actions: [listAction<Area>('areas', '/v1/areas', areaTable)],
};

const apPath = (id: string) => `/v1/access-points/${seg(id)}`;
const publicKeyFlag: FlagSpec = {
  name: 'public-key',
  kind: 'string',
  value: 'KEY',
  help: "the access point's WireGuard public key (sag pubkey < key)",
};

export const apGroup: Group = {
  name: 'ap',
  summary: 'access points, where SAG instances of an area terminate their tunnels (sag ap run runs one)',
  actions: [
    {
      name: 'create',
      summary: 'create an access point',
      flags: [
        idFlag('ap'),
        areaFlag,
        {
          name: 'endpoint',
          kind: 'list',
          value: 'IP:PORT',
          help: 'public endpoint, "a.b.c.d:port" or "[v6]:port"',
          required: true,
        },
        {
          name: 'max-instances',
          kind: 'int',
          value: 'N',
          help: 'the most SAG instances it terminates',
          required: true,
        },
        publicKeyFlag,
      ],
      run: async (api, a) => {
        const body = {
          ...(a.has('id') ? { id: a.string('id') } : {}),
          area: a.need('area'),
          endpoints: a.list('endpoint'),
          maxInstances: a.int('max-instances'),
          ...(a.has('public-key') ? { publicKey: a.string('public-key') } : {}),
        };
        const ap = await api.post<AccessPoint>('/v1/access-points', body);
        return { json: ap, human: apDetails(ap) };
      },
    },
    {
      name: 'update',
      summary: "change an access point's endpoints, capacity or WireGuard public key",
      positionals: [{ name: 'AP_ID', help: 'access point id' }],
      flags: [
        { name: 'endpoint', kind: 'list', value: 'IP:PORT', help: 'replaces the public endpoints' },
        { name: 'max-instances', kind: 'int', value: 'N', help: 'the most SAG instances it terminates' },
        publicKeyFlag,
      ],
      run: async (api, a) => {
        const body = {
          ...(a.has('endpoint') ? { endpoints: a.list('endpoint') } : {}),
          ...(a.has('max-instances') ? { maxInstances: a.int('max-instances') } : {}),
          ...(a.has('public-key') ? { publicKey: a.string('public-key') } : {}),
        };
        const ap = await api.patch<AccessPoint>(apPath(a.positionals[0] as string), body);
        return { json: ap, human: apDetails(ap) };
      },
    },
    {
      name: 'token',
      summary: 'issue the token `sag ap run` authenticates with; the old one stops working',
      positionals: [{ name: 'AP_ID', help: 'access point id' }],
      flags: [OUTPUT_FLAG],
      run: (api, a) => {
        const id = a.positionals[0] as string;
        return secretResult(a, {
          issue: async () => {
            const out = await api.post<{ token: string }>(`${apPath(id)}/token`);
            return { ...out, join: await api.joinString({ id, token: out.token }) };
          },
          secret: 'join',
          alsoSecret: ['token'],
          shown: (out) =>
            `The access point token is shown only this once; give it to sag ap run --token-file:\n\n  ${out.token}\n\n` +
            `or its join string (this controller's URL and CA fingerprint, the id and the token) to sag ap run --join-file:\n\n  ${out.join}\n`,
          written: (_out, file) =>
            `The access point's join string (controller URL, CA fingerprint, id and token) is in ${file} (mode 0600); give it to sag ap run --join-file ${file}\n`,
        });
      },
    },
    listAction<AccessPoint>('access points', '/v1/access-points', apTable),
    showAction<AccessPoint>('access point', 'AP_ID', apPath, apDetails),
    deleteAction('access point', 'AP_ID', apPath),
  ],
};

const instancePath = (id: string) => `/v1/instances/${seg(id)}`;

export const instanceGroup: Group = {
  name: 'instance',
  summary: 'SAG instances: a branch with its LANs and uplinks, served by one device',
  actions: [
    {
      name: 'create',
      summary: 'create a SAG instance',
      flags: [
        idFlag('sag'),
        nameFlag(),
        areaFlag,
        {
          name: 'model',
          kind: 'string',
          value: 'MODEL',
          help: 'hardware, vcpe or app; a device of the same model serves it',
          required: true,
        },
        bandwidthFlag(true),
        cidrFlag('LAN CIDR the branch announces'),
        uplinkFlag,
      ],
      run: async (api, a) => {
        const cmd = 'sag instance create';
        const body = {
          ...(a.has('id') ? { id: a.string('id') } : {}),
          name: a.need('name'),
          area: a.need('area'),
          model: a.need('model'),
          bandwidthMbps: a.int('bandwidth'),
          lanCidrs: a.list('cidr'),
          uplinks: a.list('uplink').map((u) => parseUplink(u, cmd)),
        };
        const instance = await api.post<SagInstance>('/v1/instances', body);
        return { json: instance, human: instanceDetails(instance) };
      },
    },
    listAction<SagInstance>('SAG instances', '/v1/instances', instanceTable),
    showAction<SagInstance>('SAG instance', 'INSTANCE_ID', instancePath, instanceDetails),
    {
      name: 'update',
      summary: 'change name, bandwidth, LAN CIDRs or uplinks; --cidr and --uplink replace the whole list',
      positionals: [{ name: 'INSTANCE_ID', help: 'the SAG instance' }],
      flags: [nameFlag(false), bandwidthFlag(false), cidrFlag('LAN CIDR the branch announces'), uplinkFlag],
      run: async (api, a) => {
        const cmd = 'sag instance update';
        const body = {
          ...(a.has('name') ? { name: a.string('name') } : {}),
          ...(a.has('bandwidth') ? { bandwidthMbps: a.int('bandwidth') } : {}),
          ...(a.has('cidr') ? { lanCidrs: a.list('cidr') } : {}),
          ...(a.has('uplink') ? { uplinks: a.list('uplink').map((u) => parseUplink(u, cmd)) } : {}),
        };
        if (Object.keys(body).length === 0)
          throw new UsageError('nothing to change: give --name, --bandwidth, --cidr or --uplink', cmd);
        const instance = await api.patch<SagInstance>(instancePath(a.positionals[0] as string), body);
        return { json: instance, human: instanceDetails(instance) };
      },
    },
    {
      name: 'offline',
      summary: 'mark an instance offline (e.g. before unbinding its device)',
      positionals: [{ name: 'INSTANCE_ID', help: 'the SAG instance' }],
      run: async (api, a) => {
        const instance = await api.post<SagInstance>(`${instancePath(a.positionals[0] as string)}/offline`);
        return { json: instance, human: instanceDetails(instance) };
      },
    },
    deleteAction('SAG instance', 'INSTANCE_ID', instancePath, ' (it must have no device and no CCN)'),
  ],
};
