/** `sag ccn`, `sag cen` and `sag vpc`: the networks instances join and the enterprise networks joining them. */
import type { Ccn, Cen, SagInstance, VpcNetwork } from '../../controller/model/index.js';
import { UsageError, type FlagSpec, type ParsedArgs } from '../args.js';
import { seg } from './client.js';
import {
  areaFlag,
  cidrFlag,
  deleteAction,
  idFlag,
  listAction,
  nameFlag,
  showAction,
  type Action,
  type Group,
  type ListOf,
} from './command.js';
import { instanceTable } from './commands-edge.js';
import { cell, details, table } from './table.js';

// ---- rendering ----------------------------------------------------------------

const ccnTable = (items: Ccn[]) =>
  table(
    items.map((c) => [c.id, c.name, c.area, cell(c.cenId), cell(c.cidrs)]),
    { header: ['ID', 'NAME', 'AREA', 'CEN', 'CIDRS'], empty: 'no CCNs' },
  );

const ccnDetails = (c: Ccn) =>
  details([
    ['id', c.id],
    ['name', c.name],
    ['area', c.area],
    ['cidrs', cell(c.cidrs)],
    ['cen', cell(c.cenId)],
    ['version', String(c.version)],
  ]);

const grantText = (c: Cen) =>
  c.grants.map((g) => `${g.areas[0]}<->${g.areas[1]} ${g.mbps} Mbit/s`).join(', ');
const cenTable = (items: Cen[]) =>
  table(
    items.map((c) => [c.id, c.name, cell(grantText(c))]),
    { header: ['ID', 'NAME', 'GRANTS'], empty: 'no CENs' },
  );
const cenDetails = (c: Cen) => {
  const main = details([
    ['id', c.id],
    ['name', c.name],
    ['version', String(c.version)],
  ]);
  const grants = table(
    c.grants.map((g) => [g.areas[0], g.areas[1], `${g.mbps} Mbit/s`]),
    { header: ['AREA', 'AREA', 'GRANT'], empty: 'no bandwidth grants' },
  );
  return `${main}\n${grants}`;
};

const vpcTable = (items: VpcNetwork[]) =>
  table(
    items.map((v) => [v.id, v.name, v.region, cell(v.cenId), cell(v.cidrs)]),
    { header: ['ID', 'NAME', 'REGION', 'CEN', 'CIDRS'], empty: 'no VPCs' },
  );
const vpcDetails = (v: VpcNetwork) =>
  details([
    ['id', v.id],
    ['name', v.name],
    ['region', v.region],
    ['cidrs', cell(v.cidrs)],
    ['cen', cell(v.cenId)],
    ['version', String(v.version)],
  ]);

const chosenId = (a: ParsedArgs) => (a.has('id') ? { id: a.string('id') } : {});

// ---- CCN -----------------------------------------------------------------------

const ccnPath = (id: string) => `/v1/ccns/${seg(id)}`;
const CCN_ID = { name: 'CCN_ID', help: 'the CCN' };
const instanceFlag: FlagSpec = {
  name: 'instance',
  kind: 'string',
  value: 'INSTANCE_ID',
  help: 'the SAG instance',
  required: true,
};

function membership(name: 'join' | 'leave'): Action {
  return {
    name,
    summary:
      name === 'join'
        ? 'make a SAG instance of the same area a member'
        : 'remove a SAG instance from the CCN',
    positionals: [CCN_ID],
    flags: [instanceFlag],
    run: async (api, a) => {
      const [ccn, instance] = [a.positionals[0] as string, a.need('instance')];
      const path = `${ccnPath(ccn)}/members/${seg(instance)}`;
      const out = name === 'join' ? await api.put<SagInstance>(path) : await api.delete<SagInstance>(path);
      return { json: out, human: `instance ${instance} ${name === 'join' ? 'joined' : 'left'} ccn ${ccn}\n` };
    },
  };
}

export const ccnGroup: Group = {
  name: 'ccn',
  summary: 'cloud connect networks: SAG instances of one area and the private CIDRs they share',
  actions: [
    {
      name: 'create',
      summary: 'create a CCN',
      flags: [idFlag('ccn'), nameFlag(), areaFlag, cidrFlag('private CIDR of the CCN, at most 5')],
      run: async (api, a) => {
        const ccn = await api.post<Ccn>('/v1/ccns', {
          ...chosenId(a),
          name: a.need('name'),
          area: a.need('area'),
          cidrs: a.list('cidr'),
        });
        return { json: ccn, human: ccnDetails(ccn) };
      },
    },
    listAction<Ccn>('CCNs', '/v1/ccns', ccnTable),
    {
      ...showAction<Ccn>('CCN', 'CCN_ID', ccnPath, ccnDetails),
      // Members are what a person looks for in a CCN; --json keeps the API's entity as is.
      run: async (api, a) => {
        const id = a.positionals[0] as string;
        const ccn = await api.get<Ccn>(ccnPath(id));
        const members = await api.get<ListOf<SagInstance>>(`${ccnPath(id)}/members`);
        return {
          json: ccn,
          human: `${ccnDetails(ccn)}\n${members.items.length ? instanceTable(members.items) : 'no members\n'}`,
        };
      },
    },
    membership('join'),
    membership('leave'),
    deleteAction('CCN', 'CCN_ID', ccnPath, ' (it must have no members and no CEN)'),
  ],
};

// ---- CEN -----------------------------------------------------------------------

const cenPath = (id: string) => `/v1/cens/${seg(id)}`;
const CEN_ID = { name: 'CEN_ID', help: 'the CEN' };

