/**
 * Routes for CCNs (and their members), CENs (attachments and bandwidth
 * grants) and VPC networks. Membership and attachment are sub-resources set with
 * PUT and removed with DELETE; both are idempotent like the model commands.
 */
import {
  ccnMembers,
  ccnRoutes,
  cenCcns,
  cenVpcs,
  get,
  type Ccn,
  type Cen,
  type SagInstance,
  type VpcNetwork,
} from '../model/index.js';
import { itemsOf, ref } from './entities.js';
import { command, createdId, written, type RouteDeps, type RouteSpec } from './route.js';
import { attachCcnParams, attachVpcParams, bodies, grantParams, idParams, memberParams } from './schemas.js';

export function networkRoutes(d: RouteDeps): RouteSpec[] {
  const p = (req: { params: Record<string, string> }, name: string) => req.params[name] as string;
  return [
    // ---- CCNs ----
    {
      method: 'GET',
      url: '/v1/ccns',
      operationId: 'listCcns',
      summary: 'List cloud connect networks',
      tag: 'ccns',
      auth: 'operator',
      status: 200,
      response: itemsOf('Ccn'),
      handler: async () => d.list('ccns'),
    },
    {
      method: 'POST',
      url: '/v1/ccns',
      operationId: 'createCcn',
      summary: 'Create a CCN (id generated if left out)',
      tag: 'ccns',
      auth: 'operator',
      body: bodies.ccnCreate,
      status: 201,
      response: ref('Ccn'),
      errors: [404, 409],
      handler: async (req) => {
        const out = await d.apply(req, command('ccn.create', req.body));
        return written<Ccn>(out.state, 'ccns', createdId(out.command));
      },
    },
    {
      method: 'GET',
      url: '/v1/ccns/:id',
      operationId: 'getCcn',
      summary: 'Get a CCN',
      tag: 'ccns',
      auth: 'operator',
      params: idParams,
      status: 200,
      response: ref('Ccn'),
      errors: [404],
      handler: async (req) => get.ccn(await d.state(), p(req, 'id')),
    },
    {
      method: 'PATCH',
      url: '/v1/ccns/:id',
      operationId: 'updateCcn',
      summary: "Change a CCN's name or CIDRs",
      tag: 'ccns',
      auth: 'operator',
      params: idParams,
      body: bodies.ccnUpdate,
      status: 200,
      response: ref('Ccn'),
      errors: [404, 409],
      handler: async (req) => {
        const out = await d.apply(req, command('ccn.update', req.body, { id: p(req, 'id') }));
        return written<Ccn>(out.state, 'ccns', p(req, 'id'));
      },
    },
    {
      method: 'DELETE',
      url: '/v1/ccns/:id',
      operationId: 'deleteCcn',
      summary: 'Delete a CCN with no members and no CEN',
      tag: 'ccns',
      auth: 'operator',
      params: idParams,
      status: 204,
      errors: [404, 409],
      handler: async (req) => d.apply(req, command('ccn.delete', { id: p(req, 'id') })),
    },
    {
      method: 'GET',
      url: '/v1/ccns/:id/members',
      operationId: 'listCcnMembers',
      summary: 'Instances that are members of a CCN',
      tag: 'ccns',
      auth: 'operator',
      params: idParams,
      status: 200,
      response: itemsOf('Instance'),
      errors: [404],
      handler: async (req) => {
        const state = await d.state();
        return { version: state.version, items: ccnMembers(state, get.ccn(state, p(req, 'id')).id) };
      },
    },
    {
      method: 'PUT',
      url: '/v1/ccns/:id/members/:instanceId',
      operationId: 'joinCcn',
      summary: 'Make an instance of the same area a member',
      tag: 'ccns',
      auth: 'operator',
      params: memberParams,
      status: 200,
      response: ref('Instance'),
      errors: [404, 409],
      handler: async (req) => {
        const out = await d.apply(
          req,
          command('ccn.join', { ccnId: p(req, 'id'), instanceId: p(req, 'instanceId') }),
        );
        return written<SagInstance>(out.state, 'instances', p(req, 'instanceId'));
      },
    },
    {
      method: 'DELETE',
      url: '/v1/ccns/:id/members/:instanceId',
      operationId: 'leaveCcn',
      summary: 'Remove an instance from a CCN',
      tag: 'ccns',
      auth: 'operator',
      params: memberParams,
      status: 200,
      response: ref('Instance'),
      errors: [404],
      handler: async (req) => {
        const out = await d.apply(
          req,
          command('ccn.leave', { ccnId: p(req, 'id'), instanceId: p(req, 'instanceId') }),
        );
        return written<SagInstance>(out.state, 'instances', p(req, 'instanceId'));
      },
    },
    {
      method: 'GET',
      url: '/v1/ccns/:id/routes',
      operationId: 'getCcnRoutes',
      summary: 'Every destination a CCN reaches',
      tag: 'ccns',
      auth: 'operator',
      params: idParams,
      status: 200,
      response: itemsOf('Route'),
      errors: [404],
      handler: async (req) => {
        const state = await d.state();
        return { version: state.version, items: ccnRoutes(state, p(req, 'id')) };
      },
    },

    // ---- CENs ----
    {
      method: 'GET',
      url: '/v1/cens',
      operationId: 'listCens',
      summary: 'List cloud enterprise networks',
      tag: 'cens',
      auth: 'operator',
      status: 200,
      response: itemsOf('Cen'),
      handler: async () => d.list('cens'),
    },
    {
      method: 'POST',
      url: '/v1/cens',
      operationId: 'createCen',
      summary: 'Create a CEN (id generated if left out)',
      tag: 'cens',
      auth: 'operator',
      body: bodies.cenCreate,
      status: 201,
      response: ref('Cen'),
      errors: [409],
      handler: async (req) => {
        const out = await d.apply(req, command('cen.create', req.body));
        return written<Cen>(out.state, 'cens', createdId(out.command));
      },
    },
    {
      method: 'GET',
      url: '/v1/cens/:id',
      operationId: 'getCen',
      summary: 'Get a CEN and its bandwidth grants',
      tag: 'cens',
      auth: 'operator',
      params: idParams,
      status: 200,
      response: ref('Cen'),
      errors: [404],
      handler: async (req) => get.cen(await d.state(), p(req, 'id')),
    },
    {
      method: 'PATCH',
      url: '/v1/cens/:id',
      operationId: 'updateCen',
      summary: 'Rename a CEN',
      tag: 'cens',
      auth: 'operator',
      params: idParams,
      body: bodies.cenUpdate,
      status: 200,
      response: ref('Cen'),
      errors: [404],
      handler: async (req) => {
        const out = await d.apply(req, command('cen.update', req.body, { id: p(req, 'id') }));
        return written<Cen>(out.state, 'cens', p(req, 'id'));
      },
    },
    {
      method: 'DELETE',
      url: '/v1/cens/:id',
      operationId: 'deleteCen',
      summary: 'Delete a CEN with nothing attached (its grants go with it)',
      tag: 'cens',
      auth: 'operator',
      params: idParams,
      status: 204,
      errors: [404, 409],
      handler: async (req) => d.apply(req, command('cen.delete', { id: p(req, 'id') })),
    },
    {
      method: 'GET',
      url: '/v1/cens/:id/attachments',
      operationId: 'getCenAttachments',
      summary: 'CCNs and VPCs attached to a CEN',
      tag: 'cens',
      auth: 'operator',
      params: idParams,
      status: 200,
      response: ref('CenAttachments'),
      errors: [404],
      handler: async (req) => {
        const state = await d.state();
        const cen = get.cen(state, p(req, 'id'));
        return { version: state.version, ccns: cenCcns(state, cen.id), vpcs: cenVpcs(state, cen.id) };
      },
    },
    {
      method: 'PUT',
      url: '/v1/cens/:id/ccns/:ccnId',
      operationId: 'attachCcn',
      summary: 'Attach a CCN to a CEN',
      tag: 'cens',
      auth: 'operator',
      params: attachCcnParams,
      status: 200,
      response: ref('Ccn'),
      errors: [404, 409],
      handler: async (req) => {
        const out = await d.apply(
          req,
          command('cen.attachCcn', { cenId: p(req, 'id'), ccnId: p(req, 'ccnId') }),
        );
        return written<Ccn>(out.state, 'ccns', p(req, 'ccnId'));
      },
    },
    {
      method: 'DELETE',
      url: '/v1/cens/:id/ccns/:ccnId',
      operationId: 'detachCcn',
      summary: 'Detach a CCN from a CEN',
      tag: 'cens',
      auth: 'operator',
      params: attachCcnParams,
      status: 200,
      response: ref('Ccn'),
      errors: [404],
      handler: async (req) => {
        const out = await d.apply(
          req,
          command('cen.detachCcn', { cenId: p(req, 'id'), ccnId: p(req, 'ccnId') }),
        );
        return written<Ccn>(out.state, 'ccns', p(req, 'ccnId'));
      },
    },
    {
      method: 'PUT',
      url: '/v1/cens/:id/vpcs/:vpcId',
      operationId: 'attachVpc',
      summary: 'Attach a VPC to a CEN',
      tag: 'cens',
      auth: 'operator',
      params: attachVpcParams,
      status: 200,
      response: ref('Vpc'),
      errors: [404, 409],
      handler: async (req) => {
        const out = await d.apply(
          req,
          command('cen.attachVpc', { cenId: p(req, 'id'), vpcId: p(req, 'vpcId') }),
        );
        return written<VpcNetwork>(out.state, 'vpcs', p(req, 'vpcId'));
      },
    },
    {
      method: 'DELETE',
      url: '/v1/cens/:id/vpcs/:vpcId',
      operationId: 'detachVpc',
      summary: 'Detach a VPC from a CEN',
      tag: 'cens',
      auth: 'operator',
      params: attachVpcParams,
      status: 200,
      response: ref('Vpc'),
      errors: [404],
      handler: async (req) => {
        const out = await d.apply(
          req,
          command('cen.detachVpc', { cenId: p(req, 'id'), vpcId: p(req, 'vpcId') }),
        );
        return written<VpcNetwork>(out.state, 'vpcs', p(req, 'vpcId'));
      },
    },
    {
      method: 'PUT',
      url: '/v1/cens/:id/grants/:areaA/:areaB',
      operationId: 'setGrant',
      summary: 'Create or replace the bandwidth grant between two areas',
      tag: 'cens',
      auth: 'operator',
      params: grantParams,
      body: bodies.grant,
      status: 200,
      response: ref('Cen'),
      errors: [404],
      handler: async (req) => {
        const areas = [p(req, 'areaA'), p(req, 'areaB')];
        const out = await d.apply(
          req,
          command('cen.setGrant', { cenId: p(req, 'id'), areas, mbps: req.body['mbps'] }),
        );
        return written<Cen>(out.state, 'cens', p(req, 'id'));
      },
    },
    {
      method: 'DELETE',
      url: '/v1/cens/:id/grants/:areaA/:areaB',
      operationId: 'removeGrant',
      summary: 'Remove the bandwidth grant between two areas',
      tag: 'cens',
      auth: 'operator',
      params: grantParams,
      status: 200,
      response: ref('Cen'),
      errors: [404],
      handler: async (req) => {
        const out = await d.apply(
          req,
          command('cen.removeGrant', { cenId: p(req, 'id'), areas: [p(req, 'areaA'), p(req, 'areaB')] }),
        );
        return written<Cen>(out.state, 'cens', p(req, 'id'));
      },
    },

    // ---- VPCs ----
    {
      method: 'GET',
      url: '/v1/vpcs',
      operationId: 'listVpcs',
      summary: 'List VPC networks',
      tag: 'vpcs',
      auth: 'operator',
      status: 200,
      response: itemsOf('Vpc'),
      handler: async () => d.list('vpcs'),
    },
    {
      method: 'POST',
      url: '/v1/vpcs',
      operationId: 'createVpc',
      summary: 'Create a VPC network (id generated if left out)',
      tag: 'vpcs',
      auth: 'operator',
      body: bodies.vpcCreate,
      status: 201,
      response: ref('Vpc'),
      errors: [404, 409],
      handler: async (req) => {
        const out = await d.apply(req, command('vpc.create', req.body));
        return written<VpcNetwork>(out.state, 'vpcs', createdId(out.command));
      },
    },
    {
      method: 'GET',
      url: '/v1/vpcs/:id',
      operationId: 'getVpc',
      summary: 'Get a VPC network',
      tag: 'vpcs',
      auth: 'operator',
      params: idParams,
      status: 200,
      response: ref('Vpc'),
      errors: [404],
      handler: async (req) => get.vpc(await d.state(), p(req, 'id')),
    },
    {
      method: 'PATCH',
      url: '/v1/vpcs/:id',
      operationId: 'updateVpc',
      summary: "Change a VPC's name or CIDRs",
      tag: 'vpcs',
      auth: 'operator',
      params: idParams,
      body: bodies.vpcUpdate,
      status: 200,
      response: ref('Vpc'),
      errors: [404, 409],
      handler: async (req) => {
        const out = await d.apply(req, command('vpc.update', req.body, { id: p(req, 'id') }));
        return written<VpcNetwork>(out.state, 'vpcs', p(req, 'id'));
      },
    },
    {
      method: 'DELETE',
      url: '/v1/vpcs/:id',
      operationId: 'deleteVpc',
      summary: 'Delete a VPC not attached to a CEN',
      tag: 'vpcs',
      auth: 'operator',
      params: idParams,
      status: 204,
      errors: [404, 409],
      handler: async (req) => d.apply(req, command('vpc.delete', { id: p(req, 'id') })),
    },
  ];
}