/** Attach and detach take exactly one of --ccn and --vpc: two sub-resources, one verb. */
function attachment(name: 'attach' | 'detach'): Action {
  const cmd = `sag cen ${name}`;
  return {
    name,
    summary: `${name} a CCN or a VPC ${name === 'attach' ? 'to' : 'from'} a CEN`,
    positionals: [CEN_ID],
    flags: [
      { name: 'ccn', kind: 'string', value: 'CCN_ID', help: `the CCN to ${name}` },
      { name: 'vpc', kind: 'string', value: 'VPC_ID', help: `the VPC to ${name}` },
    ],
    run: async (api, a) => {
      const cen = a.positionals[0] as string;
      const [ccn, vpc] = [a.string('ccn'), a.string('vpc')];
      if ((ccn === undefined) === (vpc === undefined))
        throw new UsageError('give exactly one of --ccn and --vpc', cmd);
      const [kind, id] = ccn !== undefined ? ['ccn', ccn] : ['vpc', vpc as string];
      const path = `${cenPath(cen)}/${kind}s/${seg(id)}`;
      const out =
        name === 'attach' ? await api.put<Ccn | VpcNetwork>(path) : await api.delete<Ccn | VpcNetwork>(path);
      return {
        json: out,
        human: `${name === 'attach' ? 'attached' : 'detached'} ${kind} ${id} ${name === 'attach' ? 'to' : 'from'} cen ${cen}\n`,
      };
    },
  };
}

const areasFlag: FlagSpec = {
  name: 'area',
  kind: 'list',
  value: 'AREA',
  help: 'one of the two areas; give it twice',
  required: true,
};

function areaPair(a: ParsedArgs, cmd: string): [string, string] {
  const areas = a.list('area');
  if (areas.length !== 2)
    throw new UsageError(
      `a grant is between two areas: give --area exactly twice (got ${areas.length})`,
      cmd,
    );
  return [areas[0] as string, areas[1] as string];
}

export const cenGroup: Group = {
  name: 'cen',
  summary: 'cloud enterprise networks: join CCNs and VPCs, with bandwidth granted between areas',
  actions: [
    {
      name: 'create',
      summary: 'create a CEN',
      flags: [idFlag('cen'), nameFlag()],
      run: async (api, a) => {
        const cen = await api.post<Cen>('/v1/cens', { ...chosenId(a), name: a.need('name') });
        return { json: cen, human: cenDetails(cen) };
      },
    },
    listAction<Cen>('CENs', '/v1/cens', cenTable),
    {
      ...showAction<Cen>('CEN', 'CEN_ID', cenPath, cenDetails),
      run: async (api, a) => {
        const id = a.positionals[0] as string;
        const cen = await api.get<Cen>(cenPath(id));
        const att = await api.get<{ ccns: Ccn[]; vpcs: VpcNetwork[] }>(`${cenPath(id)}/attachments`);
        return { json: cen, human: `${cenDetails(cen)}\n${ccnTable(att.ccns)}\n${vpcTable(att.vpcs)}` };
      },
    },
    attachment('attach'),
    attachment('detach'),
    {
      name: 'grant',
      summary: 'create or replace the bandwidth grant between two areas',
      positionals: [CEN_ID],
      flags: [
        areasFlag,
        {
          name: 'bandwidth',
          kind: 'int',
          value: 'MBPS',
          help: 'granted bandwidth in Mbit/s',
          required: true,
        },
      ],
      run: async (api, a) => {
        const [x, y] = areaPair(a, 'sag cen grant');
        const cen = await api.put<Cen>(`${cenPath(a.positionals[0] as string)}/grants/${seg(x)}/${seg(y)}`, {
          mbps: a.int('bandwidth'),
        });
        return { json: cen, human: cenDetails(cen) };
      },
    },
    {
      name: 'revoke',
      summary: 'remove the bandwidth grant between two areas',
      positionals: [CEN_ID],
      flags: [areasFlag],
      run: async (api, a) => {
        const [x, y] = areaPair(a, 'sag cen revoke');
        const cen = await api.delete<Cen>(
          `${cenPath(a.positionals[0] as string)}/grants/${seg(x)}/${seg(y)}`,
        );
        return { json: cen, human: cenDetails(cen) };
      },
    },
    deleteAction('CEN', 'CEN_ID', cenPath, ' (nothing may be attached; its grants go with it)'),
  ],
};

// ---- VPC -----------------------------------------------------------------------

const vpcPath = (id: string) => `/v1/vpcs/${seg(id)}`;

export const vpcGroup: Group = {
  name: 'vpc',
  summary: 'VPC networks in a cloud region, attachable to a CEN',
  actions: [
    {
      name: 'create',
      summary: 'create a VPC network',
      flags: [
        idFlag('vpc'),
        nameFlag(),
        {
          name: 'region',
          kind: 'string',
          value: 'REGION',
          help: 'cloud region, e.g. cn-hangzhou; its area follows from it',
          required: true,
        },
        { ...cidrFlag('CIDR of the VPC'), required: true },
      ],
      run: async (api, a) => {
        const vpc = await api.post<VpcNetwork>('/v1/vpcs', {
          ...chosenId(a),
          name: a.need('name'),
          region: a.need('region'),
          cidrs: a.list('cidr'),
        });
        return { json: vpc, human: vpcDetails(vpc) };
      },
    },
    listAction<VpcNetwork>('VPC networks', '/v1/vpcs', vpcTable),
    showAction<VpcNetwork>('VPC network', 'VPC_ID', vpcPath, vpcDetails),
    deleteAction('VPC network', 'VPC_ID', vpcPath, ' (it must not be attached to a CEN)'),
  ],
};
